package sftest

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestVersions(t *testing.T) {
	h := newHarness(t)
	res := send(t, mustRequest(t, http.MethodGet, h.srv.InstanceURL+"/services/data/"))
	if res.status != http.StatusOK {
		t.Fatalf("versions: status %d", res.status)
	}
	if got := res.header.Get("Sforce-Limit-Info"); got != "" {
		t.Errorf("versions carry Sforce-Limit-Info %q, want none", got)
	}
	var list []versionInfo
	res.decode(t, &list)
	first, last := list[0], list[len(list)-1]
	if first != (versionInfo{"Summer '14", "/services/data/v31.0", "31.0"}) ||
		last != (versionInfo{"Winter '27", "/services/data/v68.0", "68.0"}) {
		t.Errorf("versions run from %+v to %+v", first, last)
	}

	tests := []struct {
		version string
		status  int
	}{
		{"v31.0", 200}, {"v67.0", 200}, {"v68.0", 200},
		{"v30.0", 410}, {"v21.0", 410}, {"v20.0", 404}, {"v69.0", 404}, {"v67.1", 404}, {"latest", 404},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			res := h.do(http.MethodGet, "/services/data/"+tt.version+"/sobjects/Task/describe", "")
			if res.status != tt.status {
				t.Errorf("status %d, want %d: %s", res.status, tt.status, res.body)
			}
		})
	}
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestCallsAndLimitInfo(t *testing.T) {
	h := newHarness(t) // one token request
	h.org.SetUsage(500, 1000)
	id := h.org.Insert("Task", map[string]any{"Call_Id__c": "c-1"})

	h.get("/sobjects/Task/describe")
	h.query("SELECT Id FROM Task")
	h.get("/sobjects/Task/" + id)
	h.do(http.MethodPatch, testVersion+"/sobjects/Task/"+id, `{"Subject":"x"}`)
	h.get("/sobjects/Task/Call_Id__c/c-1")
	last := h.get("/sobjects/Task/Call_Id__c/none") // a 404 is still charged
	h.doWith("", http.MethodGet, testVersion+"/sobjects/Task/describe", "")
	send(t, mustRequest(t, http.MethodGet, h.srv.InstanceURL+"/services/data/"))

	if got, want := last.header.Get("Sforce-Limit-Info"), "api-usage=506/1000"; got != want {
		t.Errorf("Sforce-Limit-Info = %q, want %q", got, want)
	}
	want := Calls{Token: 1, API: 6, ByEndpoint: map[string]int64{
		EndpointToken: 1, EndpointDescribe: 2, EndpointQuery: 1, EndpointRecordGet: 1,
		EndpointRecordPatch: 1, EndpointExternalIDGet: 2, EndpointVersions: 1,
	}}
	if diff := cmp.Diff(want, h.org.Calls()); diff != "" {
		t.Errorf("Calls() mismatch (-want +got):\n%s", diff)
	}
	if used, limit := h.org.Usage(); used != 506 || limit != 1000 {
		t.Errorf("Usage() = %d/%d, want 506/1000", used, limit)
	}

	h.org.ResetCalls()
	if got := h.org.Calls(); got.API != 0 || got.Token != 0 || len(got.ByEndpoint) != 0 {
		t.Errorf("after ResetCalls: %v", got)
	}
}

func TestEnforceLimit(t *testing.T) {
	h := newHarness(t)
	h.org.SetUsage(99, 100)
	h.org.SetEnforceLimit(true)
	if res := h.get("/sobjects/Task/describe"); res.status != http.StatusOK {
		t.Fatalf("last allowed call: status %d", res.status)
	}
	res := h.get("/sobjects/Task/describe")
	if res.status != http.StatusForbidden || res.errorCode() != "REQUEST_LIMIT_EXCEEDED" {
		t.Errorf("over the limit: status %d body %s, want 403 REQUEST_LIMIT_EXCEEDED", res.status, res.body)
	}
}

