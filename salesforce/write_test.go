package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

const testRecordID = "00T000000000001AAA"

// oneRecord serves a single Task the way Salesforce does for the calls
// the client makes: the External ID GET, a collections retrieve and
// update, and composite requests of record PATCHes and retrieves. Writes
// honour If-Unmodified-Since at one-second granularity.
type oneRecord struct {
	mu           sync.Mutex
	value        *string
	lastModified time.Time
	tick         time.Duration // how far each write moves LastModifiedDate
	patches      int
	composites   int
	headers      []string         // If-Unmodified-Since of each write
	bodies       []string         // each written value, as JSON
	afterRead    func(*oneRecord) // runs, under mu, after each read
	afterPatch   func(*oneRecord) // runs, under mu, after each accepted write
}

func newOneRecord(value *string) *oneRecord {
	return &oneRecord{
		value:        value,
		lastModified: time.Date(2026, 5, 1, 10, 15, 0, 0, time.UTC),
		tick:         time.Second,
	}
}

func (rec *oneRecord) route(w http.ResponseWriter, r *http.Request) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	status, body := rec.serve(r.Method, r.URL, r.Header.Get("If-Unmodified-Since"), r.Body)
	writeJSON(w, status, body)
}

// serve answers one request or subrequest. The caller holds rec.mu.
func (rec *oneRecord) serve(method string, u *url.URL, since string, body io.Reader) (int, any) {
	const collections = dataPrefix + "composite/sobjects"
	switch {
	case method == http.MethodGet && u.Path == collections+"/Task":
		if got := u.Query().Get("fields"); got != "Id,Summary__c,LastModifiedDate" {
			return http.StatusBadRequest, restErrors("INVALID_FIELD", "fields "+got)
		}
		return http.StatusOK, []any{rec.read()}
	case method == http.MethodGet:
		return http.StatusOK, rec.read()
	case method == http.MethodPatch && u.Path == collections:
		return rec.updateCollection(body)
	case method == http.MethodPatch && u.Path == dataPrefix+"sobjects/Task/"+testRecordID:
		return rec.patchRecord(since, body)
	case method == http.MethodPost && u.Path == dataPrefix+"composite":
		rec.composites++
		return rec.composite(body)
	}
	return http.StatusBadRequest, restErrors("UNEXPECTED", method+" "+u.Path)
}

func restErrors(code, msg string) []map[string]any {
	return []map[string]any{{"errorCode": code, "message": msg, "fields": []string{}}}
}

func (rec *oneRecord) read() map[string]any {
	var v any
	if rec.value != nil {
		v = *rec.value
	}
	out := recordJSON(testRecordID, v, rec.lastModified.Format("2006-01-02T15:04:05.000-0700"))
	if rec.afterRead != nil {
		rec.afterRead(rec)
	}
	return out
}

func (rec *oneRecord) updateCollection(body io.Reader) (int, any) {
	var req struct {
		AllOrNone bool             `json:"allOrNone"`
		Records   []map[string]any `json:"records"`
	}
	if err := json.NewDecoder(body).Decode(&req); err != nil || len(req.Records) != 1 {
		return http.StatusBadRequest, restErrors("JSON_PARSER_ERROR", fmt.Sprint(err))
	}
	raw, _ := json.Marshal(map[string]any{"Summary__c": req.Records[0]["Summary__c"]})
	status, _ := rec.patchRecord("", strings.NewReader(string(raw)))
	if status != http.StatusNoContent {
		return http.StatusBadRequest, restErrors("UNEXPECTED", "write failed")
	}
	return http.StatusOK, []any{map[string]any{"id": testRecordID, "success": true, "errors": []any{}}}
}

