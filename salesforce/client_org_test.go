package salesforce

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callsummary/connector/salesforce/sftest"
)

// orgEnv is a fake org served on loopback for one test.
type orgEnv struct {
	t   *testing.T
	org *sftest.Org
	srv *sftest.Server
}

// startOrg serves a new fake org and, when the test ends, checks that no
// call went to the External ID upsert endpoints, which create records.
func startOrg(t *testing.T) *orgEnv {
	t.Helper()
	org := sftest.NewOrg()
	org.AddClient(testClientID, testSecret)
	srv, err := org.Start()
	if err != nil {
		t.Fatalf("start org: %v", err)
	}
	t.Cleanup(func() {
		srv.Close()
		calls := org.Calls()
		for _, ep := range []string{sftest.EndpointExternalIDPatch, sftest.EndpointExternalIDPost} {
			if n := calls.ByEndpoint[ep]; n != 0 {
				t.Errorf("%d calls to %s", n, ep)
			}
		}
	})
	return &orgEnv{t: t, org: org, srv: srv}
}

func (e *orgEnv) client(mode WriteMode, edit func(*Config)) *Client {
	e.t.Helper()
	return newTestClient(e.t, e.srv.Domain, mode, edit)
}

// summaryOf returns the target field of a record, "" for null.
func (e *orgEnv) summaryOf(id, field string) string {
	e.t.Helper()
	rec, ok := e.org.Get("Task", id)
	if !ok {
		e.t.Fatalf("record %s is gone", id)
	}
	s, _ := rec[field].(string)
	return s
}

// trickyCallIDs are call ids that break naive escaping in a path or in SOQL.
// %s is replaced by the lookup field's name.
var trickyCallIDs = []struct{ name, id string }{
	{"quote", "O'Brien"},
	{"backslash", `back\slash`},
	{"escaped-quote", `x\'y`},
	{"slash", "a/b"},
	{"spaces", "call with spaces"},
	{"plus", "a+b"},
	{"percent", "50%"},
	{"underscore", "a_b"},
	{"query-characters", "?#&="},
	{"extension", "agent@example.inc"},
	{"non-ascii", "Zoë-電話-𝄞"},
	{"newline", "line\nbreak"},
	{"injection", "' OR %s != '"},
}

// decoysFor returns near misses of id: values a wrong escaping or a
// wildcard match could confuse with it, none equal to it ignoring case.
func decoysFor(id string) []string {
	r := strings.NewReplacer
	candidates := []string{
		id + "x", "x" + id, strings.ToUpper(id) + " ",
		url.PathEscape(id), url.QueryEscape(id),
		r(`\`, `\\`).Replace(id), r(`\`, "").Replace(id),
		r("'", `\'`).Replace(id), r("'", "").Replace(id), r(`\'`, "'").Replace(id),
		r(" ", "+").Replace(id), r("+", " ").Replace(id),
		r("%", "ABC").Replace(id), r("_", "Z").Replace(id),
		r("/", "%2F").Replace(id), strings.TrimSuffix(id, ".inc"),
		r("\n", `\n`).Replace(id), r("\n", "").Replace(id),
		"c-1", "",
	}
	var out []string
	for _, d := range candidates {
		if d != "" && !strings.EqualFold(d, id) && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

func TestOrgFindsExactlyTheRecord(t *testing.T) {
	paths := []struct {
		name  string
		field string
	}{
		{"external-id", "Call_Id__c"},
		{"soql-custom-field", "Origin_Call_Id__c"},
		{"soql-call-object", "CallObject"},
	}
	for _, p := range paths {
		for _, tc := range trickyCallIDs {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				id := tc.id
				if strings.Contains(id, "%s") {
					id = fmt.Sprintf(id, p.field)
				}
				findsExactly(t, p.field, id)
			})
		}
	}
}

// findsExactly seeds a record holding callID in field among decoys and
// checks that Apply writes that record and no other.
func findsExactly(t *testing.T, field, callID string) {
	e := startOrg(t)
	want := e.org.Insert("Task", map[string]any{field: callID})
	var decoys []string
	for _, d := range decoysFor(callID) {
		decoys = append(decoys, e.org.Insert("Task", map[string]any{field: d}))
	}
	c := e.client(Overwrite, func(cfg *Config) { cfg.LookupField = field })

	res, err := c.Apply(context.Background(), Summary{CallID: callID, Text: "the summary",
		SummaryID: "s"})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if res.RecordID != want {
		t.Errorf("RecordID = %s, want %s", res.RecordID, want)
	}
	if got := e.summaryOf(want, "Summary__c"); got != "the summary" {
		t.Errorf("target record holds %q", got)
	}
	for _, d := range decoys {
		if got := e.summaryOf(d, "Summary__c"); got != "" {
			t.Errorf("decoy %s was written: %q", d, got)
		}
	}
	checkLookupEndpoint(t, e, c, callID)
}

// checkLookupEndpoint checks that the lookup took the path it should.
func checkLookupEndpoint(t *testing.T, e *orgEnv, c *Client, callID string) {
	t.Helper()
	calls := e.org.Calls().ByEndpoint
	byPath := c.UsesExternalID() && pathSafe(callID)
	if got := calls[sftest.EndpointExternalIDGet] == 1; got != byPath {
		t.Errorf("external id GETs = %d, want path lookup %v", calls[sftest.EndpointExternalIDGet], byPath)
	}
	if got := calls[sftest.EndpointQuery] == 1; got == byPath {
		t.Errorf("queries = %d, want query lookup %v", calls[sftest.EndpointQuery], !byPath)
	}
}

func TestOrgAmbiguousMatch(t *testing.T) {
	tests := []struct {
		name  string
		field string
	}{
		{"multiple-choices", "Call_Id__c"},
		{"two-query-rows", "Origin_Call_Id__c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := startOrg(t)
			want := []string{
				e.org.Insert("Task", map[string]any{tt.field: "dup-1"}),
				e.org.Insert("Task", map[string]any{tt.field: "DUP-1"}),
			}
			e.org.Insert("Task", map[string]any{tt.field: "dup-2"})
			c := e.client(Append, func(cfg *Config) { cfg.LookupField = tt.field })

			_, err := c.Apply(context.Background(), Summary{CallID: "dup-1", Text: "x", SummaryID: "s"})
			var ambig *AmbiguousMatchError
			if !errors.As(err, &ambig) {
				t.Fatalf("error = %v, want *AmbiguousMatchError", err)
			}
			got := slices.Sorted(slices.Values(ambig.RecordIDs))
			if !slices.Equal(got, slices.Sorted(slices.Values(want))) {
				t.Errorf("RecordIDs = %v, want %v", got, want)
			}
			if n := e.org.Calls().ByEndpoint[sftest.EndpointRecordPatch]; n != 0 {
				t.Errorf("%d record PATCHes, want 0", n)
			}
		})
	}
}

