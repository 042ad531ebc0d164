// Package salesforce writes call summaries into Salesforce records over the
// REST API: it fetches and caches a client-credentials token, finds the
// record whose lookup field holds a call id, and overwrites or appends to a
// target field. Its errors are classified by ClassOf.
package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// WriteMode says how a summary is written into the target field.
type WriteMode string

// Write modes.
const (
	Overwrite WriteMode = "overwrite"
	Append    WriteMode = "append"
)

// ExternalIDMode says whether the lookup field is read through the External
// ID endpoint ("true"), through SOQL ("false"), or as describe says ("auto").
type ExternalIDMode string

// External ID modes.
const (
	ExternalIDAuto ExternalIDMode = "auto"
	ExternalIDYes  ExternalIDMode = "true"
	ExternalIDNo   ExternalIDMode = "false"
)

// Config holds what the client needs to reach the org and which fields it
// uses. Object and field names are API names, matched case-insensitively as
// Salesforce does.
type Config struct {
	Domain           string // base URL for token requests, e.g. https://acme.my.salesforce.com
	ClientID         string
	ClientSecret     string
	APIVersion       string // e.g. "66.0"
	Object           string
	LookupField      string
	LookupExternalID ExternalIDMode // empty means auto
	OriginField      string         // optional; tried when LookupField finds nothing
	TargetField      string
	WriteMode        WriteMode
	TooLong          TooLongPolicy // empty means Reject
	HTTPClient       *http.Client  // nil: a client with a 30 s timeout

	// BatchSize is the most summaries one batch holds, 1 to 200; 0 means
	// 200. BatchLinger is how long the first summary of a batch waits for
	// company; 0 sends at once. MaxBatches bounds the batches at work at
	// once; 0 means 4.
	BatchSize   int
	BatchLinger time.Duration
	MaxBatches  int

	// Observer, when not nil, is told of every call, for metrics.
	Observer Observer
}

// Summary is one call summary to write.
type Summary struct {
	CallID     string
	Text       string
	SummaryID  string    // identifies the summary across redeliveries; required in append mode
	OccurredAt time.Time // zero when unknown
}

// Result says what Apply did.
type Result struct {
	RecordID       string
	AlreadyApplied bool // append mode: this SummaryID's block was already in the field
	Truncated      bool // the too-long policy cut the summary or dropped older blocks
}

// Client writes summaries into one object of one org. It is safe for use by
// many goroutines at once.
type Client struct {
	cfg  Config
	http *http.Client

	flight singleflight.Group
	tokMu  sync.Mutex
	tok    *token

	schema atomic.Pointer[schema]
	usage  atomic.Pointer[apiUsage]

	locks   recordLocks
	batches *batcher
	clock   orgClock
}

const defaultTimeout = 30 * time.Second

// minAPIVersion is the first version serving sObject Collections.
const minAPIVersion = 42

// versionBelow reports whether version ("66.0") is below major.0.
func versionBelow(version string, major int) bool {
	n, err := strconv.Atoi(strings.TrimSuffix(version, ".0"))
	return err != nil || n < major
}

var (
	apiNamePattern    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	apiVersionPattern = regexp.MustCompile(`^[0-9]+\.[0-9]$`)
)

// New checks cfg and returns a client. It does no I/O; Prepare (or the
// first Apply) talks to the org.
func New(cfg Config) (*Client, error) {
	if cfg.LookupExternalID == "" {
		cfg.LookupExternalID = ExternalIDAuto
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = maxBatchSize
	}
	if cfg.TooLong == "" {
		cfg.TooLong = Reject
	}
	if cfg.MaxBatches == 0 {
		cfg.MaxBatches = defaultMaxRunning
	}
	cfg.Domain = strings.TrimRight(cfg.Domain, "/")
	if err := validate(cfg); err != nil {
		return nil, fmt.Errorf("salesforce: config: %w", err)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: defaultTimeout}
	}
	c := &Client{cfg: cfg, http: hc}
	c.batches = newBatcher(cfg.BatchSize, cfg.MaxBatches, cfg.BatchLinger, c.runBatch)
	return c, nil
}