func (rec *oneRecord) patchRecord(since string, body io.Reader) (int, any) {
	rec.patches++
	rec.headers = append(rec.headers, since)
	var fields map[string]string
	if err := json.NewDecoder(body).Decode(&fields); err != nil {
		return http.StatusBadRequest, restErrors("JSON_PARSER_ERROR", err.Error())
	}
	raw, _ := json.Marshal(fields)
	rec.bodies = append(rec.bodies, string(raw))
	if since != "" {
		t, err := http.ParseTime(since)
		if err != nil {
			return http.StatusBadRequest, restErrors("INVALID_HEADER", "bad date")
		}
		if rec.lastModified.Truncate(time.Second).After(t) {
			return http.StatusPreconditionFailed, restErrors("PRECONDITION_FAILED", "changed")
		}
	}
	v := fields["Summary__c"]
	rec.value = &v
	rec.lastModified = rec.lastModified.Add(rec.tick)
	if rec.afterPatch != nil {
		rec.afterPatch(rec)
	}
	return http.StatusNoContent, nil
}

// composite runs the subrequests in order, as collateSubrequests false
// asks, and answers each.
func (rec *oneRecord) composite(body io.Reader) (int, any) {
	var req struct {
		Collate bool `json:"collateSubrequests"`
		Subs    []struct {
			Method  string            `json:"method"`
			URL     string            `json:"url"`
			Ref     string            `json:"referenceId"`
			Body    json.RawMessage   `json:"body"`
			Headers map[string]string `json:"httpHeaders"`
		} `json:"compositeRequest"`
	}
	if err := json.NewDecoder(body).Decode(&req); err != nil || req.Collate {
		return http.StatusBadRequest, restErrors("INVALID_INPUT", fmt.Sprint("collate or ", err))
	}
	results := make([]map[string]any, len(req.Subs))
	for i, sub := range req.Subs {
		u, err := url.Parse(sub.URL)
		if err != nil {
			return http.StatusBadRequest, restErrors("INVALID_INPUT", err.Error())
		}
		status, answer := rec.serve(sub.Method, u, sub.Headers["If-Unmodified-Since"],
			strings.NewReader(string(sub.Body)))
		results[i] = map[string]any{"body": answer, "httpHeaders": map[string]string{},
			"httpStatusCode": status, "referenceId": sub.Ref}
	}
	return http.StatusOK, map[string]any{"compositeResponse": results}
}

func (rec *oneRecord) text() string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.value == nil {
		return ""
	}
	return *rec.value
}

func ptr(s string) *string { return &s }

func TestAppendToEmptyThenRedeliver(t *testing.T) {
	rec := newOneRecord(nil)
	o := newTestOrg(t, rec.route)
	c := o.client(Append, nil)
	ctx := context.Background()
	s := Summary{CallID: "c-1", Text: "Customer called.", SummaryID: "sum-1",
		OccurredAt: time.Date(2026, 5, 1, 12, 0, 0, 0, time.FixedZone("CEST", 7200))}

	res, err := c.Apply(ctx, s)
	if err != nil || res.AlreadyApplied || res.RecordID != testRecordID {
		t.Fatalf("first Apply = %+v, %v", res, err)
	}
	if got, want := rec.text(), Block(s); got != want {
		t.Errorf("field = %q, want %q", got, want)
	}
	if got, want := rec.headers[0], "Fri, 01 May 2026 10:15:00 GMT"; got != want {
		t.Errorf("If-Unmodified-Since = %q, want %q", got, want)
	}

	res, err = c.Apply(ctx, s)
	if err != nil || !res.AlreadyApplied {
		t.Fatalf("second Apply = %+v, %v; want AlreadyApplied", res, err)
	}
	if rec.patches != 1 {
		t.Errorf("patches = %d, want 1", rec.patches)
	}
	if got := c.locks.size(); got != 0 {
		t.Errorf("record locks left = %d, want 0", got)
	}
}

func TestAppendKeepsOldText(t *testing.T) {
	rec := newOneRecord(ptr("agent note"))
	o := newTestOrg(t, rec.route)
	c := o.client(Append, nil)
	s := Summary{CallID: "c-1", Text: "summary", SummaryID: "sum-1"}

	if _, err := c.Apply(context.Background(), s); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got, want := rec.text(), "agent note\n\n"+Block(s); got != want {
		t.Errorf("field = %q, want %q", got, want)
	}
}