func TestOrgOriginFallback(t *testing.T) {
	e := startOrg(t)
	id := e.org.Insert("Task", map[string]any{"Origin_Call_Id__c": "c-7"})
	e.org.Insert("Task", map[string]any{"Call_Id__c": "c-8"})
	c := e.client(Overwrite, func(cfg *Config) { cfg.OriginField = "Origin_Call_Id__c" })
	ctx := context.Background()

	res, err := c.Apply(ctx, Summary{CallID: "c-7", Text: "via origin", SummaryID: "s"})
	if err != nil || res.RecordID != id {
		t.Fatalf("Apply = %+v, %v; want record %s", res, err, id)
	}
	if got := e.summaryOf(id, "Summary__c"); got != "via origin" {
		t.Errorf("field = %q", got)
	}

	_, err = c.Apply(ctx, Summary{CallID: "c-9", Text: "x", SummaryID: "s"})
	var nf *NotFoundError
	if !errors.As(err, &nf) || !slices.Equal(nf.Fields, []string{"Call_Id__c", "Origin_Call_Id__c"}) {
		t.Fatalf("error = %v, want *NotFoundError naming both fields", err)
	}
}

func TestOrgAppendIsIdempotent(t *testing.T) {
	e := startOrg(t)
	id := e.org.Insert("Task", map[string]any{"Call_Id__c": "c-1", "Summary__c": "agent note"})
	c := e.client(Append, nil)
	s := Summary{CallID: "c-1", Text: "Customer asked for a refund.", SummaryID: "sum-1",
		OccurredAt: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
	ctx := context.Background()

	first, err := c.Apply(ctx, s)
	if err != nil || first.AlreadyApplied {
		t.Fatalf("first Apply = %+v, %v", first, err)
	}
	second, err := c.Apply(ctx, s)
	if err != nil || !second.AlreadyApplied || second.RecordID != id {
		t.Fatalf("second Apply = %+v, %v; want AlreadyApplied on %s", second, err, id)
	}
	if got, want := e.summaryOf(id, "Summary__c"), "agent note\n\n"+Block(s); got != want {
		t.Errorf("field = %q, want %q", got, want)
	}
}

func TestOrgAppendRetriesAfterConcurrentEdit(t *testing.T) {
	e := startOrg(t)
	var clock atomic.Int64
	clock.Store(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC).UnixMilli())
	e.org.SetClock(func() time.Time { return time.UnixMilli(clock.Load()) })
	id := e.org.Insert("Task", map[string]any{"Call_Id__c": "c-1", "Summary__c": "agent note"})

	// Between the client's read and its first write, an agent edits the
	// record two seconds later.
	var edited atomic.Bool
	e.org.SetHook(func(r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/composite") || !edited.CompareAndSwap(false, true) {
			return
		}
		clock.Add(2000)
		if err := e.org.Update("Task", id, map[string]any{"Summary__c": "agent note, edited"}); err != nil {
			t.Errorf("Update: %v", err)
		}
	})
	c := e.client(Append, nil)
	s := Summary{CallID: "c-1", Text: "summary", SummaryID: "sum-1"}

	res, err := c.Apply(context.Background(), s)
	if err != nil || res.AlreadyApplied {
		t.Fatalf("Apply = %+v, %v", res, err)
	}
	if got, want := e.summaryOf(id, "Summary__c"), "agent note, edited\n\n"+Block(s); got != want {
		t.Errorf("field = %q, want %q", got, want)
	}
	calls := e.org.Calls().ByEndpoint
	if n := calls[sftest.SubrequestPrefix+sftest.EndpointRecordPatch]; n != 2 {
		t.Errorf("record PATCHes = %d, want 2 (one refused with 412)", n)
	}
	if n := calls[sftest.EndpointComposite]; n != 2 {
		t.Errorf("composite calls = %d, want 2", n)
	}
}

