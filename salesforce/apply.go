package salesforce

import (
	"context"
	"time"
)

// Batching defaults and limits.
const (
	maxBatchSize       = 200 // records of one sObject Collections update
	defaultMaxRunning  = 4   // batches at work at once
	batchTimeout       = 2 * time.Minute
	maxWriteConcurrent = 10 // write calls of one batch in flight at once: a whole append batch
)

// Apply writes s into the record whose lookup field (or else origin field)
// holds s.CallID, as the configured write mode says. Summaries applied at
// the same moment by any number of goroutines share batched Salesforce
// calls; Apply returns when the batch holding s is done with it, or when
// ctx ends. It prepares the client first if Prepare never succeeded.
// Errors are classified by ClassOf.
func (c *Client) Apply(ctx context.Context, s Summary) (Result, error) {
	if err := c.checkSummary(s); err != nil {
		return Result{}, err
	}
	if _, err := c.currentSchema(ctx); err != nil {
		return Result{}, err
	}
	j := newJob(ctx, s)
	c.batches.submit(j)
	select {
	case a := <-j.answer:
		return a.res, a.err
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

func (c *Client) checkSummary(s Summary) error {
	switch {
	case s.CallID == "":
		return &InvalidSummaryError{Problem: "call id is empty"}
	case c.cfg.WriteMode == Append && s.SummaryID == "":
		return &InvalidSummaryError{Problem: "summary id is empty"}
	}
	return nil
}

// item is one summary on its way through a batch.
type item struct {
	s    Summary
	rec  record // the record found for s.CallID
	res  Result
	err  error
	done bool
}

// finish settles the item; a success keeps the Truncated mark its plan set.
func (it *item) finish(res Result, err error) {
	if err == nil {
		res.Truncated = res.Truncated || it.res.Truncated
	}
	it.res, it.err, it.done = res, err, true
}

// runBatch applies a batch of jobs and answers each. Jobs whose caller has
// gone are dropped first. The batch runs on its own context: one caller
// leaving must not cut the others short.
func (c *Client) runBatch(jobs []*job) {
	live := jobs[:0:0]
	for _, j := range jobs {
		if err := j.ctx.Err(); err != nil {
			j.answer <- answer{err: err}
			continue
		}
		live = append(live, j)
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()

	items := make([]*item, len(live))
	for i, j := range live {
		items[i] = &item{s: j.summary}
	}
	c.applyAll(ctx, items)
	for i, j := range live {
		j.answer <- answer{res: items[i].res, err: items[i].err}
	}
}

// applyAll finds the records of items and writes their summaries, leaving
// every item done.
func (c *Client) applyAll(ctx context.Context, items []*item) {
	sch, err := c.currentSchema(ctx)
	if err != nil {
		finishOpen(items, Result{}, err)
		return
	}
	since := c.locks.now()
	c.findAll(ctx, sch, items)
	groups := groupByRecord(items)
	if c.cfg.WriteMode == Overwrite {
		c.overwriteAll(ctx, sch, groups)
		return
	}
	c.appendAll(ctx, sch, groups, since)
}

// finishOpen settles every item not yet done with res and err.
func finishOpen(items []*item, res Result, err error) {
	for _, it := range items {
		if !it.done {
			it.finish(res, err)
		}
	}
}

// recordGroup is the items of a batch bound for one record, in the order
// they were submitted.
type recordGroup struct {
	rec     record
	items   []*item
	lastErr error // why the last append round left the group open
}

// groupByRecord groups the items not yet done by the record found for
// them, in order of first appearance.
func groupByRecord(items []*item) []*recordGroup {
	var groups []*recordGroup
	byID := make(map[string]*recordGroup)
	for _, it := range items {
		if it.done {
			continue
		}
		g := byID[it.rec.id]
		if g == nil {
			g = &recordGroup{rec: it.rec}
			byID[it.rec.id] = g
			groups = append(groups, g)
		}
		g.items = append(g.items, it)
	}
	return groups
}

// fail finishes the group's open items with err.
func (g *recordGroup) fail(err error) {
	finishOpen(g.items, Result{}, err)
}

// open reports whether some item of the group is not done.
func (g *recordGroup) open() bool {
	for _, it := range g.items {
		if !it.done {
			return true
		}
	}
	return false
}
