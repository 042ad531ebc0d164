package salesforce

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

const (
	testClientID = "client-id"
	testSecret   = "s3cret-value"
	tokenPath    = "/services/oauth2/token"
	dataPrefix   = "/services/data/v66.0/"
)

// testOrg is a token server and a separate data server, so tests can see
// exactly which requests reach which. The data server answers describe
// itself and hands other authorised requests to route.
type testOrg struct {
	t     *testing.T
	token *httptest.Server
	data  *httptest.Server

	mu       sync.Mutex
	valid    map[string]bool // tokens the data server accepts
	issued   int
	forms    []url.Values
	ctypes   []string
	describe string
	route    http.HandlerFunc

	tokenRequests  atomic.Int64
	dataRequests   atomic.Int64
	strayToken     atomic.Int64 // token requests that reached the data server
	strayData      atomic.Int64 // data requests that reached the token server
	describes      atomic.Int64
	describeStatus atomic.Int64 // 0 means 200
	rejectAll      atomic.Bool  // answer 401 even to valid tokens
	beforeRejectFn atomic.Pointer[func()]
}

func newTestOrg(t *testing.T, route http.HandlerFunc) *testOrg {
	t.Helper()
	o := &testOrg{t: t, valid: map[string]bool{}, describe: taskDescribe, route: route}
	o.token = httptest.NewServer(http.HandlerFunc(o.serveToken))
	o.data = httptest.NewServer(http.HandlerFunc(o.serveData))
	t.Cleanup(o.token.Close)
	t.Cleanup(o.data.Close)
	return o
}

func (o *testOrg) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != tokenPath {
		o.strayData.Add(1)
		http.NotFound(w, r)
		return
	}
	o.tokenRequests.Add(1)
	_ = r.ParseForm()
	o.mu.Lock()
	o.forms = append(o.forms, r.PostForm)
	o.ctypes = append(o.ctypes, r.Header.Get("Content-Type"))
	o.mu.Unlock()
	if r.PostForm.Get("client_secret") != testSecret {
		writeJSON(w, http.StatusBadRequest, map[string]string{
			"error": "invalid_client", "error_description": "invalid client credentials"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{
		"access_token": o.issue(), "instance_url": o.data.URL, "token_type": "Bearer",
		"id": o.data.URL + "/id/00D/005", "issued_at": "1767225600000", "signature": "c2ln"})
}

func (o *testOrg) issue() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.issued++
	tok := fmt.Sprintf("tok-%d", o.issued)
	o.valid[tok] = true
	return tok
}

// expireTokens makes every token issued so far invalid.
func (o *testOrg) expireTokens() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.valid = map[string]bool{}
}

func (o *testOrg) serveData(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == tokenPath {
		o.strayToken.Add(1)
		http.NotFound(w, r)
		return
	}
	o.dataRequests.Add(1)
	w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/15000", o.dataRequests.Load()))
	if !o.authorised(r) {
		if fn := o.beforeRejectFn.Load(); fn != nil {
			(*fn)()
		}
		writeErrors(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
		return
	}
	if strings.HasSuffix(r.URL.Path, "/describe") {
		o.describes.Add(1)
		o.mu.Lock()
		body := o.describe
		o.mu.Unlock()
		status := int(o.describeStatus.Load())
		if status == 0 {
			status = http.StatusOK
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
		return
	}
	o.route(w, r)
}

func (o *testOrg) authorised(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	o.mu.Lock()
	defer o.mu.Unlock()
	return ok && o.valid[tok] && !o.rejectAll.Load()
}

func (o *testOrg) setDescribe(body string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.describe = body
}

// client returns a client for o in mode, after changes by edit (may be nil).
func (o *testOrg) client(mode WriteMode, edit func(*Config)) *Client {
	o.t.Helper()
	return newTestClient(o.t, o.token.URL, mode, edit)
}

// newTestClient returns a client of the test credentials for the org whose
// token endpoint is at domain, after changes by edit (may be nil).
func newTestClient(t *testing.T, domain string, mode WriteMode, edit func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		Domain: domain, ClientID: testClientID, ClientSecret: testSecret,
		APIVersion: "66.0", Object: "Task", LookupField: "Call_Id__c",
		TargetField: "Summary__c", WriteMode: mode,
	}
	if edit != nil {
		edit(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErrors(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, []map[string]any{{"errorCode": code, "message": msg, "fields": []string{}}})
}

// taskDescribe is a trimmed Task describe. Summary__c is short so tests can
// reach its length.
const taskDescribe = `{"name":"Task","keyPrefix":"00T","fields":[
{"name":"Id","type":"id","length":18,"externalId":false,"idLookup":true,"filterable":true,"updateable":false},
{"name":"Call_Id__c","type":"string","length":255,"externalId":true,"idLookup":true,"filterable":true,"updateable":true},
{"name":"CallObject","type":"string","length":255,"externalId":false,"idLookup":false,"filterable":true,"updateable":true},
{"name":"Summary__c","type":"textarea","length":120,"externalId":false,"idLookup":false,"filterable":false,"updateable":true},
{"name":"Description","type":"textarea","length":32000,"externalId":false,"idLookup":false,"filterable":false,"updateable":true},
{"name":"Read_Only_Notes__c","type":"textarea","length":255,"externalId":false,"idLookup":false,"filterable":false,"updateable":false},
{"name":"Done__c","type":"boolean","length":0,"externalId":false,"idLookup":false,"filterable":true,"updateable":true},
{"name":"LastModifiedDate","type":"datetime","length":0,"externalId":false,"idLookup":false,"filterable":true,"updateable":false}]}`

// recordJSON renders a record as the REST API does.
func recordJSON(id string, summary any, lastModified string) map[string]any {
	return map[string]any{
		"attributes":       map[string]string{"type": "Task", "url": dataPrefix + "sobjects/Task/" + id},
		"Id":               id,
		"Summary__c":       summary,
		"LastModifiedDate": lastModified,
	}
}
