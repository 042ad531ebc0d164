package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"golang.org/x/sync/errgroup"
)

// overwriteAll writes the summaries of groups, up to 200 records a call,
// through sObject Collections with allOrNone false, so that one record's
// failure touches only its own items.
func (c *Client) overwriteAll(ctx context.Context, sch *schema, groups []*recordGroup) {
	var writes []overwrite
	for _, g := range groups {
		if w, ok := planOverwrite(sch, c.cfg.TooLong, g); ok {
			writes = append(writes, w)
		}
	}
	var eg errgroup.Group
	eg.SetLimit(maxWriteConcurrent)
	for start := 0; start < len(writes); start += maxBatchSize {
		chunk := writes[start:min(start+maxBatchSize, len(writes))]
		eg.Go(func() error {
			c.updateRecords(ctx, sch, chunk)
			return nil
		})
	}
	_ = eg.Wait() // each chunk reports through its items
}

// overwrite is the value sent to one record for one group.
type overwrite struct {
	group *recordGroup
	value *item // the item whose text is written
}

// planOverwrite picks the text a record receives: that of the last item
// whose text fits the field, or can be cut to fit when the policy allows,
// as if the items had been written one after another. Items whose text is
// too long fail alone.
func planOverwrite(sch *schema, policy TooLongPolicy, g *recordGroup) (overwrite, bool) {
	var chosen *item
	for _, it := range g.items {
		text, cut, ok := fitText(it.s.Text, sch.targetLength)
		if cut && policy == Reject || !ok {
			it.finish(Result{}, &TooLongError{
				Field: sch.target, Length: Length(it.s.Text), Max: sch.targetLength})
			continue
		}
		it.s.Text, it.res.Truncated = text, cut
		chosen = it
	}
	return overwrite{group: g, value: chosen}, chosen != nil
}

// collectionRecord is one record of a collections update.
type collectionRecord map[string]any

// saveResult is the per-record answer of a collections write.
type saveResult struct {
	ID      string        `json:"id"`
	Success bool          `json:"success"`
	Errors  []recordError `json:"errors"`
}

// recordError is an error of one record in a collections answer; it names
// its code statusCode, not errorCode.
type recordError struct {
	StatusCode string   `json:"statusCode"`
	Message    string   `json:"message"`
	Fields     []string `json:"fields"`
}

// updateRecords sends one collections PATCH and settles the items of each
// record from its result.
func (c *Client) updateRecords(ctx context.Context, sch *schema, writes []overwrite) {
	records := make([]collectionRecord, len(writes))
	for i, w := range writes {
		records[i] = collectionRecord{
			"attributes": map[string]string{"type": sch.object},
			"id":         w.group.rec.id,
			sch.target:   w.value.s.Text,
		}
	}
	results, err := c.patchCollection(ctx, records)
	for i, w := range writes {
		switch {
		case err != nil:
			w.group.fail(fmt.Errorf("update %s %s: %w", sch.object, w.group.rec.id, err))
		case i >= len(results):
			w.group.fail(fmt.Errorf("update %s %s: no result for the record", sch.object, w.group.rec.id))
		default:
			settleOverwrite(sch, w, results[i])
		}
	}
}

// patchCollection sends records in one sObject Collections update.
func (c *Client) patchCollection(ctx context.Context, records []collectionRecord) ([]saveResult, error) {
	resp, err := c.do(ctx, request{
		method: http.MethodPatch,
		path:   "composite/sobjects",
		body:   map[string]any{"allOrNone": false, "records": records},
	})
	if err != nil {
		return nil, err
	}
	if resp.status != http.StatusOK {
		return nil, resp.apiError()
	}
	var results []saveResult
	if err := json.Unmarshal(resp.body, &results); err != nil {
		return nil, fmt.Errorf("decode results: %w", err)
	}
	return results, nil
}

// settleOverwrite finishes a group from its record's result. The items
// before the chosen one were overwritten by it: they share its success.
// When the chosen text fails for good, the others are retried alone,
// since their own text may well be fine.
func settleOverwrite(sch *schema, w overwrite, r saveResult) {
	id := w.group.rec.id
	if r.Success {
		finishOpen(w.group.items, Result{RecordID: id}, nil)
		return
	}
	err := fmt.Errorf("update %s %s: %w", sch.object, id, r.apiError())
	w.value.finish(Result{}, err)
	if ClassOf(err) == Permanent {
		err = fmt.Errorf("update %s %s: written together with a summary that failed: %w",
			sch.object, id, errRetryAlone)
	}
	w.group.fail(err)
}

// errRetryAlone marks an item that failed only because another item's
// value failed in the same write; it is transient.
var errRetryAlone = errors.New("salesforce: retry alone")

// apiError turns a failed record result into an *APIError. The HTTP status
// of a collections answer is 200 whatever the record's fate, so 400 stands
// for it; classification goes by the code.
func (r saveResult) apiError() *APIError {
	e := &APIError{Status: http.StatusBadRequest, Message: "record not saved"}
	if len(r.Errors) > 0 {
		setRestError(e, restError{
			Message: r.Errors[0].Message, ErrorCode: r.Errors[0].StatusCode, Fields: r.Errors[0].Fields})
	}
	return e
}