func validate(cfg Config) error {
	if err := validateURL(cfg.Domain); err != nil {
		return fmt.Errorf("domain: %w", err)
	}
	switch {
	case cfg.ClientID == "":
		return errors.New("client id is empty")
	case cfg.ClientSecret == "":
		return errors.New("client secret is empty")
	case !apiVersionPattern.MatchString(cfg.APIVersion):
		return fmt.Errorf("api version %q is not like 66.0", cfg.APIVersion)
	case versionBelow(cfg.APIVersion, minAPIVersion):
		return fmt.Errorf("api version %s is older than %d.0, which sObject Collections need",
			cfg.APIVersion, minAPIVersion)
	case cfg.BatchSize < 1 || cfg.BatchSize > maxBatchSize:
		return fmt.Errorf("batch size %d is not between 1 and %d", cfg.BatchSize, maxBatchSize)
	case cfg.BatchLinger < 0:
		return fmt.Errorf("batch linger %s is negative", cfg.BatchLinger)
	case cfg.MaxBatches < 1:
		return fmt.Errorf("max batches %d is less than 1", cfg.MaxBatches)
	}
	if err := validateNames(cfg); err != nil {
		return err
	}
	switch cfg.LookupExternalID {
	case ExternalIDAuto, ExternalIDYes, ExternalIDNo:
	default:
		return fmt.Errorf("lookup external id %q is not auto, true or false", cfg.LookupExternalID)
	}
	switch cfg.WriteMode {
	case Overwrite, Append:
	default:
		return fmt.Errorf("write mode %q is not overwrite or append", cfg.WriteMode)
	}
	switch cfg.TooLong {
	case Reject, TruncateOldest, TruncateSummary:
	default:
		return fmt.Errorf("too-long policy %q is not reject, truncate-oldest or truncate-summary",
			cfg.TooLong)
	}
	return nil
}

// validateNames keeps object and field names to API-name characters, since
// they travel unquoted in SOQL and in URL paths.
func validateNames(cfg Config) error {
	names := []struct{ what, name string }{
		{"object", cfg.Object},
		{"lookup field", cfg.LookupField},
		{"target field", cfg.TargetField},
	}
	if cfg.OriginField != "" {
		names = append(names, struct{ what, name string }{"origin field", cfg.OriginField})
	}
	for _, n := range names {
		if !apiNamePattern.MatchString(n.name) {
			return fmt.Errorf("%s %q is not an API name", n.what, n.name)
		}
	}
	return nil
}

func validateURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a URL")
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL with a host", raw)
	}
	return nil
}

// response is a data response read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

// maxBody bounds what is read of any response; a record with a few long
// text fields fits easily.
const maxBody = 32 << 20

// request is a data call relative to /services/data/v{version}/.
type request struct {
	method string
	path   string // already escaped, e.g. "sobjects/Task/describe"
	query  url.Values
	body   any // marshalled as JSON when not nil
	header http.Header
}

// do sends rq to the instance with the cached token. On a 401
// INVALID_SESSION_ID it renews the token once and sends rq once more.
// Any status comes back as a response; only transport failures are errors.
func (c *Client) do(ctx context.Context, rq request) (*response, error) {
	body, err := marshalBody(rq.body)
	if err != nil {
		return nil, err
	}
	tok, err := c.token(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := c.send(ctx, tok, rq, body)
	if err != nil || !isInvalidSession(resp) {
		return resp, err
	}

	tok, err = c.renewToken(ctx, tok)
	if err != nil {
		return nil, err
	}
	return c.send(ctx, tok, rq, body)
}

func marshalBody(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("salesforce: encode request: %w", err)
	}
	return b, nil
}

func (c *Client) send(ctx context.Context, tok *token, rq request, body []byte) (*response, error) {
	req, err := c.newRequest(ctx, tok, rq, body)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	resp, err := c.roundTrip(req)
	c.observe(resourceOf(rq), resp, start)
	if err != nil {
		return nil, fmt.Errorf("salesforce: %s %s: %w", rq.method, firstSegment(rq.path), err)
	}
	c.clock.observe(resp.header.Get("Date"), time.Now())
	c.noteUsage(resp.header)
	return resp, nil
}

