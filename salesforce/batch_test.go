package salesforce

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callsummary/connector/salesforce/sftest"
)

// oneBatch returns a client whose batches hold exactly n summaries: the
// linger is long, so the batch leaves when the n-th summary joins it.
func (e *orgEnv) oneBatch(mode WriteMode, n int, edit func(*Config)) *Client {
	e.t.Helper()
	return e.client(mode, func(cfg *Config) {
		cfg.BatchSize, cfg.BatchLinger = n, time.Minute
		if edit != nil {
			edit(cfg)
		}
	})
}

// applyAll applies summaries from one goroutine each and returns the
// results and errors in the same order.
func applyAll(c *Client, summaries []Summary) ([]Result, []error) {
	results := make([]Result, len(summaries))
	errs := make([]error, len(summaries))
	var wg sync.WaitGroup
	for i, s := range summaries {
		wg.Go(func() { results[i], errs[i] = c.Apply(context.Background(), s) })
	}
	wg.Wait()
	return results, errs
}

// seedTasks inserts n Tasks with call ids prefix-0 … and returns their ids.
func (e *orgEnv) seedTasks(prefix string, n int, fields map[string]any) []string {
	ids := make([]string, n)
	for i := range ids {
		rec := map[string]any{"Call_Id__c": fmt.Sprint(prefix, i), "CallObject": fmt.Sprint(prefix, i)}
		for k, v := range fields {
			rec[k] = v
		}
		ids[i] = e.org.Insert("Task", rec)
	}
	return ids
}

func TestBatchSpendsOneCallPerStep(t *testing.T) {
	tests := []struct {
		name       string
		mode       WriteMode
		lookup     string
		writes     string
		wantWrites int64
	}{
		// 200 summaries: one query, then one collections update, or
		// composites of 24 conditional writes and a read-back each.
		{"overwrite", Overwrite, "Call_Id__c", sftest.EndpointCollectionsPatch, 1},
		{"append", Append, "Call_Id__c", sftest.EndpointComposite, 9},
		{"overwrite-soql-field", Overwrite, "CallObject", sftest.EndpointCollectionsPatch, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := startOrg(t)
			ids := e.seedTasks("c-", 200, map[string]any{"Summary__c": "agent note"})
			c := e.oneBatch(tt.mode, 200, func(cfg *Config) { cfg.LookupField = tt.lookup })
			if err := c.Prepare(context.Background()); err != nil {
				t.Fatal(err)
			}
			before := e.org.Calls()

			summaries := make([]Summary, 200)
			for i := range summaries {
				summaries[i] = Summary{CallID: fmt.Sprint("c-", i), Text: fmt.Sprint("summary ", i),
					SummaryID: fmt.Sprint("s-", i)}
			}
			results, errs := applyAll(c, summaries)
			for i, err := range errs {
				if err != nil || results[i].RecordID != ids[i] {
					t.Fatalf("summary %d: %+v, %v; want record %s", i, results[i], err, ids[i])
				}
			}
			for i, id := range ids {
				got := e.summaryOf(id, "Summary__c")
				if !strings.HasSuffix(got, summaries[i].Text) {
					t.Fatalf("record %d holds %q", i, got)
				}
			}
			after := e.org.Calls()
			if got := after.API - before.API; got != 1+tt.wantWrites {
				t.Errorf("API calls = %d, want %d", got, 1+tt.wantWrites)
			}
			if got := after.ByEndpoint[sftest.EndpointQuery]; got != 1 {
				t.Errorf("queries = %d, want 1", got)
			}
			if got := after.ByEndpoint[tt.writes]; got != tt.wantWrites {
				t.Errorf("%s calls = %d, want %d", tt.writes, got, tt.wantWrites)
			}
		})
	}
}