func TestFailNext(t *testing.T) {
	faults := []Fault{FaultUnavailable, FaultLockRow, FaultRequestLimit, FaultServerError}
	for _, f := range faults {
		t.Run(strings.ToLower(strings.ReplaceAll(f.Code, "_", "-")), func(t *testing.T) {
			h := newHarness(t)
			h.org.FailNext(2, f)
			for i := range 2 {
				res := h.get("/sobjects/Task/describe")
				if res.status != f.Status || res.errorCode() != f.Code || res.message() != f.Message {
					t.Fatalf("call %d: status %d body %s, want %d %s", i+1, res.status, res.body, f.Status, f.Code)
				}
				if res.header.Get("Sforce-Limit-Info") == "" {
					t.Errorf("call %d: no Sforce-Limit-Info", i+1)
				}
			}
			if res := h.get("/sobjects/Task/describe"); res.status != http.StatusOK {
				t.Errorf("third call: status %d, want 200", res.status)
			}
		})
	}

	t.Run("zero-clears", func(t *testing.T) {
		h := newHarness(t)
		h.org.FailNext(5, FaultUnavailable)
		h.org.FailNext(0, FaultUnavailable)
		if res := h.get("/sobjects/Task/describe"); res.status != http.StatusOK {
			t.Errorf("status %d, want 200", res.status)
		}
	})
	t.Run("lock-row-has-empty-fields", func(t *testing.T) {
		h := newHarness(t)
		h.org.FailNext(1, FaultLockRow)
		if res := h.get("/sobjects/Task/describe"); !strings.Contains(string(res.body), `"fields":[]`) {
			t.Errorf("body = %s, want an empty fields list", res.body)
		}
	})
}

func TestSetFaultRate(t *testing.T) {
	h := newHarness(t)
	h.org.SetFaultRate(1, FaultLockRow)
	if res := h.get("/sobjects/Task/describe"); res.errorCode() != FaultLockRow.Code {
		t.Fatalf("rate 1: status %d body %s", res.status, res.body)
	}

	h.org.SetFaultRate(0, FaultLockRow)
	h.org.SetFaultRate(0.25, FaultUnavailable)
	h.org.SetFaultRate(0.25, FaultServerError)
	const calls = 400
	got := map[int]int{}
	for range calls {
		got[h.get("/sobjects/Task/describe").status]++
	}
	// Each fault has probability 1/4, so 100 of each are expected; landing
	// outside these bounds (5 standard deviations) happens about once in a
	// million runs.
	for _, status := range []int{200, 503, 500} {
		low, high := 50, 150
		if status == 200 {
			low, high = 150, 250
		}
		if got[status] < low || got[status] > high {
			t.Errorf("status %d answered %d of %d calls, want %d..%d (all: %v)",
				status, got[status], calls, low, high, got)
		}
	}
	if got[400] != 0 {
		t.Errorf("removed fault answered %d calls", got[400])
	}
}

func TestLatency(t *testing.T) {
	h := newHarness(t)
	const delay = 60 * time.Millisecond
	h.org.SetLatency(delay)
	start := time.Now()
	h.get("/sobjects/Task/describe")
	if elapsed := time.Since(start); elapsed < delay {
		t.Errorf("data call took %v, want at least %v", elapsed, delay)
	}

	start = time.Now()
	h.fetchToken()
	if elapsed := time.Since(start); elapsed >= delay {
		t.Errorf("token call took %v; latency applies to data calls only", elapsed)
	}
}

func TestConcurrentUse(t *testing.T) {
	h := newHarness(t)
	const workers, perWorker = 8, 50
	recIDs := make([]string, workers)
	for w := range workers {
		recIDs[w] = h.org.Insert("Task", map[string]any{"Call_Id__c": fmt.Sprint("c-", w)})
	}

	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				callID := fmt.Sprint("c-", w)
				body := fmt.Sprintf(`{"Description":"%d"}`, i)
				if res := h.do(http.MethodPatch, testVersion+"/sobjects/Task/"+recIDs[w], body); res.status != 204 {
					t.Errorf("patch: status %d", res.status)
				}
				if res := h.get("/sobjects/Task/Call_Id__c/" + callID); res.status != 200 {
					t.Errorf("lookup: status %d", res.status)
				}
				if err := h.org.Update("Task", recIDs[(w+1)%workers], map[string]any{"Subject": "x"}); err != nil {
					t.Errorf("update: %v", err)
				}
			}
		}()
	}
	wg.Wait()

	for w := range workers {
		rec, _ := h.org.Get("Task", recIDs[w])
		if rec["Description"] != fmt.Sprint(perWorker-1) {
			t.Errorf("record %d: Description = %v", w, rec["Description"])
		}
	}
	if got, want := h.org.Calls().API, int64(2*workers*perWorker); got != want {
		t.Errorf("API calls = %d, want %d", got, want)
	}
}
