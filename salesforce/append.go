package salesforce

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// maxAppendAttempts bounds the write rounds of one append batch: records
// whose conditional write was refused with 412, or whose blocks were gone
// on reading back, are written again from what was read.
const maxAppendAttempts = 5

// errNotConfirmed means a write succeeded but a block was missing when the
// record was read back: another process wrote in the same second.
var errNotConfirmed = errors.New("salesforce: appended block missing when read back")

// appendAll appends the blocks of every group to its record. It holds the
// records' locks throughout, so that no other batch of this process
// writes them in between; records another batch wrote since the lookup
// read them are read again first.
func (c *Client) appendAll(ctx context.Context, sch *schema, groups []*recordGroup, since uint64) {
	ids := make([]string, len(groups))
	for i, g := range groups {
		ids[i] = g.rec.id
	}
	release, err := c.locks.acquireAll(ctx, ids)
	if err != nil {
		for _, g := range groups {
			g.fail(fmt.Errorf("wait for %s %s: %w", sch.object, g.rec.id, err))
		}
		return
	}
	defer release()

	c.refreshStale(ctx, sch, groups, since)
	pending := openGroups(groups)
	for range maxAppendAttempts {
		if len(pending) == 0 {
			return
		}
		var writes []appendWrite
		for _, g := range pending {
			if w, ok := planAppend(sch, c.cfg.TooLong, g); ok {
				writes = append(writes, w)
			}
		}
		pending = c.writeAppends(ctx, sch, writes)
	}
	for _, g := range pending {
		g.fail(fmt.Errorf("append to %s %s: %d attempts: %w",
			sch.object, g.rec.id, maxAppendAttempts, g.lastErr))
	}
}

func openGroups(groups []*recordGroup) []*recordGroup {
	var out []*recordGroup
	for _, g := range groups {
		if g.open() {
			out = append(out, g)
		}
	}
	return out
}

// refreshStale reads again the records whose value may be older than the
// last write of this process, or whose answer lacked the target or
// LastModifiedDate.
func (c *Client) refreshStale(ctx context.Context, sch *schema, groups []*recordGroup,
	since uint64) {
	var stale []*recordGroup
	for _, g := range groups {
		if c.locks.writtenSince(g.rec.id, since) || !g.rec.targetKnown || g.rec.lastModified.IsZero() {
			stale = append(stale, g)
		}
	}
	if len(stale) == 0 {
		return
	}
	ids := make([]string, len(stale))
	for i, g := range stale {
		ids[i] = g.rec.id
	}
	recs, err := c.readRecords(ctx, sch, ids)
	for i, g := range stale {
		switch {
		case err != nil:
			g.fail(fmt.Errorf("read %s %s: %w", sch.object, g.rec.id, err))
		case recs[i] == nil:
			g.fail(fmt.Errorf("read %s %s: %w", sch.object, g.rec.id, errGone))
		default:
			g.rec = *recs[i]
		}
	}
}

// errGone means a record found by the lookup could not be read back; the
// next attempt looks it up afresh. It is transient.
var errGone = errors.New("salesforce: record no longer readable")

// appendWrite is the value sent to one record in one round.
type appendWrite struct {
	group  *recordGroup
	value  string
	adding []*item // the items whose blocks value adds
}

// planAppend works out the new value of a group's record: the blocks of
// its open items, in order, after what the record holds. An item whose
// block is there already is done; one whose block would overflow the field
// meets the too-long policy, as if the items had been appended one after
// another.
func planAppend(sch *schema, policy TooLongPolicy, g *recordGroup) (appendWrite, bool) {
	if g.rec.lastModified.IsZero() {
		g.fail(fmt.Errorf("append to %s %s: no LastModifiedDate", sch.object, g.rec.id))
		return appendWrite{}, false
	}
	w := appendWrite{group: g, value: g.rec.target}
	planned := make(map[string]bool)
	for _, it := range g.items {
		marker := Marker(it.s.SummaryID)
		switch {
		case it.done || planned[marker]:
			continue // a repeat of a planned block is settled with it
		case strings.Contains(g.rec.target, marker):
			it.finish(Result{RecordID: g.rec.id, AlreadyApplied: true}, nil)
			continue
		}
		next, truncated, err := fitBlock(sch, policy, w.value, it.s, planned)
		if err != nil {
			it.finish(Result{}, err)
			continue
		}
		w.value = next
		w.adding = append(w.adding, it)
		it.res.Truncated = truncated
		planned[marker] = true
	}
	return w, len(w.adding) > 0
}