// TestBatchOutcomesAreIsolated puts summaries meeting every kind of fate
// in one batch and checks that each meets its own.
func TestBatchOutcomesAreIsolated(t *testing.T) {
	for _, mode := range []WriteMode{Overwrite, Append} {
		t.Run(string(mode), func(t *testing.T) {
			e := startOrg(t)
			good := e.org.Insert("Task", map[string]any{"Call_Id__c": "good"})
			e.org.Insert("Task", map[string]any{"Call_Id__c": "twice"})
			e.org.Insert("Task", map[string]any{"Call_Id__c": "twice"})
			gone := e.org.Insert("Task", map[string]any{"Call_Id__c": "gone"})
			short := e.org.Insert("Task", map[string]any{"Call_Id__c": "short"})
			e.org.SetHook(func(r *http.Request) {
				if r.Method != http.MethodGet { // after the lookup, before the write
					e.org.Delete("Task", gone)
				}
			})
			c := e.oneBatch(mode, 5, func(cfg *Config) { cfg.TargetField = "Short_Summary__c" })

			_, errs := applyAll(c, []Summary{
				{CallID: "good", Text: "fine", SummaryID: "s1"},
				{CallID: "unknown", Text: "x", SummaryID: "s2"},
				{CallID: "twice", Text: "x", SummaryID: "s3"},
				{CallID: "gone", Text: "x", SummaryID: "s4"},
				{CallID: "short", Text: strings.Repeat("x", 501), SummaryID: "s5"},
			})
			if errs[0] != nil {
				t.Errorf("good: %v", errs[0])
			}
			var (
				nf      *NotFoundError
				ambig   *AmbiguousMatchError
				tooLong *TooLongError
			)
			if !errors.As(errs[1], &nf) {
				t.Errorf("unknown: %v, want *NotFoundError", errs[1])
			}
			if !errors.As(errs[2], &ambig) || len(ambig.RecordIDs) != 2 {
				t.Errorf("twice: %v, want *AmbiguousMatchError with 2 ids", errs[2])
			}
			if ClassOf(errs[3]) != Permanent || !strings.Contains(errs[3].Error(), "ENTITY_IS_DELETED") {
				t.Errorf("gone: %v (%v), want permanent ENTITY_IS_DELETED", errs[3], ClassOf(errs[3]))
			}
			if !errors.As(errs[4], &tooLong) {
				t.Errorf("short: %v, want *TooLongError", errs[4])
			}
			if got := e.summaryOf(good, "Short_Summary__c"); !strings.Contains(got, "fine") {
				t.Errorf("good record holds %q", got)
			}
			if got := e.summaryOf(short, "Short_Summary__c"); got != "" {
				t.Errorf("short record holds %d characters, want none", len(got))
			}
		})
	}
}

func TestBatchSameRecordTwice(t *testing.T) {
	tests := []struct {
		name    string
		mode    WriteMode
		want    func(a, b Summary) string
		already []bool
	}{
		{"overwrite-later-wins", Overwrite,
			func(_, b Summary) string { return b.Text }, []bool{false, false}},
		{"append-both-in-order", Append,
			func(a, b Summary) string { return Block(a) + "\n\n" + Block(b) }, []bool{false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := startOrg(t)
			id := e.org.Insert("Task", map[string]any{"Call_Id__c": "c-1"})
			c := e.oneBatch(tt.mode, 2, nil)
			a := Summary{CallID: "c-1", Text: "first", SummaryID: "s-a"}
			b := Summary{CallID: "C-1", Text: "second", SummaryID: "s-b"} // same record, other case
			results, errs := applyInOrder(c, a, b)
			for i := range errs {
				if errs[i] != nil || results[i].RecordID != id || results[i].AlreadyApplied != tt.already[i] {
					t.Errorf("summary %d: %+v, %v", i, results[i], errs[i])
				}
			}
			if got, want := e.summaryOf(id, "Summary__c"), tt.want(a, b); got != want {
				t.Errorf("field = %q, want %q", got, want)
			}
			patches := e.org.Calls().ByEndpoint
			if n := patches[sftest.SubrequestPrefix+sftest.EndpointRecordPatch] +
				patches[sftest.EndpointCollectionsPatch]; n != 1 {
				t.Errorf("writes = %d, want 1", n)
			}
		})
	}
}

// applyInOrder submits summaries one after another into the same batch
// and waits for all of them.
func applyInOrder(c *Client, summaries ...Summary) ([]Result, []error) {
	jobs := make([]*job, len(summaries))
	for i, s := range summaries {
		jobs[i] = newJob(context.Background(), s)
		c.batches.submit(jobs[i])
	}
	results := make([]Result, len(jobs))
	errs := make([]error, len(jobs))
	for i, j := range jobs {
		a := <-j.answer
		results[i], errs[i] = a.res, a.err
	}
	return results, errs
}

