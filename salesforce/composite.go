package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Limits of the batched resources (salesforce-api.md §6).
const (
	// maxCompositeWrites is the conditional PATCHes of one composite
	// request: 25 subrequests less the read-back.
	maxCompositeWrites = 24
	// maxRetrieveByGet is the ids of one collections retrieve by GET; 200
	// ids of 18 characters stay far below the 16 KiB URI limit.
	maxRetrieveByGet = 200
)

// subrequest is one request inside a composite request.
type subrequest struct {
	Method      string            `json:"method"`
	URL         string            `json:"url"`
	ReferenceID string            `json:"referenceId"`
	Body        any               `json:"body,omitempty"`
	HTTPHeaders map[string]string `json:"httpHeaders,omitempty"`
}

// subresult is the answer to one subrequest.
type subresult struct {
	Body           json.RawMessage `json:"body"`
	HTTPStatusCode int             `json:"httpStatusCode"`
	ReferenceID    string          `json:"referenceId"`
}

// apiError returns the subrequest's error, or nil when it succeeded.
func (r subresult) apiError() *APIError {
	if r.HTTPStatusCode < http.StatusBadRequest {
		return nil
	}
	resp := response{status: r.HTTPStatusCode, body: r.Body}
	return resp.apiError()
}

// composite sends subs as one composite request (one API call) and
// returns their results in the order of subs. The top level answers 200
// even when subrequests fail; each result says how its own request went.
func (c *Client) composite(ctx context.Context, subs []subrequest) ([]subresult, error) {
	resp, err := c.do(ctx, request{
		method: http.MethodPost,
		path:   "composite",
		body: map[string]any{
			"allOrNone": false, "collateSubrequests": false, "compositeRequest": subs,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("composite: %w", err)
	}
	if resp.status != http.StatusOK {
		return nil, fmt.Errorf("composite: %w", resp.apiError())
	}
	var answer struct {
		Results []subresult `json:"compositeResponse"`
	}
	if err := json.Unmarshal(resp.body, &answer); err != nil {
		return nil, fmt.Errorf("composite: decode: %w", err)
	}
	return orderResults(subs, answer.Results)
}

// orderResults matches results to subs by referenceId.
func orderResults(subs []subrequest, results []subresult) ([]subresult, error) {
	byRef := make(map[string]subresult, len(results))
	for _, r := range results {
		byRef[r.ReferenceID] = r
	}
	out := make([]subresult, len(subs))
	for i, s := range subs {
		r, ok := byRef[s.ReferenceID]
		if !ok {
			return nil, fmt.Errorf("composite: no result for %s", s.ReferenceID)
		}
		out[i] = r
	}
	return out, nil
}

// dataPath returns the absolute path of a data resource, as subrequests
// name it.
func (c *Client) dataPath(rel string) string {
	return "/services/data/v" + c.cfg.APIVersion + "/" + rel
}

// retrievePath is the sObject Collections retrieve of ids with the fields
// an append needs, relative to the data prefix.
func retrievePath(sch *schema, ids []string) string {
	return retrieveResource(sch) + "?" + retrieveQuery(sch, ids).Encode()
}

func retrieveResource(sch *schema) string { return "composite/sobjects/" + sch.object }

func retrieveQuery(sch *schema, ids []string) url.Values {
	return url.Values{
		"ids":    {strings.Join(ids, ",")},
		"fields": {strings.Join(distinctFold([]string{"Id", sch.target, "LastModifiedDate"}), ",")},
	}
}

// readRecords reads ids through sObject Collections, in calls of up to
// maxRetrieveByGet ids, and returns one record per id, nil where the
// record is gone.
func (c *Client) readRecords(ctx context.Context, sch *schema, ids []string) ([]*record, error) {
	out := make([]*record, 0, len(ids))
	for start := 0; start < len(ids); start += maxRetrieveByGet {
		chunk := ids[start:min(start+maxRetrieveByGet, len(ids))]
		resp, err := c.do(ctx, request{
			method: http.MethodGet, path: retrieveResource(sch), query: retrieveQuery(sch, chunk)})
		if err != nil {
			return nil, err
		}
		if resp.status != http.StatusOK {
			return nil, resp.apiError()
		}
		recs, err := decodeRecords(sch, resp.body, len(chunk))
		if err != nil {
			return nil, err
		}
		out = append(out, recs...)
	}
	return out, nil
}

// decodeRecords reads a collections retrieve answer for want ids: records
// in the order of the ids, nil for those that are gone.
func decodeRecords(sch *schema, body []byte, want int) ([]*record, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		return nil, fmt.Errorf("decode records: %w", err)
	}
	if len(raws) != want {
		return nil, fmt.Errorf("decode records: %d records for %d ids", len(raws), want)
	}
	recs := make([]*record, len(raws))
	for i, raw := range raws {
		if string(raw) == "null" {
			continue
		}
		rec, err := parseRecord(raw, sch.target, "")
		if err != nil {
			return nil, err
		}
		recs[i] = &rec
	}
	return recs, nil
}
