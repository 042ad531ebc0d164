package sftest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// sub is a composite subrequest as a test writes it.
type sub struct {
	Method      string            `json:"method"`
	URL         string            `json:"url"`
	ReferenceID string            `json:"referenceId"`
	Body        any               `json:"body,omitempty"`
	HTTPHeaders map[string]string `json:"httpHeaders,omitempty"`
}

// subAnswer is one subrequest result as a client decodes it.
type subAnswer struct {
	Body           json.RawMessage   `json:"body"`
	HTTPHeaders    map[string]string `json:"httpHeaders"`
	HTTPStatusCode int               `json:"httpStatusCode"`
	ReferenceID    string            `json:"referenceId"`
}

// errorCode returns the errorCode of a REST error array body.
func (a subAnswer) errorCode() string {
	return response{body: a.Body}.errorCode()
}

func compositeBody(t *testing.T, allOrNone bool, subs ...sub) string {
	t.Helper()
	for i := range subs {
		if subs[i].ReferenceID == "" {
			subs[i].ReferenceID = fmt.Sprint("ref", i)
		}
	}
	body, err := json.Marshal(map[string]any{"allOrNone": allOrNone, "compositeRequest": subs})
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

func (h *harness) composite(body string) response {
	h.t.Helper()
	return h.do(http.MethodPost, testVersion+"/composite", body)
}

func (h *harness) compositeOK(body string) []subAnswer {
	h.t.Helper()
	res := h.composite(body)
	if res.status != http.StatusOK {
		h.t.Fatalf("composite: status %d: %s", res.status, res.body)
	}
	var out struct {
		CompositeResponse []subAnswer `json:"compositeResponse"`
	}
	res.decode(h.t, &out)
	return out.CompositeResponse
}

func get(path string) sub { return sub{Method: "GET", URL: testVersion + path} }

func patch(path string, body any, headers ...string) sub {
	s := sub{Method: "PATCH", URL: testVersion + path, Body: body}
	for i := 0; i+1 < len(headers); i += 2 {
		if s.HTTPHeaders == nil {
			s.HTTPHeaders = map[string]string{}
		}
		s.HTTPHeaders[headers[i]] = headers[i+1]
	}
	return s
}

func statuses(answers []subAnswer) []int {
	out := make([]int, len(answers))
	for i, a := range answers {
		out[i] = a.HTTPStatusCode
	}
	return out
}

func TestCompositeRunsSubrequests(t *testing.T) {
	h := newHarness(t)
	clock := newTestClock(h.org)
	id := h.org.Insert("Task", map[string]any{"Subject": "old", "Call_Id__c": "c-1"})
	stale := clock.now().Format(http.TimeFormat)
	clock.advance(time.Hour)
	h.org.ResetCalls()

	body := compositeBody(t, false,
		get("/sobjects/Task/"+id+"?fields=Subject"),
		get("/query?q="+url.QueryEscape("SELECT Id FROM Task WHERE Call_Id__c = 'c-1'")),
		get("/sobjects/Task/Call_Id__c/c-1"),
		get("/sobjects/Task/describe"),
		patch("/sobjects/Task/"+id, map[string]any{"Subject": "new"}),
		patch("/sobjects/Task/"+id, map[string]any{"Subject": "late"}, "If-Unmodified-Since", stale),
		patch("/composite/sobjects", map[string]any{"records": []any{
			task(id, map[string]any{"Description": "from a collection"})}}),
		get("/sobjects/Task/"+newID("00T", 1<<40)),
		sub{Method: "GET", URL: "/sobjects/Task/" + id}, // not under /services/data/vXX.X/
		sub{Method: "GET", URL: "/services/data/v25.0/sobjects/Task/" + id},
		sub{Method: "POST", URL: testVersion + "/composite", Body: map[string]any{}},
	)
	got := h.compositeOK(body)

	wantStatus := []int{200, 200, 200, 200, 204, 412, 200, 404, 404, 410, 400}
	if diff := cmp.Diff(wantStatus, statuses(got)); diff != "" {
		t.Fatalf("statuses mismatch (-want +got):\n%s", diff)
	}
	for i, a := range got {
		if a.ReferenceID != fmt.Sprint("ref", i) || a.HTTPHeaders == nil {
			t.Errorf("result %d: referenceId %q headers %v", i, a.ReferenceID, a.HTTPHeaders)
		}
	}
	var rec map[string]any
	err := json.Unmarshal(got[0].Body, &rec)
	if err != nil || rec["Subject"] != "old" || len(rec) != 2 {
		t.Errorf("record GET body = %s", got[0].Body)
	}
	if string(got[4].Body) != "null" {
		t.Errorf("204 body = %s, want null", got[4].Body)
	}
	if code := got[5].errorCode(); code != "PRECONDITION_FAILED" {
		t.Errorf("conditional PATCH code = %q, want PRECONDITION_FAILED", code)
	}
	if !strings.Contains(string(got[6].Body), `"success":true`) {
		t.Errorf("collections body = %s", got[6].Body)
	}
	stored, _ := h.org.Get("Task", id)
	if stored["Subject"] != "new" || stored["Description"] != "from a collection" {
		t.Errorf("record = %v, want Subject new and the collection's Description", stored)
	}

	want := Calls{API: 1, ByEndpoint: map[string]int64{
		EndpointComposite:                           1,
		SubrequestPrefix + EndpointRecordGet:        3, // one answers 404, one 410
		SubrequestPrefix + EndpointQuery:            1,
		SubrequestPrefix + EndpointExternalIDGet:    1,
		SubrequestPrefix + EndpointDescribe:         1,
		SubrequestPrefix + EndpointRecordPatch:      2,
		SubrequestPrefix + EndpointCollectionsPatch: 1,
		SubrequestPrefix + EndpointOther:            1,
		SubrequestPrefix + EndpointComposite:        1,
	}}
	if diff := cmp.Diff(want, h.org.Calls()); diff != "" {
		t.Errorf("Calls() mismatch (-want +got):\n%s", diff)
	}
}

func TestCompositeAllOrNone(t *testing.T) {
	h := newHarness(t)
	clock := newTestClock(h.org)
	created := clock.now()
	a := h.org.Insert("Task", map[string]any{"Subject": "old"})
	b := h.org.Insert("Task", map[string]any{"Subject": "old"})
	c := h.org.Insert("Task", map[string]any{"Subject": "old"})
	stale := clock.now().Add(-time.Hour).Format(http.TimeFormat)
	clock.advance(time.Hour)
	halted := "PROCESSING_HALTED"

	t.Run("conditional-failure-halts", func(t *testing.T) {
		h.org.ResetCalls()
		got := h.compositeOK(compositeBody(t, true,
			patch("/sobjects/Task/"+a, map[string]any{"Subject": "new"}),
			patch("/sobjects/Task/"+b, map[string]any{"Subject": "new"}, "If-Unmodified-Since", stale),
			patch("/sobjects/Task/"+c, map[string]any{"Subject": "new"}),
		))
		if diff := cmp.Diff([]int{400, 412, 400}, statuses(got)); diff != "" {
			t.Fatalf("statuses mismatch (-want +got):\n%s", diff)
		}
		if got[0].errorCode() != halted || got[2].errorCode() != halted {
			t.Errorf("bodies %s and %s, want %s", got[0].Body, got[2].Body, halted)
		}
		for _, id := range []string{a, b, c} {
			checkRecord(t, h.org, "Task", id, "Subject", "old", created)
		}
		if n := h.org.Calls().ByEndpoint[SubrequestPrefix+EndpointRecordPatch]; n != 2 {
			t.Errorf("%d PATCH subrequests ran, want 2: the third is halted", n)
		}
	})

	t.Run("collection-forced-all-or-none", func(t *testing.T) {
		got := h.compositeOK(compositeBody(t, true,
			patch("/sobjects/Task/"+a, map[string]any{"Subject": "new"}),
			patch("/composite/sobjects", map[string]any{"allOrNone": false, "records": []any{
				task(b, map[string]any{"Subject": "new"}),
				task(c, map[string]any{"Nope__c": "x"}),
			}}),
			get("/sobjects/Task/"+a),
		))
		if diff := cmp.Diff([]int{400, 200, 400}, statuses(got)); diff != "" {
			t.Fatalf("statuses mismatch (-want +got):\n%s", diff)
		}
		var saves []saveAnswer
		if err := json.Unmarshal(got[1].Body, &saves); err != nil {
			t.Fatalf("collections body %s: %v", got[1].Body, err)
		}
		if saves[0].code() != "ALL_OR_NONE_OPERATION_ROLLED_BACK" || saves[1].code() != "INVALID_FIELD" {
			t.Errorf("collection results = %+v", saves)
		}
		for _, id := range []string{a, b, c} {
			checkRecord(t, h.org, "Task", id, "Subject", "old", created)
		}
	})

	t.Run("created-record-removed", func(t *testing.T) {
		got := h.compositeOK(compositeBody(t, true,
			patch("/sobjects/Task/Call_Id__c/fresh", map[string]any{"Subject": "made"}),
			get("/sobjects/Task/"+newID("00T", 1<<40)),
		))
		if diff := cmp.Diff([]int{400, 404}, statuses(got)); diff != "" {
			t.Fatalf("statuses mismatch (-want +got):\n%s", diff)
		}
		if ans := h.queryOK("SELECT Id FROM Task WHERE Call_Id__c = 'fresh'"); ans.TotalSize != 0 {
			t.Errorf("rolled-back upsert left %d records", ans.TotalSize)
		}
	})

	t.Run("without-all-or-none-writes-stay", func(t *testing.T) {
		got := h.compositeOK(compositeBody(t, false,
			patch("/sobjects/Task/"+a, map[string]any{"Subject": "kept"}),
			patch("/sobjects/Task/"+b, map[string]any{"Subject": "new"}, "If-Unmodified-Since", stale),
			patch("/sobjects/Task/"+c, map[string]any{"Subject": "kept"}),
		))
		if diff := cmp.Diff([]int{204, 412, 204}, statuses(got)); diff != "" {
			t.Fatalf("statuses mismatch (-want +got):\n%s", diff)
		}
		written := clock.now()
		checkRecord(t, h.org, "Task", a, "Subject", "kept", written)
		checkRecord(t, h.org, "Task", b, "Subject", "old", created)
		checkRecord(t, h.org, "Task", c, "Subject", "kept", written)
	})
}

func TestCompositeRefusals(t *testing.T) {
	h := newHarness(t)
	id := h.org.Insert("Task", nil)
	repeat := func(n int, s sub) []sub {
		out := make([]sub, n)
		for i := range out {
			out[i] = s
		}
		return out
	}
	describe := get("/sobjects/Task/describe")
	query := get("/query?q=SELECT+Id+FROM+Task")
	retrieve := get("/composite/sobjects/Task?fields=Id&ids=" + id)
	withHeader := func(name string) sub {
		s := describe
		s.HTTPHeaders = map[string]string{name: "x"}
		return s
	}

	tests := []struct {
		name   string
		body   string
		status int
		code   string
	}{
		{"25-subrequests", compositeBody(t, false, repeat(25, describe)...), 200, ""},
		{"26-subrequests", compositeBody(t, false, repeat(26, describe)...), 400, "LIMIT_EXCEEDED"},
		{"5-queries", compositeBody(t, false,
			append(repeat(5, query), repeat(20, describe)...)...), 200, ""},
		{"6-queries", compositeBody(t, false, repeat(6, query)...), 400, "LIMIT_EXCEEDED"},
		{"queries-and-collections", compositeBody(t, false,
			append(repeat(3, query), repeat(3, retrieve)...)...), 400, "LIMIT_EXCEEDED"},
		{"accept-header", compositeBody(t, false, withHeader("Accept")), 400, "INVALID_INPUT"},
		{"authorization-header", compositeBody(t, false, withHeader("authorization")), 400,
			"INVALID_INPUT"},
		{"content-type-header", compositeBody(t, false, withHeader("CONTENT-TYPE")), 400,
			"INVALID_INPUT"},
		{"other-header", compositeBody(t, false, withHeader("Sforce-Query-Options")), 200, ""},
		{"reference-in-url", compositeBody(t, false, get("/sobjects/Task/@{ref0.id}")), 400,
			"INVALID_INPUT"},
		{"reference-in-body", compositeBody(t, false,
			patch("/sobjects/Task/"+id, map[string]any{"Subject": "@{ref0.Subject}"})), 400,
			"INVALID_INPUT"},
		{"lower-case-method", compositeBody(t, false, sub{Method: "get", URL: describe.URL}), 400,
			"INVALID_INPUT"},
		{"no-reference-id", `{"compositeRequest":[{"method":"GET","url":"` + describe.URL + `"}]}`,
			400, "INVALID_INPUT"},
		{"no-subrequests", `{"compositeRequest":[]}`, 400, "INVALID_INPUT"},
		{"malformed", `{"compositeRequest":[`, 400, "JSON_PARSER_ERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.org.ResetCalls()
			res := h.composite(tt.body)
			if res.status != tt.status || res.errorCode() != tt.code {
				t.Fatalf("status %d code %q, want %d %q: %.300s",
					res.status, res.errorCode(), tt.status, tt.code, res.body)
			}
			calls := h.org.Calls()
			ran := 0
			for key, n := range calls.ByEndpoint {
				if strings.HasPrefix(key, SubrequestPrefix) {
					ran += int(n)
				}
			}
			if calls.API != 1 || (ran > 0) != (tt.status == 200) {
				t.Errorf("API calls %d, subrequests run %d; want 1 call, subrequests only on 200",
					calls.API, ran)
			}
		})
	}
}

