package sftest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const (
	testClientID     = "client-id"
	testClientSecret = "client-secret"
	testVersion      = "/services/data/v67.0"
)

// harness is a started org with a token for its data API.
type harness struct {
	t     *testing.T
	org   *Org
	srv   *Server
	token string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	org := NewOrg()
	org.AddClient(testClientID, testClientSecret)
	srv, err := org.Start()
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(srv.Close)
	h := &harness{t: t, org: org, srv: srv}
	h.token = h.fetchToken()
	return h
}

// fetchToken asks the token endpoint for a new token.
func (h *harness) fetchToken() string {
	h.t.Helper()
	res := h.tokenRequest(url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {testClientID},
		"client_secret": {testClientSecret},
	}, nil)
	if res.status != http.StatusOK {
		h.t.Fatalf("token: status %d: %s", res.status, res.body)
	}
	var grant map[string]string
	res.decode(h.t, &grant)
	return grant["access_token"]
}

// response is a read HTTP answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
}

// errorCode returns the errorCode of the first element of a REST error
// array, or "" when the body is not one.
func (r response) errorCode() string {
	var errs []struct {
		ErrorCode string `json:"errorCode"`
		Message   string `json:"message"`
	}
	if json.Unmarshal(r.body, &errs) != nil || len(errs) == 0 {
		return ""
	}
	return errs[0].ErrorCode
}

func (r response) message() string {
	var errs []struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(r.body, &errs) != nil || len(errs) == 0 {
		return ""
	}
	return errs[0].Message
}

func (h *harness) tokenRequest(form url.Values, edit func(*http.Request)) response {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.srv.Domain+tokenPath,
		strings.NewReader(form.Encode()))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if edit != nil {
		edit(req)
	}
	return send(h.t, req)
}

// do sends a data call with the harness token to the instance URL; path
// is taken as already escaped.
func (h *harness) do(method, path, body string, headers ...string) response {
	h.t.Helper()
	return h.doWith(h.token, method, path, body, headers...)
}

func (h *harness) doWith(token, method, path, body string, headers ...string) response {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.srv.InstanceURL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return send(h.t, req)
}

// get is a GET under the test API version.
func (h *harness) get(path string) response {
	h.t.Helper()
	return h.do(http.MethodGet, testVersion+path, "")
}

// query runs a SOQL statement.
func (h *harness) query(soql string) response {
	h.t.Helper()
	return h.get("/query?q=" + url.QueryEscape(soql))
}

func send(t *testing.T, req *http.Request) response {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return response{status: res.StatusCode, header: res.Header, body: body}
}

// queryRecords decodes a query answer.
type queryAnswer struct {
	TotalSize      int              `json:"totalSize"`
	Done           bool             `json:"done"`
	NextRecordsURL string           `json:"nextRecordsUrl"`
	Records        []map[string]any `json:"records"`
}

func (h *harness) queryOK(soql string) queryAnswer {
	h.t.Helper()
	res := h.query(soql)
	if res.status != http.StatusOK {
		h.t.Fatalf("query %q: status %d: %s", soql, res.status, res.body)
	}
	var ans queryAnswer
	res.decode(h.t, &ans)
	return ans
}

func ids(recs []map[string]any) []string {
	out := make([]string, 0, len(recs))
	for _, r := range recs {
		id, _ := r["Id"].(string)
		out = append(out, id)
	}
	return out
}