// fitBlock returns value with s's block appended, within the field's
// length as policy allows: the oldest blocks not in keep dropped, or the
// summary cut. It reports whether anything was dropped or cut; a block
// that cannot be made to fit is a *TooLongError.
func fitBlock(sch *schema, policy TooLongPolicy, value string, s Summary,
	keep map[string]bool) (string, bool, error) {
	next := joinBlocks(value, Block(s))
	if Length(next) <= sch.targetLength {
		return next, false, nil
	}
	tooLong := &TooLongError{Field: sch.target, Length: Length(next), Max: sch.targetLength}
	switch policy {
	case TruncateOldest:
		dropped := false
		for Length(next) > sch.targetLength {
			var ok bool
			if value, ok = dropOldestBlock(value, keep); !ok {
				return "", false, tooLong
			}
			dropped = true
			next = joinBlocks(value, Block(s))
		}
		return next, dropped, nil
	case TruncateSummary:
		header := joinBlocks(value, Block(Summary{SummaryID: s.SummaryID, OccurredAt: s.OccurredAt}))
		text, _, ok := fitText(defuseMarkers(s.Text), sch.targetLength-Length(header))
		if !ok {
			return "", false, tooLong
		}
		s.Text = text
		return joinBlocks(value, Block(s)), true, nil
	}
	return "", false, tooLong
}

// joinBlocks appends block to old, separated by a blank line.
func joinBlocks(old, block string) string {
	if old == "" {
		return block
	}
	return old + "\n\n" + block
}

// writeAppends sends the writes in composite requests of up to
// maxCompositeWrites conditional PATCHes and one read-back, and returns
// the groups that need another round.
func (c *Client) writeAppends(ctx context.Context, sch *schema,
	writes []appendWrite) []*recordGroup {
	var (
		mu    sync.Mutex
		again []*recordGroup
		eg    errgroup.Group
	)
	eg.SetLimit(maxWriteConcurrent)
	for start := 0; start < len(writes); start += maxCompositeWrites {
		chunk := writes[start:min(start+maxCompositeWrites, len(writes))]
		eg.Go(func() error {
			retry := c.writeChunk(ctx, sch, chunk)
			mu.Lock()
			defer mu.Unlock()
			again = append(again, retry...)
			return nil
		})
	}
	_ = eg.Wait() // each chunk reports through its groups
	return again
}

// writeChunk sends one composite request for chunk and settles each
// group from its write and the read-back; it returns the groups to write
// again.
func (c *Client) writeChunk(ctx context.Context, sch *schema, chunk []appendWrite) []*recordGroup {
	outcomes, err := c.conditionalWrites(ctx, sch, chunk)
	if err != nil {
		for _, w := range chunk {
			w.group.fail(fmt.Errorf("append to %s %s: %w", sch.object, w.group.rec.id, err))
		}
		return nil
	}
	var again []*recordGroup
	for i, w := range chunk {
		if settleAppend(sch, w, outcomes[i]) {
			again = append(again, w.group)
		}
	}
	return again
}

// writeOutcome is what became of one conditional write: the error of the
// PATCH (nil when it succeeded) and the record as read back afterwards
// (nil when it could not be read).
type writeOutcome struct {
	err   *APIError
	fresh *record
}