func TestBatchRepeatedSummaryIsAppendedOnce(t *testing.T) {
	e := startOrg(t)
	id := e.org.Insert("Task", map[string]any{"Call_Id__c": "c-1", "Summary__c": "note"})
	c := e.oneBatch(Append, 2, nil)
	if err := c.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := Summary{CallID: "c-1", Text: "summary", SummaryID: "s-1"}
	results, errs := applyInOrder(c, s, s)
	if errs[0] != nil || errs[1] != nil || results[0].AlreadyApplied || !results[1].AlreadyApplied {
		t.Errorf("results %+v, errors %v; want applied, then already applied", results, errs)
	}
	if got, want := e.summaryOf(id, "Summary__c"), "note\n\n"+Block(s); got != want {
		t.Errorf("field = %q, want %q", got, want)
	}
}

// TestBatchLookupStaysWithinURLLimit looks up 200 call ids of 170
// characters each, full of quotes that escaping and URL encoding blow up,
// which cannot share one query URL. The fake refuses a URI over 16 KiB.
func TestBatchLookupStaysWithinURLLimit(t *testing.T) {
	e := startOrg(t)
	summaries := make([]Summary, 200)
	ids := make([]string, len(summaries))
	encoded := 0
	for i := range summaries {
		callID := fmt.Sprintf("%03d-%s", i, strings.Repeat("ü'", 83))
		encoded += len(url.QueryEscape("'" + EscapeSOQL(callID) + "',"))
		ids[i] = e.org.Insert("Task", map[string]any{"CallObject": callID})
		summaries[i] = Summary{CallID: callID, Text: fmt.Sprint("summary ", i), SummaryID: "s"}
	}
	c := e.oneBatch(Overwrite, len(summaries), func(cfg *Config) { cfg.LookupField = "CallObject" })

	results, errs := applyAll(c, summaries)
	for i := range errs {
		if errs[i] != nil || results[i].RecordID != ids[i] {
			t.Fatalf("summary %d: %+v, %v", i, results[i], errs[i])
		}
	}
	fewest := encoded/(16<<10) + 1
	if got := e.org.Calls().ByEndpoint[sftest.EndpointQuery]; got < int64(fewest) || got > int64(2*fewest) {
		t.Errorf("queries = %d, want between %d and %d", got, fewest, 2*fewest)
	}
}

func TestBatchOriginFallback(t *testing.T) {
	e := startOrg(t)
	direct := e.org.Insert("Task", map[string]any{"Call_Id__c": "a"})
	origin := e.org.Insert("Task", map[string]any{"Origin_Call_Id__c": "b"})
	c := e.oneBatch(Overwrite, 3, func(cfg *Config) { cfg.OriginField = "Origin_Call_Id__c" })

	results, errs := applyAll(c, []Summary{
		{CallID: "a", Text: "x", SummaryID: "1"},
		{CallID: "b", Text: "y", SummaryID: "2"},
		{CallID: "c", Text: "z", SummaryID: "3"},
	})
	if errs[0] != nil || results[0].RecordID != direct {
		t.Errorf("a: %+v, %v; want %s", results[0], errs[0], direct)
	}
	if errs[1] != nil || results[1].RecordID != origin {
		t.Errorf("b: %+v, %v; want %s", results[1], errs[1], origin)
	}
	var nf *NotFoundError
	if !errors.As(errs[2], &nf) || strings.Join(nf.Fields, ",") != "Call_Id__c,Origin_Call_Id__c" {
		t.Errorf("c: %v, want *NotFoundError on both fields", errs[2])
	}
	if got := e.org.Calls().ByEndpoint[sftest.EndpointQuery]; got != 2 {
		t.Errorf("queries = %d, want 2 (lookup field, then origin field)", got)
	}
}

