package sftest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testClock is an org clock a test moves by hand.
type testClock struct {
	mu  sync.Mutex
	cur time.Time
}

func newTestClock(org *Org) *testClock {
	c := &testClock{cur: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}
	org.SetClock(c.now)
	return c
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur
}

// advance moves the clock on by d and returns the new time.
func (c *testClock) advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cur = c.cur.Add(d)
	return c.cur
}

// saveAnswer is one save result as a client decodes it; ID is nil when the
// key is absent.
type saveAnswer struct {
	ID      *string `json:"id"`
	Success bool    `json:"success"`
	Errors  []struct {
		StatusCode string   `json:"statusCode"`
		Message    string   `json:"message"`
		Fields     []string `json:"fields"`
	} `json:"errors"`
}

func (a saveAnswer) code() string {
	if len(a.Errors) == 0 {
		return ""
	}
	return a.Errors[0].StatusCode
}

func (h *harness) patchCollection(body string, headers ...string) response {
	h.t.Helper()
	return h.do(http.MethodPatch, testVersion+"/composite/sobjects", body, headers...)
}

func (h *harness) saveResults(res response) []saveAnswer {
	h.t.Helper()
	if res.status != http.StatusOK {
		h.t.Fatalf("collections patch: status %d: %s", res.status, res.body)
	}
	var out []saveAnswer
	res.decode(h.t, &out)
	return out
}

// updateBody builds a collections PATCH body from records given as maps.
func updateBody(t *testing.T, allOrNone bool, records ...map[string]any) string {
	t.Helper()
	body, err := json.Marshal(map[string]any{"allOrNone": allOrNone, "records": records})
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

// task is a collections record of type Task.
func task(id string, fields map[string]any) map[string]any {
	return typed("Task", id, fields)
}

func typed(object, id string, fields map[string]any) map[string]any {
	rec := map[string]any{"attributes": map[string]any{"type": object}}
	if id != "" {
		rec["id"] = id
	}
	for k, v := range fields {
		rec[k] = v
	}
	return rec
}

func TestCollectionsRetrieve(t *testing.T) {
	h := newHarness(t)
	a := h.org.Insert("Task", map[string]any{"Subject": "A", "Call_Id__c": "c-a", "Description": "d"})
	gone := h.org.Insert("Task", map[string]any{"Subject": "gone"})
	h.org.Delete("Task", gone)
	c := h.org.Insert("Task", map[string]any{"Subject": "C"})
	caseID := h.org.Insert("Case", map[string]any{"Subject": "a case"})
	unknown := newID("00T", 1<<40)
	list := []string{a, "not-an-id", gone, caseID, unknown, a[:15], c}
	want := []map[string]any{
		{"attributes": map[string]any{"type": "Task", "url": testVersion + "/sobjects/Task/" + a},
			"Subject": "A", "Call_Id__c": "c-a"},
		nil, nil, nil, nil,
		{"attributes": map[string]any{"type": "Task", "url": testVersion + "/sobjects/Task/" + a},
			"Subject": "A", "Call_Id__c": "c-a"},
		{"attributes": map[string]any{"type": "Task", "url": testVersion + "/sobjects/Task/" + c},
			"Subject": "C", "Call_Id__c": nil},
	}
	postBody := func(ids, fields []string) string {
		b, _ := json.Marshal(map[string]any{"ids": ids, "fields": fields})
		return string(b)
	}
	fields := []string{"Subject", "call_id__c", "Subject"} // any case, each once

	tests := []struct {
		name, method, path, body string
	}{
		{"get", http.MethodGet, "/composite/sobjects/Task?ids=" + strings.Join(list, ",") +
			"&fields=" + strings.Join(fields, ","), ""},
		{"post", http.MethodPost, "/composite/sobjects/task", postBody(list, fields)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.do(tt.method, testVersion+tt.path, tt.body)
			if res.status != http.StatusOK {
				t.Fatalf("status %d: %s", res.status, res.body)
			}
			var got []map[string]any
			res.decode(t, &got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("records mismatch (-want +got):\n%s", diff)
			}
			// A field asked for twice is written once per record.
			if n := strings.Count(string(res.body), `"Subject":`); n != 3 {
				t.Errorf("Subject written %d times in %s, want 3", n, res.body)
			}
		})
	}
}