func TestAppendRetriesAfterPreconditionFailed(t *testing.T) {
	rec := newOneRecord(ptr("agent note"))
	// Someone edits the record right after the client's first read.
	rec.afterRead = func(r *oneRecord) {
		r.afterRead = nil
		r.value = ptr(*r.value + " (edited)")
		r.lastModified = r.lastModified.Add(time.Second)
	}
	o := newTestOrg(t, rec.route)
	c := o.client(Append, nil)
	s := Summary{CallID: "c-1", Text: "summary", SummaryID: "sum-1"}

	res, err := c.Apply(context.Background(), s)
	if err != nil || res.AlreadyApplied {
		t.Fatalf("Apply = %+v, %v", res, err)
	}
	if got, want := rec.text(), "agent note (edited)\n\n"+Block(s); got != want {
		t.Errorf("field = %q, want %q", got, want)
	}
	if rec.patches != 2 {
		t.Errorf("patches = %d, want 2", rec.patches)
	}
}

func TestAppendGivesUpAfterRepeatedPreconditionFailed(t *testing.T) {
	rec := newOneRecord(ptr("note"))
	rec.afterRead = func(r *oneRecord) { r.lastModified = r.lastModified.Add(time.Second) }
	o := newTestOrg(t, rec.route)
	c := o.client(Append, nil)

	_, err := c.Apply(context.Background(), Summary{CallID: "c-1", Text: "s", SummaryID: "sum-1"})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusPreconditionFailed {
		t.Fatalf("error = %v, want a 412 *APIError", err)
	}
	if got := ClassOf(err); got != Transient {
		t.Errorf("class = %v, want transient", got)
	}
	if rec.patches != maxAppendAttempts {
		t.Errorf("patches = %d, want %d", rec.patches, maxAppendAttempts)
	}
}

func TestAppendAgainWhenBlockLost(t *testing.T) {
	rec := newOneRecord(ptr("note"))
	// Another process overwrites the first write within the same second.
	rec.afterPatch = func(r *oneRecord) {
		r.afterPatch = nil
		r.value = ptr("note\n\nother process")
	}
	o := newTestOrg(t, rec.route)
	c := o.client(Append, nil)
	s := Summary{CallID: "c-1", Text: "summary", SummaryID: "sum-1"}

	res, err := c.Apply(context.Background(), s)
	if err != nil || res.AlreadyApplied {
		t.Fatalf("Apply = %+v, %v", res, err)
	}
	if got, want := rec.text(), "note\n\nother process\n\n"+Block(s); got != want {
		t.Errorf("field = %q, want %q", got, want)
	}
}

func TestAppendTooLong(t *testing.T) {
	rec := newOneRecord(ptr(strings.Repeat("x", 100)))
	o := newTestOrg(t, rec.route)
	c := o.client(Append, nil)

	_, err := c.Apply(context.Background(), Summary{CallID: "c-1", Text: "a summary", SummaryID: "s"})
	var tooLong *TooLongError
	if !errors.As(err, &tooLong) || tooLong.Max != 120 || tooLong.Field != "Summary__c" {
		t.Fatalf("error = %v, want *TooLongError for Summary__c max 120", err)
	}
	if got := Reason(err); got != ReasonStringTooLong {
		t.Errorf("Reason = %q", got)
	}
	if rec.patches != 0 {
		t.Errorf("patches = %d, want 0", rec.patches)
	}
}