func (c *Client) newRequest(ctx context.Context, tok *token, rq request, body []byte) (
	*http.Request, error) {
	target := tok.instanceURL + "/services/data/v" + c.cfg.APIVersion + "/" + rq.path
	if len(rq.query) > 0 {
		target += "?" + rq.query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, rq.method, target, rd)
	if err != nil {
		return nil, fmt.Errorf("salesforce: build request: %w", err)
	}
	for k, vs := range rq.header {
		req.Header[k] = vs
	}
	req.Header.Set("Authorization", "Bearer "+tok.access)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// roundTrip sends req and reads the whole response.
func (c *Client) roundTrip(req *http.Request) (*response, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// firstSegment names a call in errors without the values in its path.
func firstSegment(path string) string {
	head, _, _ := strings.Cut(path, "/")
	return head
}

// restError is one element of a REST error array.
type restError struct {
	Message   string   `json:"message"`
	ErrorCode string   `json:"errorCode"`
	Fields    []string `json:"fields"`
}

// apiError turns a failed response into an *APIError. The body is usually a
// JSON error array; HTML or empty bodies (proxies, 5xx) keep only the status.
func (r *response) apiError() *APIError {
	e := &APIError{Status: r.status, Message: http.StatusText(r.status)}
	var list []restError
	if json.Unmarshal(r.body, &list) == nil && len(list) > 0 {
		setRestError(e, list[0])
		return e
	}
	var one restError
	if json.Unmarshal(r.body, &one) == nil && one.ErrorCode != "" {
		setRestError(e, one)
	}
	return e
}

func setRestError(e *APIError, re restError) {
	e.Code = re.ErrorCode
	if re.Message != "" {
		e.Message = scrubValue(re.Message)
	}
	e.Fields = re.Fields
}

// valueEcho matches the part of a STRING_TOO_LONG message that repeats the
// value sent, which is summary text and must not reach logs or the DLQ.
var valueEcho = regexp.MustCompile(`(?s)data value too large: .*\(max length=`)

func scrubValue(msg string) string {
	return valueEcho.ReplaceAllLiteralString(msg, "data value too large: [value omitted] (max length=")
}

func isInvalidSession(r *response) bool {
	return r.status == http.StatusUnauthorized && r.apiError().Code == "INVALID_SESSION_ID"
}

// apiUsage is one reading of the Sforce-Limit-Info header.
type apiUsage struct{ used, limit int64 }

var usagePattern = regexp.MustCompile(`(?:^|[;,\s])api-usage=(\d+)/(\d+)`)

// parseUsage reads api-usage=N/M from a Sforce-Limit-Info value, which may
// carry other "; key=value" parts.
func parseUsage(v string) (apiUsage, bool) {
	m := usagePattern.FindStringSubmatch(v)
	if m == nil {
		return apiUsage{}, false
	}
	used, err1 := strconv.ParseInt(m[1], 10, 64)
	limit, err2 := strconv.ParseInt(m[2], 10, 64)
	if err1 != nil || err2 != nil {
		return apiUsage{}, false
	}
	return apiUsage{used: used, limit: limit}, true
}

func (c *Client) noteUsage(h http.Header) {
	if u, ok := parseUsage(h.Get("Sforce-Limit-Info")); ok {
		c.usage.Store(&u)
	}
}

// APIUsage returns the org's API usage and daily limit from the last
// Sforce-Limit-Info header seen, or 0, 0 before any.
func (c *Client) APIUsage() (used, limit int64) {
	u := c.usage.Load()
	if u == nil {
		return 0, 0
	}
	return u.used, u.limit
}

// shared runs fn once for all concurrent callers with the same key. fn runs
// on a context that one caller's cancellation does not end, so the others
// still get its result; each caller stops waiting when its own ctx ends.
func (c *Client) shared(ctx context.Context, key string,
	fn func(context.Context) (any, error)) (any, error) {
	detached := context.WithoutCancel(ctx)
	ch := c.flight.DoChan(key, func() (any, error) {
		fctx, cancel := context.WithTimeout(detached, defaultTimeout)
		defer cancel()
		return fn(fctx)
	})
	select {
	case res := <-ch:
		return res.Val, res.Err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