func TestCollectionsRetrieveErrors(t *testing.T) {
	h := newHarness(t)
	id := h.org.Insert("Task", nil)
	manyIDs := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = newID("00T", uint64(i+1000))
		}
		return out
	}
	postBody := func(v any) string {
		b, _ := json.Marshal(v)
		return string(b)
	}

	tests := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"get-missing-ids", "GET", "/composite/sobjects/Task?fields=Id", "", 400, "MISSING_ARGUMENT"},
		{"get-missing-fields", "GET", "/composite/sobjects/Task?ids=" + id, "", 400, "MISSING_ARGUMENT"},
		{"get-unknown-field", "GET", "/composite/sobjects/Task?ids=" + id + "&fields=Id,Nope", "",
			400, "INVALID_FIELD"},
		{"get-unknown-object", "GET", "/composite/sobjects/Nope?ids=" + id + "&fields=Id", "",
			404, "NOT_FOUND"},
		{"post-missing-fields", "POST", "/composite/sobjects/Task", postBody(map[string]any{
			"ids": []string{id}}), 400, "MISSING_ARGUMENT"},
		{"post-missing-ids", "POST", "/composite/sobjects/Task", `{"fields":["Id"]}`,
			400, "MISSING_ARGUMENT"},
		{"post-malformed", "POST", "/composite/sobjects/Task", `{"ids":[`, 400, "JSON_PARSER_ERROR"},
		{"post-2000-ids", "POST", "/composite/sobjects/Task", postBody(map[string]any{
			"ids": manyIDs(2000), "fields": []string{"Id"}}), 200, ""},
		{"post-2001-ids", "POST", "/composite/sobjects/Task", postBody(map[string]any{
			"ids": manyIDs(2001), "fields": []string{"Id"}}), 400, "EXCEEDED_ID_LIMIT"},
		{"get-800-ids", "GET", "/composite/sobjects/Task?fields=Id&ids=" +
			strings.Join(manyIDs(800), ","), "", 200, ""},
		{"wrong-method", "DELETE", "/composite/sobjects/Task", "", 405, "METHOD_NOT_ALLOWED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.do(tt.method, testVersion+tt.path, tt.body)
			if res.status != tt.status || res.errorCode() != tt.code {
				t.Fatalf("status %d code %q, want %d %q: %.300s",
					res.status, res.errorCode(), tt.status, tt.code, res.body)
			}
		})
	}

	t.Run("before-42", func(t *testing.T) {
		res := h.do("GET", "/services/data/v41.0/composite/sobjects/Task?ids="+id+"&fields=Id", "")
		if res.status != http.StatusNotFound {
			t.Errorf("v41.0: status %d, want 404", res.status)
		}
		res = h.do("GET", "/services/data/v42.0/composite/sobjects/Task?ids="+id+"&fields=Id", "")
		if res.status != http.StatusOK {
			t.Errorf("v42.0: status %d, want 200", res.status)
		}
	})
}

func TestCollectionsRetrieveURITooLong(t *testing.T) {
	h := newHarness(t)
	ids := make([]string, 900) // 900 ids of 18 characters and commas pass 16 KiB
	for i := range ids {
		ids[i] = newID("00T", uint64(i+1))
	}
	before := h.org.Calls().API

	res := h.get("/composite/sobjects/Task?fields=Id&ids=" + strings.Join(ids, ","))
	if res.status != http.StatusRequestURITooLong {
		t.Fatalf("status %d, want 414: %.200s", res.status, res.body)
	}
	if got := h.org.Calls().API - before; got != 0 {
		t.Errorf("a 414 charged %d API calls, want 0", got)
	}
	if got := h.org.Calls().ByEndpoint[EndpointCollectionsGet]; got != 1 {
		t.Errorf("ByEndpoint[%s] = %d, want 1", EndpointCollectionsGet, got)
	}
}