func TestOrgConcurrentAppends(t *testing.T) {
	const writers = 10
	e := startOrg(t)
	id := e.org.Insert("Task", map[string]any{"Call_Id__c": "c-1"})
	c := e.client(Append, nil)

	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			s := Summary{CallID: "c-1", Text: fmt.Sprint("part ", i), SummaryID: fmt.Sprint("sum-", i)}
			if _, err := c.Apply(context.Background(), s); err != nil {
				t.Errorf("Apply %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	got := e.summaryOf(id, "Summary__c")
	for i := range writers {
		if n := strings.Count(got, Marker(fmt.Sprint("sum-", i))); n != 1 {
			t.Errorf("block sum-%d appears %d times", i, n)
		}
	}
}

func TestOrgExpiredTokenIsRenewedOnce(t *testing.T) {
	e := startOrg(t)
	id := e.org.Insert("Task", map[string]any{"Call_Id__c": "c-1"})
	c := e.client(Overwrite, nil)
	ctx := context.Background()
	if err := c.Prepare(ctx); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	e.org.ExpireTokens()

	if _, err := c.Apply(ctx, Summary{CallID: "c-1", Text: "after expiry", SummaryID: "s"}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got := e.summaryOf(id, "Summary__c"); got != "after expiry" {
		t.Errorf("field = %q", got)
	}
	if got := e.org.Calls().Token; got != 2 {
		t.Errorf("token requests = %d, want 2", got)
	}
}

func TestOrgTokenLifetime(t *testing.T) {
	e := startOrg(t)
	e.org.Insert("Task", map[string]any{"Call_Id__c": "c-1"})
	e.org.SetTokenLifetime(2)
	c := e.client(Overwrite, nil)

	// Each Apply after Prepare takes two data calls, so every token expires
	// just before the next Apply.
	for i := range 4 {
		if _, err := c.Apply(context.Background(), Summary{CallID: "c-1", Text: "x",
			SummaryID: "s"}); err != nil {
			t.Fatalf("Apply %d: %v", i, err)
		}
	}
	if got := e.org.Calls().Token; got != 5 {
		t.Errorf("token requests = %d, want 5: one, then one per expiry", got)
	}
}

func TestOrgWrongSecret(t *testing.T) {
	for _, status := range []int{http.StatusBadRequest, http.StatusUnauthorized} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			e := startOrg(t)
			e.org.SetInvalidClientStatus(status)
			c := e.client(Overwrite, func(cfg *Config) { cfg.ClientSecret = "not-the-secret" })

			_, err := c.Apply(context.Background(), Summary{CallID: "c-1", Text: "x", SummaryID: "s"})
			var tokErr *TokenError
			if !errors.As(err, &tokErr) || tokErr.Code != "invalid_client" {
				t.Fatalf("error = %v, want *TokenError invalid_client", err)
			}
			if got := ClassOf(err); got != Systemic {
				t.Errorf("class = %v, want systemic", got)
			}
			if strings.Contains(err.Error(), "not-the-secret") {
				t.Errorf("error contains the secret: %v", err)
			}
			if got := e.org.Calls().API; got != 0 {
				t.Errorf("API calls = %d, want 0", got)
			}
		})
	}
}