// TestBatchCaseSensitiveField checks that rows are matched to call ids as
// the field compares: with case on a case-sensitive field.
func TestBatchCaseSensitiveField(t *testing.T) {
	e := startOrg(t)
	e.org.DefineObject(sftest.Object{Name: "Call__c", Fields: []sftest.Field{
		{Name: "Key__c", Type: "string", Length: 80, ExternalID: true, Unique: true,
			CaseSensitive: true, Filterable: true, Updateable: true, IDLookup: true},
		{Name: "Notes__c", Type: "textarea", Length: 32000, Updateable: true, Nillable: true},
	}})
	upper := e.org.Insert("Call__c", map[string]any{"Key__c": "AB"})
	lower := e.org.Insert("Call__c", map[string]any{"Key__c": "ab"})
	c := e.oneBatch(Overwrite, 2, func(cfg *Config) {
		cfg.Object, cfg.LookupField, cfg.TargetField = "Call__c", "Key__c", "Notes__c"
	})

	results, errs := applyAll(c, []Summary{
		{CallID: "AB", Text: "upper", SummaryID: "1"},
		{CallID: "ab", Text: "lower", SummaryID: "2"},
	})
	if errs[0] != nil || results[0].RecordID != upper || errs[1] != nil || results[1].RecordID != lower {
		t.Errorf("results %+v, errors %v; want %s then %s", results, errs, upper, lower)
	}
}

// TestBatchTransientFailureReachesEveryItem fails the one write call of a
// batch and checks that every summary in it gets a transient error.
func TestBatchTransientFailureReachesEveryItem(t *testing.T) {
	for _, mode := range []WriteMode{Overwrite, Append} {
		t.Run(string(mode), func(t *testing.T) {
			e := startOrg(t)
			e.seedTasks("c-", 3, nil)
			c := e.oneBatch(mode, 3, nil)
			if err := c.Prepare(context.Background()); err != nil {
				t.Fatal(err)
			}
			e.org.SetHook(func(r *http.Request) {
				if r.Method != http.MethodGet {
					e.org.FailNext(1, sftest.FaultUnavailable)
				}
			})
			_, errs := applyAll(c, []Summary{
				{CallID: "c-0", Text: "x", SummaryID: "0"},
				{CallID: "c-1", Text: "x", SummaryID: "1"},
				{CallID: "c-2", Text: "x", SummaryID: "2"},
			})
			for i, err := range errs {
				if err == nil || ClassOf(err) != Transient {
					t.Errorf("summary %d: %v, want a transient error", i, err)
				}
			}
		})
	}
}

// TestBatchAppendRefusedTogetherIsRetriedAlone has Salesforce count bytes,
// so two summaries that fit the field's characters together overflow it:
// neither is dead-lettered for the other's sake, and, written one after
// another, the first lands and only the second is too long.
func TestBatchAppendRefusedTogetherIsRetriedAlone(t *testing.T) {
	e := startOrg(t)
	e.org.SetCountBytes(true)
	id := e.org.Insert("Task", map[string]any{"Call_Id__c": "c-1"})
	first := Summary{CallID: "c-1", Text: strings.Repeat("é", 200), SummaryID: "s-1"}
	second := Summary{CallID: "c-1", Text: strings.Repeat("è", 200), SummaryID: "s-2"}
	c := e.oneBatch(Append, 2, func(cfg *Config) { cfg.TargetField = "Short_Summary__c" })

	_, errs := applyInOrder(c, first, second)
	for i, err := range errs {
		if !errors.Is(err, errRetryAlone) || ClassOf(err) != Transient {
			t.Errorf("together, summary %d: %v; want a transient retry-alone error", i, err)
		}
	}

	alone := e.oneBatch(Append, 1, func(cfg *Config) { cfg.TargetField = "Short_Summary__c" })
	if _, err := alone.Apply(context.Background(), first); err != nil {
		t.Fatalf("first alone: %v", err)
	}
	_, err := alone.Apply(context.Background(), second)
	if ClassOf(err) != Permanent || Reason(err) != ReasonStringTooLong {
		t.Errorf("second alone: %v; want a permanent STRING_TOO_LONG", err)
	}
	if got := e.summaryOf(id, "Short_Summary__c"); got != Block(first) {
		t.Errorf("field = %q, want the first block only", got)
	}
}