func TestCollectionsUpdate(t *testing.T) {
	h := newHarness(t)
	clock := newTestClock(h.org)
	created := clock.now()
	ok1 := h.org.Insert("Task", map[string]any{"Subject": "old"})
	other := h.org.Insert("Task", map[string]any{"Subject": "old"})
	gone := h.org.Insert("Task", nil)
	h.org.Delete("Task", gone)
	taken := h.org.Insert("Task", map[string]any{"Call_Id__c": "taken"})
	caseID := h.org.Insert("Case", map[string]any{"Subject": "old"})
	unknown := newID("00T", 1<<40)
	written := clock.advance(time.Hour)

	body := updateBody(t, false,
		task(ok1, map[string]any{"Subject": "new"}),
		task("00TBAD", map[string]any{"Subject": "x"}),
		task(other, map[string]any{"Nope__c": "x"}),
		task(other, map[string]any{"Read_Only_Notes__c": "x"}),
		task(other, map[string]any{"Short_Summary__c": strings.Repeat("é", 501)}),
		task(gone, map[string]any{"Subject": "x"}),
		task(unknown, map[string]any{"Subject": "x"}),
		task("", map[string]any{"Subject": "x"}),
		task(caseID, map[string]any{"Subject": "x"}), // a Case id sent as a Task
		typed("Case", caseID, map[string]any{"Subject": "new"}),
		task(other, map[string]any{"Call_Id__c": "taken"}),
	)
	got := h.saveResults(h.patchCollection(body))

	want := []struct {
		id   string // "" when the result must have no id
		code string // "" for success
	}{
		{ok1, ""},
		{"", "MALFORMED_ID"},
		{other, "INVALID_FIELD"},
		{other, "INVALID_FIELD_FOR_INSERT_UPDATE"},
		{other, "STRING_TOO_LONG"},
		{gone, "ENTITY_IS_DELETED"},
		{unknown, "INVALID_CROSS_REFERENCE_KEY"},
		{"", "MISSING_ARGUMENT"},
		{"", "MALFORMED_ID"},
		{caseID, ""},
		{other, "DUPLICATE_VALUE"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		gotID := ""
		if g.ID != nil {
			gotID = *g.ID
		}
		if gotID != w.id || g.code() != w.code || g.Success != (w.code == "") {
			t.Errorf("result %d = id %q success %v code %q, want id %q code %q",
				i, gotID, g.Success, g.code(), w.id, w.code)
		}
		if g.Errors == nil {
			t.Errorf("result %d: errors missing, want a list", i)
		}
		for _, e := range g.Errors {
			if e.Fields == nil {
				t.Errorf("result %d: error %s has no fields list", i, e.StatusCode)
			}
		}
	}
	if f := got[1].Errors[0]; f.Message != "Task ID: id value of incorrect type: 00TBAD" ||
		!cmp.Equal(f.Fields, []string{"Id"}) {
		t.Errorf("MALFORMED_ID error = %+v", f)
	}

	checkRecord(t, h.org, "Task", ok1, "Subject", "new", written)
	checkRecord(t, h.org, "Case", caseID, "Subject", "new", written)
	checkRecord(t, h.org, "Task", other, "Subject", "old", created)
	if rec, _ := h.org.Get("Task", taken); rec["Call_Id__c"] != "taken" {
		t.Errorf("duplicate value moved: %v", rec)
	}
}

// checkRecord checks one field and LastModifiedDate of a record.
func checkRecord(t *testing.T, org *Org, object, id, field string, value any, modified time.Time) {
	t.Helper()
	rec, ok := org.Get(object, id)
	if !ok {
		t.Fatalf("%s %s not found", object, id)
	}
	if rec[field] != value || rec["LastModifiedDate"] != modified {
		t.Errorf("%s %s: %s = %v, LastModifiedDate = %v; want %v, %v",
			object, id, field, rec[field], rec["LastModifiedDate"], value, modified)
	}
}

func TestCollectionsAllOrNone(t *testing.T) {
	h := newHarness(t)
	clock := newTestClock(h.org)
	created := clock.now()
	a := h.org.Insert("Task", map[string]any{"Subject": "old"})
	b := h.org.Insert("Task", map[string]any{"Subject": "old"})
	written := clock.advance(time.Hour)

	t.Run("one-failure-rolls-back-all", func(t *testing.T) {
		body := updateBody(t, true,
			task(a, map[string]any{"Subject": "new"}),
			task(b, map[string]any{"Nope__c": "x"}),
			task(b, map[string]any{"Subject": "new"}),
		)
		got := h.saveResults(h.patchCollection(body))
		wantCodes := []string{"ALL_OR_NONE_OPERATION_ROLLED_BACK", "INVALID_FIELD",
			"ALL_OR_NONE_OPERATION_ROLLED_BACK"}
		for i, code := range wantCodes {
			if got[i].Success || got[i].code() != code || got[i].ID == nil {
				t.Errorf("result %d = %+v, want failure %s with id", i, got[i], code)
			}
		}
		checkRecord(t, h.org, "Task", a, "Subject", "old", created)
		checkRecord(t, h.org, "Task", b, "Subject", "old", created)
	})
	t.Run("no-failure-writes-all", func(t *testing.T) {
		body := updateBody(t, true,
			task(a, map[string]any{"Subject": "new"}),
			task(b, map[string]any{"Subject": "new"}),
		)
		for i, r := range h.saveResults(h.patchCollection(body)) {
			if !r.Success {
				t.Errorf("result %d = %+v, want success", i, r)
			}
		}
		checkRecord(t, h.org, "Task", a, "Subject", "new", written)
		checkRecord(t, h.org, "Task", b, "Subject", "new", written)
	})
}

func TestCollectionsUpdateRequestErrors(t *testing.T) {
	h := newHarness(t)
	id := h.org.Insert("Task", map[string]any{"Subject": "old"})
	records := func(n int) string {
		recs := make([]map[string]any, n)
		for i := range recs {
			recs[i] = task(id, map[string]any{"Subject": "new"})
		}
		return updateBody(t, false, recs...)
	}
	first := `{"attributes":{"type":"Task"},"id":"` + id + `","Subject":"new"}`

	tests := []struct {
		name, body string
		code       string
	}{
		{"not-json", `{"records":[`, "JSON_PARSER_ERROR"},
		{"records-not-a-list", `{"records":{}}`, "JSON_PARSER_ERROR"},
		{"record-not-an-object", `{"records":[` + first + `,"x"]}`, "JSON_PARSER_ERROR"},
		{"no-records", `{"allOrNone":false}`, "MISSING_ARGUMENT"},
		{"no-type", `{"records":[` + first + `,{"id":"` + id + `"}]}`, "INVALID_TYPE"},
		{"unknown-type", `{"records":[` + first + `,{"attributes":{"type":"Nope"},"id":"` + id + `"}]}`,
			"INVALID_TYPE"},
		{"unreadable-value", `{"records":[` + first + `,{"attributes":{"type":"Task"},"id":"` + id +
			`","Subject":{"a":1}}]}`, "JSON_PARSER_ERROR"},
		{"201-records", records(201), "EXCEEDED_ID_LIMIT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.patchCollection(tt.body)
			if res.status != http.StatusBadRequest || res.errorCode() != tt.code {
				t.Fatalf("status %d code %q, want 400 %s: %.300s",
					res.status, res.errorCode(), tt.code, res.body)
			}
			if rec, _ := h.org.Get("Task", id); rec["Subject"] != "old" {
				t.Errorf("Subject = %v after a refused request, want old", rec["Subject"])
			}
		})
	}

	t.Run("200-records", func(t *testing.T) {
		got := h.saveResults(h.patchCollection(records(200)))
		if len(got) != 200 || !got[199].Success {
			t.Errorf("%d results, last %+v; want 200 successes", len(got), got[len(got)-1])
		}
	})
}

