package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
)

// Limits of batched lookups.
const (
	// queryBudget bounds the URL-encoded q parameter of one query, so that
	// the request URI stays under the 16 KiB the front end accepts.
	queryBudget = 14000
	// maxQueryPages bounds the pages followed for one query; a batch of
	// 200 call ids fills one page unless the org holds many duplicates.
	maxQueryPages = 20
	// maxQueriesAtOnce bounds the queries of one lookup in flight.
	maxQueriesAtOnce = 4
)

// match is what a lookup found for one call id: its one record, or an
// error (several records, an id that cannot be looked up, a failed call).
type match struct {
	rec record
	err error
}

// findAll finds the record of every open item: on the lookup field, then
// on the origin field for the call ids still unmatched. An item that
// finds nothing, or fails, is done with its error.
func (c *Client) findAll(ctx context.Context, sch *schema, items []*item) {
	ids := callIDs(items)
	found := c.findBy(ctx, sch, sch.lookup, ids)
	fields := []string{sch.lookup.name}
	if sch.origin != nil {
		if missing := unmatched(ids, found); len(missing) > 0 {
			for id, m := range c.findBy(ctx, sch, *sch.origin, missing) {
				found[id] = m
			}
		}
		fields = append(fields, sch.origin.name)
	}
	for _, it := range items {
		m, ok := found[it.s.CallID]
		switch {
		case !ok:
			it.finish(Result{}, &NotFoundError{Object: sch.object, Fields: fields, CallID: it.s.CallID})
		case m.err != nil:
			it.finish(Result{}, m.err)
		default:
			it.rec = m.rec
		}
	}
}

// callIDs returns the distinct call ids of the open items, in order.
func callIDs(items []*item) []string {
	seen := make(map[string]bool, len(items))
	var ids []string
	for _, it := range items {
		if !it.done && !seen[it.s.CallID] {
			seen[it.s.CallID] = true
			ids = append(ids, it.s.CallID)
		}
	}
	return ids
}

func unmatched(ids []string, found map[string]match) []string {
	var out []string
	for _, id := range ids {
		if _, ok := found[id]; !ok {
			out = append(out, id)
		}
	}
	return out
}

// findBy looks ids up on field f. A lone id on an External ID field goes
// through the External ID endpoint when it can travel in a path; anything
// else shares SOQL queries, as few as the limits on URL and literal length
// allow. Ids missing from the answer matched no record.
func (c *Client) findBy(ctx context.Context, sch *schema, f lookupField, ids []string) map[string]match {
	found := make(map[string]match, len(ids))
	if len(ids) == 1 && f.externalID && pathSafe(ids[0]) {
		rec, ok, err := c.findByExternalID(ctx, sch, f.name, ids[0])
		if ok || err != nil {
			found[ids[0]] = match{rec: rec, err: err}
		}
		return found
	}

	chunks, refused := chunkLiterals(ids)
	for id, err := range refused {
		found[id] = match{err: err}
	}
	var mu sync.Mutex
	var g errgroup.Group
	g.SetLimit(maxQueriesAtOnce)
	for _, chunk := range chunks {
		g.Go(func() error {
			part := c.queryChunk(ctx, sch, f, chunk)
			mu.Lock()
			defer mu.Unlock()
			for id, m := range part {
				found[id] = m
			}
			return nil
		})
	}
	_ = g.Wait() // every chunk reports through found
	return found
}

// chunkLiterals splits ids into groups whose quoted, escaped and
// URL-encoded literals fit one query. Ids that no query can carry are
// refused with an *InvalidSummaryError.
func chunkLiterals(ids []string) ([][]string, map[string]error) {
	var chunks [][]string
	refused := make(map[string]error)
	var cur []string
	used := 0
	for _, id := range ids {
		if n := Length(id); n > maxLiteral {
			refused[id] = &InvalidSummaryError{Problem: fmt.Sprintf(
				"call id has %d characters, more than a SOQL literal holds (%d)", n, maxLiteral)}
			continue
		}
		cost := len(url.QueryEscape(quoteSOQL(id) + ","))
		if cost > queryBudget {
			refused[id] = &InvalidSummaryError{Problem: fmt.Sprintf(
				"call id takes %d bytes in a query URL, more than fit (%d)", cost, queryBudget)}
			continue
		}
		if len(cur) > 0 && (used+cost > queryBudget || len(cur) == maxBatchSize) {
			chunks = append(chunks, cur)
			cur, used = nil, 0
		}
		cur = append(cur, id)
		used += cost
	}
	if len(cur) > 0 {
		chunks = append(chunks, cur)
	}
	return chunks, refused
}

func quoteSOQL(s string) string { return "'" + EscapeSOQL(s) + "'" }

// selectQuery returns the SOQL that finds the records whose field f holds
// one of ids. It selects f to tell the rows apart, and, for appending, the
// target and LastModifiedDate. A single id is compared with "=" and
// LIMIT 2, enough to tell one match from several.
func (c *Client) selectQuery(sch *schema, f lookupField, ids []string) string {
	fields := []string{"Id", f.name}
	if c.cfg.WriteMode == Append {
		fields = append(fields, sch.target, "LastModifiedDate")
	}
	head := "SELECT " + strings.Join(distinctFold(fields), ", ") + " FROM " + sch.object +
		" WHERE " + f.name
	if len(ids) == 1 {
		return head + " = " + quoteSOQL(ids[0]) + " LIMIT 2"
	}
	quoted := make([]string, len(ids))
	for i, id := range ids {
		quoted[i] = quoteSOQL(id)
	}
	return head + " IN (" + strings.Join(quoted, ", ") + ")"
}