// TestConcurrentAppendsToOneRecord has the server keep LastModifiedDate in
// one second, so conditional writes cannot tell the writers apart: only the
// client's per-record lock keeps every block.
func TestConcurrentAppendsToOneRecord(t *testing.T) {
	const writers = 8
	rec := newOneRecord(nil)
	rec.tick = 0
	o := newTestOrg(t, rec.route)
	o.setDescribe(strings.Replace(taskDescribe, `"length":120`, `"length":32000`, 1))
	c := o.client(Append, nil)

	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Go(func() {
			_, err := c.Apply(context.Background(), Summary{CallID: "c-1",
				Text: fmt.Sprint("part ", i), SummaryID: fmt.Sprint("sum-", i)})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Apply: %v", err)
		}
	}
	for i := range writers {
		if !strings.Contains(rec.text(), Marker(fmt.Sprint("sum-", i))) {
			t.Errorf("block sum-%d is missing", i)
		}
	}
	if got := c.locks.size(); got != 0 {
		t.Errorf("record locks left = %d, want 0", got)
	}
}

func TestOverwrite(t *testing.T) {
	rec := newOneRecord(ptr("old"))
	o := newTestOrg(t, rec.route)
	c := o.client(Overwrite, nil)

	res, err := c.Apply(context.Background(), Summary{CallID: "c-1", Text: "new", SummaryID: "s"})
	if err != nil || res.RecordID != testRecordID {
		t.Fatalf("Apply = %+v, %v", res, err)
	}
	if got, want := rec.bodies[0], `{"Summary__c":"new"}`; got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
	if rec.headers[0] != "" {
		t.Errorf("overwrite sent If-Unmodified-Since %q", rec.headers[0])
	}
}

func TestBlockAndMarker(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 30, 5, 0, time.FixedZone("CEST", 7200))
	tests := []struct {
		name string
		s    Summary
		want string
	}{
		{"with-time", Summary{Text: "Hello.", SummaryID: "abc", OccurredAt: at},
			"--- Call summary 2026-05-01T10:30:05Z [summary-id abc] ---\nHello."},
		{"without-time", Summary{Text: "Hello.", SummaryID: "abc"},
			"--- Call summary [summary-id abc] ---\nHello."},
		{"id-with-brackets-and-newline", Summary{Text: "x", SummaryID: "a]b\n%"},
			"--- Call summary [summary-id a%5Db%0A%25] ---\nx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Block(tt.s)
			if got != tt.want {
				t.Errorf("Block\ngot  %q\nwant %q", got, tt.want)
			}
			if !strings.Contains(got, Marker(tt.s.SummaryID)) {
				t.Errorf("Block does not contain Marker(%q)", tt.s.SummaryID)
			}
			if strings.Count(strings.SplitN(got, "\n", 2)[0], "\n") != 0 {
				t.Errorf("header is not one line")
			}
		})
	}
}

func TestMarkersDoNotOverlap(t *testing.T) {
	ids := []string{"abc", "abcd", "ab", "abc]", "abc%5D", "a b", "a", ""}
	for _, a := range ids {
		for _, b := range ids {
			if a != b && strings.Contains(Block(Summary{SummaryID: b, Text: "t"}), Marker(a)) {
				t.Errorf("Block for %q contains Marker(%q)", b, a)
			}
		}
	}
}

func TestLength(t *testing.T) {
	tests := []struct {
		name string
		s    string
		want int
	}{
		{"empty", "", 0},
		{"ascii", "hello", 5},
		{"latin-1", "Zoë", 3},
		{"cjk", "電話", 2},
		{"emoji", "😀", 2},
		{"astral-music", "a𝄞b", 4},
		{"combining", "e\u0301", 2},
		{"invalid-byte", "a\xffb", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Length(tt.s); got != tt.want {
				t.Errorf("Length(%q) = %d, want %d", tt.s, got, tt.want)
			}
		})
	}
}

func TestRecordLockHonoursContext(t *testing.T) {
	var l recordLocks
	release, err := l.acquire(context.Background(), "r1")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.acquire(ctx, "r1"); !errors.Is(err, context.Canceled) {
		t.Errorf("acquire on a held lock with a cancelled context = %v", err)
	}
	release()
	if got := l.size(); got != 0 {
		t.Errorf("locks left = %d, want 0", got)
	}
}