func TestCollectionsIgnoreIfUnmodifiedSince(t *testing.T) {
	// Conditional headers are documented for sObject Rows only.
	h := newHarness(t)
	clock := newTestClock(h.org)
	id := h.org.Insert("Task", nil)
	clock.advance(time.Hour)
	stale := clock.now().Add(-24 * time.Hour).Format(http.TimeFormat)

	got := h.saveResults(h.patchCollection(
		updateBody(t, false, task(id, map[string]any{"Subject": "new"})),
		"If-Unmodified-Since", stale))
	if !got[0].Success {
		t.Errorf("result = %+v, want success", got[0])
	}
}

func TestRecordFaultRate(t *testing.T) {
	h := newHarness(t)
	const n = 200
	recIDs := make([]string, n)
	recs := make([]map[string]any, n)
	for i := range recIDs {
		recIDs[i] = h.org.Insert("Task", map[string]any{"Subject": "old"})
		recs[i] = task(recIDs[i], map[string]any{"Subject": fmt.Sprint("new-", i)})
	}

	t.Run("rate-1", func(t *testing.T) {
		h.org.SetRecordFaultRate(1, FaultLockRow)
		defer h.org.SetRecordFaultRate(0, FaultLockRow)
		got := h.saveResults(h.patchCollection(updateBody(t, false, recs[:3]...)))
		for i, r := range got {
			if r.Success || r.code() != FaultLockRow.Code || r.Errors[0].Fields == nil ||
				r.ID == nil || *r.ID != recIDs[i] {
				t.Errorf("result %d = %+v, want %s for %s", i, r, FaultLockRow.Code, recIDs[i])
			}
		}
		// A direct call draws no per-record fault.
		res := h.do(http.MethodPatch, testVersion+"/sobjects/Task/"+recIDs[0], `{"Subject":"direct"}`)
		if res.status != http.StatusNoContent {
			t.Errorf("direct PATCH: status %d, want 204", res.status)
		}
	})

	t.Run("failures-map-to-their-records", func(t *testing.T) {
		h.org.SetRecordFaultRate(0.5, FaultLockRow)
		defer h.org.SetRecordFaultRate(0, FaultLockRow)
		got := h.saveResults(h.patchCollection(updateBody(t, false, recs...)))
		failed := 0
		for i, r := range got {
			rec, _ := h.org.Get("Task", recIDs[i])
			wrote := rec["Subject"] == fmt.Sprint("new-", i)
			if r.Success != wrote {
				t.Errorf("record %d: success %v but written %v", i, r.Success, wrote)
			}
			if !r.Success {
				failed++
			}
		}
		// Expect 100 of 200; 5 standard deviations (about 35) either way
		// happens about once in a million runs.
		if failed < 65 || failed > 135 {
			t.Errorf("%d of %d records failed, want 65..135", failed, n)
		}
	})

	t.Run("rate-0-removes", func(t *testing.T) {
		h.org.SetRecordFaultRate(1, FaultUnavailable)
		h.org.SetRecordFaultRate(0, FaultUnavailable)
		for i, r := range h.saveResults(h.patchCollection(updateBody(t, false, recs[:5]...))) {
			if !r.Success {
				t.Errorf("result %d = %+v, want success", i, r)
			}
		}
	})
}