// distinctFold drops names that repeat an earlier one in another case;
// SOQL refuses a field selected twice.
func distinctFold(names []string) []string {
	var out []string
	for _, n := range names {
		dup := false
		for _, o := range out {
			dup = dup || strings.EqualFold(n, o)
		}
		if !dup {
			out = append(out, n)
		}
	}
	return out
}

// queryChunk runs one query for ids and assigns its rows to them. When
// some row matches none of several ids as this client compares values
// (Salesforce folds case by the user's locale), the ids left without a
// record are asked again one by one, so that no record is missed.
func (c *Client) queryChunk(ctx context.Context, sch *schema, f lookupField, ids []string) map[string]match {
	rows, err := c.queryAll(ctx, c.selectQuery(sch, f, ids))
	if err != nil {
		return failedMatches(ids, fmt.Errorf("query %s by %s: %w", sch.object, f.name, err))
	}
	byID, stray, err := assignRows(sch, f, ids, rows)
	if err != nil {
		return failedMatches(ids, err)
	}
	found := make(map[string]match, len(ids))
	for id, recs := range byID {
		found[id] = oneMatch(sch, f, id, recs)
	}
	if stray && len(ids) > 1 {
		for _, id := range unmatched(ids, found) {
			for id, m := range c.queryChunk(ctx, sch, f, []string{id}) {
				found[id] = m
			}
		}
	}
	return found
}

// failedMatches gives every id of a query that failed its error.
func failedMatches(ids []string, err error) map[string]match {
	found := make(map[string]match, len(ids))
	for _, id := range ids {
		found[id] = match{err: err}
	}
	return found
}

// assignRows gives each row to the ids its field value equals, with or
// without case as the field compares. With a single id every row is its
// own: Salesforce matched them. stray reports rows that matched no id.
func assignRows(sch *schema, f lookupField, ids []string, rows []json.RawMessage) (
	map[string][]record, bool, error) {
	byID := make(map[string][]record)
	stray := false
	for _, raw := range rows {
		fields, err := decodeFields(raw)
		if err != nil {
			return nil, false, fmt.Errorf("query %s: %w", sch.object, err)
		}
		rec, err := recordOf(fields, sch.target, "")
		if err != nil {
			return nil, false, fmt.Errorf("query %s: %w", sch.object, err)
		}
		if len(ids) == 1 {
			byID[ids[0]] = append(byID[ids[0]], rec)
			continue
		}
		value := textValue(fields, f.name)
		hit := false
		for _, id := range ids {
			if sameValue(f, value, id) {
				byID[id] = append(byID[id], rec)
				hit = true
			}
		}
		stray = stray || !hit
	}
	return byID, stray, nil
}

func textValue(fields map[string]json.RawMessage, name string) string {
	raw, ok := fieldValue(fields, name)
	if !ok {
		return ""
	}
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}

func sameValue(f lookupField, value, id string) bool {
	if f.caseSensitive {
		return value == id
	}
	return strings.EqualFold(value, id)
}

// oneMatch turns the records found for id into a match: one record, or an
// *AmbiguousMatchError naming them all.
func oneMatch(sch *schema, f lookupField, id string, recs []record) match {
	if len(recs) == 1 {
		return match{rec: recs[0]}
	}
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.id
	}
	return match{err: &AmbiguousMatchError{Object: sch.object, Field: f.name, CallID: id, RecordIDs: ids}}
}

// queryResult is one page of a query answer.
type queryResult struct {
	Done           bool              `json:"done"`
	NextRecordsURL string            `json:"nextRecordsUrl"`
	Records        []json.RawMessage `json:"records"`
}

// queryAll runs soql and returns the rows of every page.
func (c *Client) queryAll(ctx context.Context, soql string) ([]json.RawMessage, error) {
	rq := request{method: http.MethodGet, path: "query", query: url.Values{"q": {soql}}}
	var rows []json.RawMessage
	for range maxQueryPages {
		page, err := c.queryPage(ctx, rq)
		if err != nil {
			return nil, err
		}
		rows = append(rows, page.Records...)
		if page.Done || page.NextRecordsURL == "" {
			return rows, nil
		}
		next, err := c.relativePath(page.NextRecordsURL)
		if err != nil {
			return nil, err
		}
		rq = request{method: http.MethodGet, path: next}
	}
	return nil, fmt.Errorf("more than %d pages of rows", maxQueryPages)
}

func (c *Client) queryPage(ctx context.Context, rq request) (*queryResult, error) {
	resp, err := c.do(ctx, rq)
	if err != nil {
		return nil, err
	}
	if resp.status != http.StatusOK {
		return nil, resp.apiError()
	}
	var page queryResult
	if err := json.Unmarshal(resp.body, &page); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	return &page, nil
}

// relativePath turns a URL the API returned, such as a nextRecordsUrl,
// into a path relative to this client's data prefix.
func (c *Client) relativePath(u string) (string, error) {
	prefix := "/services/data/v" + c.cfg.APIVersion + "/"
	rel, ok := strings.CutPrefix(u, prefix)
	if !ok {
		return "", fmt.Errorf("next page %q is not under %s", u, prefix)
	}
	return rel, nil
}