func TestCompositeFaults(t *testing.T) {
	h := newHarness(t)
	a := h.org.Insert("Task", map[string]any{"Subject": "old"})
	b := h.org.Insert("Task", map[string]any{"Subject": "old"})

	t.Run("record-faults-hit-writes", func(t *testing.T) {
		h.org.SetRecordFaultRate(1, FaultLockRow)
		defer h.org.SetRecordFaultRate(0, FaultLockRow)
		got := h.compositeOK(compositeBody(t, false,
			get("/sobjects/Task/"+a),
			patch("/sobjects/Task/"+a, map[string]any{"Subject": "new"}),
			patch("/sobjects/Task/Call_Id__c/c-new", map[string]any{"Subject": "new"}),
			patch("/composite/sobjects", map[string]any{"records": []any{
				task(a, map[string]any{"Subject": "new"}),
				task(b, map[string]any{"Subject": "new"}),
			}}),
		))
		if diff := cmp.Diff([]int{200, 400, 400, 200}, statuses(got)); diff != "" {
			t.Fatalf("statuses mismatch (-want +got):\n%s", diff)
		}
		for _, i := range []int{1, 2} {
			if got[i].errorCode() != FaultLockRow.Code {
				t.Errorf("result %d body %s, want %s", i, got[i].Body, FaultLockRow.Code)
			}
		}
		var saves []saveAnswer
		if err := json.Unmarshal(got[3].Body, &saves); err != nil {
			t.Fatal(err)
		}
		for i, s := range saves {
			if s.code() != FaultLockRow.Code {
				t.Errorf("collection record %d = %+v, want %s", i, s, FaultLockRow.Code)
			}
		}
		for _, id := range []string{a, b} {
			if rec, _ := h.org.Get("Task", id); rec["Subject"] != "old" {
				t.Errorf("record %s written despite the fault: %v", id, rec["Subject"])
			}
		}
	})

	t.Run("call-fault-hits-whole-composite", func(t *testing.T) {
		h.org.ResetCalls()
		h.org.FailNext(1, FaultUnavailable)
		res := h.composite(compositeBody(t, false,
			patch("/sobjects/Task/"+a, map[string]any{"Subject": "new"})))
		if res.status != FaultUnavailable.Status || res.errorCode() != FaultUnavailable.Code {
			t.Fatalf("status %d body %s, want the injected fault", res.status, res.body)
		}
		if calls := h.org.Calls(); calls.API != 1 || len(calls.ByEndpoint) != 1 {
			t.Errorf("calls = %v, want one composite and no subrequests", calls)
		}
		// The fault is used up: the subrequests themselves draw none.
		got := h.compositeOK(compositeBody(t, false, get("/sobjects/Task/"+a), get("/sobjects/Task/"+b)))
		if diff := cmp.Diff([]int{200, 200}, statuses(got)); diff != "" {
			t.Errorf("statuses mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestCompositeHookRunsOnce(t *testing.T) {
	h := newHarness(t)
	id := h.org.Insert("Task", nil)
	var hooked atomic.Int64
	h.org.SetHook(func(*http.Request) { hooked.Add(1) })

	h.compositeOK(compositeBody(t, false,
		get("/sobjects/Task/"+id), get("/sobjects/Task/"+id), get("/sobjects/Task/describe")))
	if got := hooked.Load(); got != 1 {
		t.Errorf("hook ran %d times for one composite, want 1", got)
	}
}