// settleAppend finishes the group's items from the outcome and reports
// whether the group needs another round.
func settleAppend(sch *schema, w appendWrite, out writeOutcome) bool {
	g := w.group
	id := g.rec.id
	switch {
	case out.err != nil && out.err.Status != http.StatusPreconditionFailed:
		failWrite(sch, w, out.err)
		return false
	case out.fresh == nil:
		g.fail(fmt.Errorf("append to %s %s: %w", sch.object, id, errGone))
		return false
	}
	g.rec = *out.fresh
	if out.err != nil {
		g.lastErr = out.err
		return true
	}
	for _, it := range g.items {
		if it.done || !strings.Contains(g.rec.target, Marker(it.s.SummaryID)) {
			continue
		}
		it.finish(Result{RecordID: id, AlreadyApplied: !slices.Contains(w.adding, it)}, nil)
	}
	g.lastErr = errNotConfirmed
	return g.open()
}

// failWrite finishes the group of a write Salesforce refused. When the
// write carried several summaries and the refusal is permanent (a value
// too long in bytes, a validation rule), each summary is retried alone:
// written one after another, some might have fitted.
func failWrite(sch *schema, w appendWrite, apiErr *APIError) {
	err := fmt.Errorf("append to %s %s: %w", sch.object, w.group.rec.id, apiErr)
	if len(w.adding) > 1 && ClassOf(err) == Permanent {
		err = fmt.Errorf("append to %s %s: written together with other summaries, which "+
			"failed (%s): %w", sch.object, w.group.rec.id, apiErr.Code, errRetryAlone)
	}
	w.group.fail(err)
}

// conditionalWrites runs chunk's PATCHes, each on condition that the
// record is unmodified since it was read, then reads every record back,
// all in one composite request: one API call. Subrequests run in order
// (collateSubrequests false) and independently (allOrNone false).
func (c *Client) conditionalWrites(ctx context.Context, sch *schema, chunk []appendWrite) (
	[]writeOutcome, error) {
	subs := make([]subrequest, 0, len(chunk)+1)
	ids := make([]string, len(chunk))
	read := make([]time.Time, len(chunk))
	for i, w := range chunk {
		ids[i] = w.group.rec.id
		read[i] = w.group.rec.lastModified
		subs = append(subs, c.patchSubrequest(sch, w, i))
	}
	subs = append(subs, c.readSubrequest(sch, ids))
	if err := c.waitPastSecond(ctx, read); err != nil {
		return nil, err
	}

	results, err := c.composite(ctx, subs)
	for _, id := range ids {
		c.locks.wrote(id)
	}
	if err != nil {
		return nil, err
	}
	fresh, err := readBack(sch, results[len(chunk)], len(chunk))
	if err != nil {
		return nil, fmt.Errorf("read back: %w", err)
	}
	outcomes := make([]writeOutcome, len(chunk))
	for i := range chunk {
		outcomes[i] = writeOutcome{err: results[i].apiError(), fresh: fresh[i]}
	}
	return outcomes, nil
}

func (c *Client) patchSubrequest(sch *schema, w appendWrite, i int) subrequest {
	since := w.group.rec.lastModified.UTC().Format(http.TimeFormat)
	return subrequest{
		Method:      http.MethodPatch,
		URL:         c.dataPath("sobjects/" + sch.object + "/" + w.group.rec.id),
		ReferenceID: fmt.Sprintf("write%d", i),
		Body:        map[string]string{sch.target: w.value},
		HTTPHeaders: map[string]string{"If-Unmodified-Since": since},
	}
}

func (c *Client) readSubrequest(sch *schema, ids []string) subrequest {
	return subrequest{
		Method:      http.MethodGet,
		URL:         c.dataPath(retrievePath(sch, ids)),
		ReferenceID: "readBack",
	}
}

// readBack decodes the read-back subresult: one record per id, nil where
// the record is gone.
func readBack(sch *schema, res subresult, want int) ([]*record, error) {
	if res.HTTPStatusCode != http.StatusOK {
		return nil, res.apiError()
	}
	return decodeRecords(sch, res.Body, want)
}

// Length counts characters as Salesforce does, in UTF-16 code units: a
// character outside the Basic Multilingual Plane counts as two.
func Length(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r > 0xFFFF {
			n++
		}
	}
	return n
}
