package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// okRoute answers an External ID GET with one record and accepts every
// record of a collections update.
func okRoute(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, recordJSON("00T000000000001AAA", nil, "2026-05-01T10:15:00.000+0000"))
	case r.Method == http.MethodPatch && r.URL.Path == dataPrefix+"composite/sobjects":
		var body struct {
			Records []map[string]any `json:"records"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			writeErrors(w, http.StatusBadRequest, "JSON_PARSER_ERROR", err.Error())
			return
		}
		results := make([]map[string]any, len(body.Records))
		for i, rec := range body.Records {
			results[i] = map[string]any{"id": rec["id"], "success": true, "errors": []any{}}
		}
		writeJSON(w, http.StatusOK, results)
	default:
		http.Error(w, "unexpected", http.StatusMethodNotAllowed)
	}
}

func TestTokenRequestForm(t *testing.T) {
	o := newTestOrg(t, okRoute)
	c := o.client(Overwrite, nil)
	if err := c.Prepare(context.Background()); err != nil {
		t.Fatalf("Prepare: %v", err)
	}

	if got := o.tokenRequests.Load(); got != 1 {
		t.Fatalf("token requests = %d, want 1", got)
	}
	form := o.forms[0]
	for key, want := range map[string]string{
		"grant_type": "client_credentials", "client_id": testClientID, "client_secret": testSecret,
	} {
		if got := form.Get(key); got != want {
			t.Errorf("form %s = %q, want %q", key, got, want)
		}
	}
	if got, want := o.ctypes[0], "application/x-www-form-urlencoded"; got != want {
		t.Errorf("Content-Type = %q, want %q", got, want)
	}
}

func TestDataCallsGoToInstanceURL(t *testing.T) {
	o := newTestOrg(t, okRoute)
	c := o.client(Overwrite, nil)
	res, err := c.Apply(context.Background(), Summary{CallID: "c-1", Text: "hello", SummaryID: "s"})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if res.RecordID != "00T000000000001AAA" {
		t.Errorf("RecordID = %q", res.RecordID)
	}
	if got := o.dataRequests.Load(); got != 3 {
		t.Errorf("data server requests = %d, want 3 (describe, lookup, patch)", got)
	}
	if got := o.strayData.Load(); got != 0 {
		t.Errorf("data requests sent to the domain = %d, want 0", got)
	}
	if got := o.strayToken.Load(); got != 0 {
		t.Errorf("token requests sent to the instance = %d, want 0", got)
	}
}

func TestTokenRenewalIsSingleFlight(t *testing.T) {
	const callers = 32
	o := newTestOrg(t, okRoute)
	// Unbatched, so that every caller sends its own calls at once.
	c := o.client(Overwrite, func(cfg *Config) { cfg.BatchSize, cfg.MaxBatches = 1, callers })
	ctx := context.Background()
	if err := c.Prepare(ctx); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	o.expireTokens()
	holdRejections(t, o, callers)

	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			_, err := c.Apply(ctx, Summary{CallID: "c-1", Text: "x", SummaryID: "s"})
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
	if got := o.tokenRequests.Load(); got != 2 {
		t.Errorf("token requests = %d, want 2 (first token and one renewal)", got)
	}
}

// holdRejections makes the data server hold each 401 until n of them are
// waiting, so that n callers meet a stale token at the same time.
func holdRejections(t *testing.T, o *testOrg, n int) {
	var (
		mu      sync.Mutex
		waiting int
		all     = make(chan struct{})
	)
	fn := func() {
		mu.Lock()
		waiting++
		if waiting == n {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
		case <-time.After(5 * time.Second):
			t.Errorf("only %d of %d callers met the stale token", waiting, n)
		}
	}
	o.beforeRejectFn.Store(&fn)
	t.Cleanup(func() { o.beforeRejectFn.Store(nil) })
}

func TestUnauthorizedTwiceIsAnError(t *testing.T) {
	o := newTestOrg(t, okRoute)
	o.rejectAll.Store(true)
	c := o.client(Overwrite, nil)

	err := c.Prepare(context.Background())
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized {
		t.Fatalf("Prepare error = %v, want a 401 *APIError", err)
	}
	if got := ClassOf(err); got != Systemic {
		t.Errorf("class = %v, want systemic", got)
	}
	if got := o.tokenRequests.Load(); got != 2 {
		t.Errorf("token requests = %d, want 2", got)
	}
	if got := o.dataRequests.Load(); got != 2 {
		t.Errorf("data requests = %d, want 2", got)
	}
}

func TestWrongSecret(t *testing.T) {
	o := newTestOrg(t, okRoute)
	c := o.client(Overwrite, func(cfg *Config) { cfg.ClientSecret = "wrong-secret-value" })

	err := c.Prepare(context.Background())
	var tokErr *TokenError
	if !errors.As(err, &tokErr) || tokErr.Code != "invalid_client" {
		t.Fatalf("error = %v, want *TokenError invalid_client", err)
	}
	if got := ClassOf(err); got != Systemic {
		t.Errorf("class = %v, want systemic", got)
	}
	if strings.Contains(err.Error(), "wrong-secret-value") {
		t.Errorf("error contains the secret: %v", err)
	}
	if got := o.dataRequests.Load(); got != 0 {
		t.Errorf("data requests = %d, want 0", got)
	}
}

func TestTokenErrorWithHTMLBody(t *testing.T) {
	o := newTestOrg(t, okRoute)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html><body>" + r.FormValue("client_secret") + "</body></html>"))
	}))
	defer proxy.Close()
	c := o.client(Overwrite, func(cfg *Config) { cfg.Domain = proxy.URL })

	err := c.Prepare(context.Background())
	var tokErr *TokenError
	if !errors.As(err, &tokErr) || tokErr.Status != http.StatusBadGateway {
		t.Fatalf("error = %v, want *TokenError 502", err)
	}
	if got := ClassOf(err); got != Transient {
		t.Errorf("class = %v, want transient", got)
	}
	if strings.Contains(err.Error(), testSecret) || strings.Contains(err.Error(), "<html>") {
		t.Errorf("error repeats the body: %v", err)
	}
}

func TestMultipleChoices(t *testing.T) {
	o := newTestOrg(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusMultipleChoices, []string{
			dataPrefix + "sobjects/Task/00T000000000001AAA",
			dataPrefix + "sobjects/Task/00T000000000002AAA",
		})
	})
	c := o.client(Overwrite, nil)

	_, err := c.Apply(context.Background(), Summary{CallID: "dup", Text: "x", SummaryID: "s"})
	var ambig *AmbiguousMatchError
	if !errors.As(err, &ambig) {
		t.Fatalf("error = %v, want *AmbiguousMatchError", err)
	}
	want := []string{"00T000000000001AAA", "00T000000000002AAA"}
	if strings.Join(ambig.RecordIDs, ",") != strings.Join(want, ",") {
		t.Errorf("RecordIDs = %v, want %v", ambig.RecordIDs, want)
	}
	if got := Reason(err); got != ReasonAmbiguousMatch {
		t.Errorf("Reason = %q", got)
	}
}

func TestServerErrorWithHTMLBody(t *testing.T) {
	o := newTestOrg(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("<html><h1>Maintenance</h1></html>"))
	})
	c := o.client(Overwrite, nil)

	_, err := c.Apply(context.Background(), Summary{CallID: "c-1", Text: "x", SummaryID: "s"})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusServiceUnavailable {
		t.Fatalf("error = %v, want a 503 *APIError", err)
	}
	if got := ClassOf(err); got != Transient {
		t.Errorf("class = %v, want transient", got)
	}
	if strings.Contains(err.Error(), "<html>") {
		t.Errorf("error repeats the HTML body: %v", err)
	}
}

func TestParseUsage(t *testing.T) {
	tests := []struct {
		name  string
		value string
		used  int64
		limit int64
		ok    bool
	}{
		{"plain", "api-usage=25/15000", 25, 15000, true},
		{"with-bursts", "api-usage=10018/100000; api-bursts=1/750", 10018, 100000, true},
		{"bursts-first", "api-bursts=1/750; api-usage=7/5000", 7, 5000, true},
		{"per-app", "api-usage=18/5000; per-app-api-usage=17/250(appName=x)", 18, 5000, true},
		{"only-per-app", "per-app-api-usage=17/250(appName=x)", 0, 0, false},
		{"empty", "", 0, 0, false},
		{"garbage", "api-usage=lots", 0, 0, false},
		{"overflow", "api-usage=99999999999999999999/1", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseUsage(tt.value)
			if ok != tt.ok || got.used != tt.used || got.limit != tt.limit {
				t.Errorf("parseUsage(%q) = %d/%d %v, want %d/%d %v",
					tt.value, got.used, got.limit, ok, tt.used, tt.limit, tt.ok)
			}
		})
	}
}

func TestAPIUsageFollowsResponses(t *testing.T) {
	o := newTestOrg(t, okRoute)
	c := o.client(Overwrite, nil)
	if used, limit := c.APIUsage(); used != 0 || limit != 0 {
		t.Fatalf("APIUsage before any call = %d/%d, want 0/0", used, limit)
	}
	ctx := context.Background()
	if _, err := c.Apply(ctx, Summary{CallID: "c-1", Text: "x", SummaryID: "s"}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	used, limit := c.APIUsage()
	if used != 3 || limit != 15000 {
		t.Errorf("APIUsage = %d/%d, want 3/15000", used, limit)
	}
}

func TestNewChecksConfig(t *testing.T) {
	valid := Config{
		Domain: "https://acme.my.salesforce.com", ClientID: "id", ClientSecret: testSecret,
		APIVersion: "66.0", Object: "Task", LookupField: "Call_Id__c",
		TargetField: "Summary__c", WriteMode: Append,
	}
	tests := []struct {
		name string
		edit func(*Config)
		ok   bool
	}{
		{"valid", func(*Config) {}, true},
		{"http-loopback", func(c *Config) { c.Domain = "http://127.0.0.1:8080" }, true},
		{"no-domain", func(c *Config) { c.Domain = "" }, false},
		{"domain-without-scheme", func(c *Config) { c.Domain = "acme.my.salesforce.com" }, false},
		{"no-client-id", func(c *Config) { c.ClientID = "" }, false},
		{"no-secret", func(c *Config) { c.ClientSecret = "" }, false},
		{"bad-version", func(c *Config) { c.APIVersion = "v66" }, false},
		{"object-injection", func(c *Config) { c.Object = "Task WHERE" }, false},
		{"lookup-with-slash", func(c *Config) { c.LookupField = "a/b" }, false},
		{"no-target", func(c *Config) { c.TargetField = "" }, false},
		{"bad-origin", func(c *Config) { c.OriginField = "x'y" }, false},
		{"bad-mode", func(c *Config) { c.WriteMode = "replace" }, false},
		{"bad-external-id-mode", func(c *Config) { c.LookupExternalID = "yes" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.edit(&cfg)
			_, err := New(cfg)
			if (err == nil) != tt.ok {
				t.Errorf("New error = %v, want ok %v", err, tt.ok)
			}
			if err != nil && strings.Contains(err.Error(), testSecret) {
				t.Errorf("error mentions the secret: %v", err)
			}
		})
	}
}

func TestTokenErrorNeverCarriesSecret(t *testing.T) {
	const secret = "p@ss w+rd/=&x"
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{
			"error": "invalid_request", "error_description": "bad body: " + string(body)})
	}))
	defer echo.Close()
	c, err := New(Config{Domain: echo.URL, ClientID: "cid", ClientSecret: secret, APIVersion: "66.0",
		Object: "Task", LookupField: "Call_Id__c", TargetField: "Summary__c", WriteMode: Overwrite})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Prepare(context.Background())
	if err == nil {
		t.Fatal("Prepare succeeded against a refusing token endpoint")
	}
	for _, form := range []string{secret, url.QueryEscape(secret), url.PathEscape(secret)} {
		if strings.Contains(err.Error(), form) {
			t.Errorf("error %q contains the secret as %q", err.Error(), form)
		}
	}
}