func TestCollectionsCountOneCallEach(t *testing.T) {
	h := newHarness(t)
	h.org.SetUsage(10, 1000)
	recs := make([]map[string]any, 150)
	ids := make([]string, 150)
	for i := range recs {
		ids[i] = h.org.Insert("Task", nil)
		recs[i] = task(ids[i], map[string]any{"Subject": "x"})
	}
	h.org.ResetCalls()

	h.get("/composite/sobjects/Task?fields=Id&ids=" + url.QueryEscape(strings.Join(ids[:100], ",")))
	post, _ := json.Marshal(map[string]any{"ids": ids, "fields": []string{"Id"}})
	h.do(http.MethodPost, testVersion+"/composite/sobjects/Task", string(post))
	last := h.patchCollection(updateBody(t, false, recs...))

	if got, want := last.header.Get("Sforce-Limit-Info"), "api-usage=13/1000"; got != want {
		t.Errorf("Sforce-Limit-Info = %q, want %q", got, want)
	}
	want := Calls{API: 3, ByEndpoint: map[string]int64{
		EndpointCollectionsGet: 2, EndpointCollectionsPatch: 1,
	}}
	if diff := cmp.Diff(want, h.org.Calls()); diff != "" {
		t.Errorf("Calls() mismatch (-want +got):\n%s", diff)
	}
}