func TestOrgSetupErrors(t *testing.T) {
	tests := []struct {
		name   string
		target string
	}{
		{"misnamed-target", "Sumary__c"},
		{"read-only-target", "Read_Only_Notes__c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := startOrg(t)
			c := e.client(Append, func(cfg *Config) { cfg.TargetField = tt.target })

			err := c.Prepare(context.Background())
			var setup *SetupError
			if !errors.As(err, &setup) {
				t.Fatalf("error = %v, want *SetupError", err)
			}
			if got := ClassOf(err); got != Systemic {
				t.Errorf("class = %v, want systemic", got)
			}
		})
	}
}

func TestOrgTooLong(t *testing.T) {
	e := startOrg(t)
	id := e.org.Insert("Task", map[string]any{"Call_Id__c": "c-1"})
	c := e.client(Append, func(cfg *Config) { cfg.TargetField = "Short_Summary__c" })
	ctx := context.Background()

	// 245 clefs are 245 runes but 490 UTF-16 units: with the header the
	// block passes 500 only when counted as Salesforce counts.
	long := Summary{CallID: "c-1", Text: strings.Repeat("𝄞", 245), SummaryID: "s1"}
	_, err := c.Apply(ctx, long)
	var tooLong *TooLongError
	if !errors.As(err, &tooLong) || tooLong.Max != 500 {
		t.Fatalf("error = %v, want *TooLongError max 500", err)
	}
	if got := e.summaryOf(id, "Short_Summary__c"); got != "" {
		t.Errorf("field was written: %d characters", Length(got))
	}

	fits := Summary{CallID: "c-1", Text: strings.Repeat("𝄞", 220), SummaryID: "s2"}
	if _, err := c.Apply(ctx, fits); err != nil {
		t.Fatalf("Apply of a fitting summary: %v", err)
	}
	if got := e.summaryOf(id, "Short_Summary__c"); got != Block(fits) {
		t.Errorf("field = %d characters, want the block", Length(got))
	}
}

func TestOrgFaults(t *testing.T) {
	tests := []struct {
		name  string
		fault sftest.Fault
		class Class
	}{
		{"unavailable", sftest.FaultUnavailable, Transient},
		{"lock-row", sftest.FaultLockRow, Transient},
		{"request-limit", sftest.FaultRequestLimit, Systemic},
		{"server-error", sftest.FaultServerError, Transient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := startOrg(t)
			e.org.Insert("Task", map[string]any{"Call_Id__c": "c-1"})
			c := e.client(Append, nil)
			ctx := context.Background()
			if err := c.Prepare(ctx); err != nil {
				t.Fatalf("Prepare: %v", err)
			}
			e.org.FailNext(1, tt.fault)
			s := Summary{CallID: "c-1", Text: "x", SummaryID: "s"}

			_, err := c.Apply(ctx, s)
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Code != tt.fault.Code {
				t.Fatalf("error = %v, want *APIError %s", err, tt.fault.Code)
			}
			if got := ClassOf(err); got != tt.class {
				t.Errorf("class = %v, want %v", got, tt.class)
			}
			if _, err := c.Apply(ctx, s); err != nil {
				t.Errorf("Apply after the fault: %v", err)
			}
		})
	}
}

func TestOrgAPIUsage(t *testing.T) {
	e := startOrg(t)
	e.org.Insert("Task", map[string]any{"Call_Id__c": "c-1"})
	e.org.SetUsage(1000, 15000)
	c := e.client(Overwrite, nil)

	if _, err := c.Apply(context.Background(), Summary{CallID: "c-1", Text: "x", SummaryID: "s"}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	used, limit := c.APIUsage()
	if want, _ := e.org.Usage(); used != want || limit != 15000 {
		t.Errorf("APIUsage = %d/%d, want %d/15000", used, limit, want)
	}
}

func TestSummaryQuotingAHeaderDoesNotHideAnother(t *testing.T) {
	env := startOrg(t)
	id := env.org.Insert("Task", map[string]any{"Call_Id__c": "c-2"})
	c := env.client(Append, nil)
	ctx := context.Background()
	spoof := "innocent text\n" + Block(Summary{SummaryID: "victim-1", Text: "spoof"})
	if _, err := c.Apply(ctx, Summary{CallID: "c-2", Text: spoof, SummaryID: "first"}); err != nil {
		t.Fatalf("apply spoof: %v", err)
	}
	res, err := c.Apply(ctx, Summary{CallID: "c-2", Text: "the real summary", SummaryID: "victim-1"})
	if err != nil {
		t.Fatalf("apply victim: %v", err)
	}
	rec, _ := env.org.Get("Task", id)
	if res.AlreadyApplied || !strings.Contains(rec["Summary__c"].(string), "the real summary") {
		t.Errorf("got AlreadyApplied=%v and field %q, want the second summary written",
			res.AlreadyApplied, rec["Summary__c"])
	}
}
