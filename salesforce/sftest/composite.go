package sftest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Limits of a composite request (salesforce-api.md §6).
const (
	maxSubrequests      = 25
	maxQuerySubrequests = 5 // query and sObject Collections subrequests
)

// msgHalted is the message of PROCESSING_HALTED, as observed.
const msgHalted = "The transaction was rolled back since another operation in the same " +
	"transaction failed."

// compositeRequest is the body of POST composite. collateSubrequests is
// accepted and has no effect: subrequests always run one after another.
type compositeRequest struct {
	AllOrNone          bool         `json:"allOrNone"`
	CollateSubrequests bool         `json:"collateSubrequests"`
	Subrequests        []subrequest `json:"compositeRequest"`
}

type subrequest struct {
	Method      string            `json:"method"`
	URL         string            `json:"url"`
	ReferenceID string            `json:"referenceId"`
	Body        json.RawMessage   `json:"body"`
	HTTPHeaders map[string]string `json:"httpHeaders"`
}

// subresult is the answer of one subrequest; a nil Body is written as
// null, as for a 204.
type subresult struct {
	Body           json.RawMessage   `json:"body"`
	HTTPHeaders    map[string]string `json:"httpHeaders"`
	HTTPStatusCode int               `json:"httpStatusCode"`
	ReferenceID    string            `json:"referenceId"`
}

type compositeResponse struct {
	Results []subresult `json:"compositeResponse"`
}

// serveComposite answers POST composite: 200 with one result per
// subrequest in order, or 400 when the request breaks a rule of the
// resource, in which case no subrequest runs.
func (o *Org) serveComposite(c *call) *failure {
	var req compositeRequest
	if f := decodeBody(c.r, &req); f != nil {
		return f
	}
	if f := checkComposite(req.Subrequests); f != nil {
		return f
	}
	writeJSON(c.w, http.StatusOK, compositeResponse{o.runComposite(c, req)})
	return nil
}

// runComposite runs the subrequests in order. With allOrNone, the first
// failure undoes the writes of the earlier subrequests, which then report
// PROCESSING_HALTED like the ones that never ran.
func (o *Org) runComposite(c *call, req compositeRequest) []subresult {
	var unit *journal
	if req.AllOrNone {
		unit = &journal{}
	}
	results := make([]subresult, len(req.Subrequests))
	failed := -1
	for i, sub := range req.Subrequests {
		if failed >= 0 {
			results[i] = halted(sub)
			continue
		}
		res, ok := o.runSubrequest(c, sub, unit, req.AllOrNone)
		results[i] = res
		if !ok && req.AllOrNone {
			failed = i
		}
	}
	if failed < 0 {
		return results
	}

	o.mu.Lock()
	o.rollback(unit)
	o.mu.Unlock()
	for i := range failed {
		results[i] = halted(req.Subrequests[i])
	}
	return results
}

func halted(sub subrequest) subresult {
	body, _ := marshal([]apiError{{Message: msgHalted, ErrorCode: "PROCESSING_HALTED"}})
	return subresult{
		Body: body, HTTPHeaders: map[string]string{},
		HTTPStatusCode: http.StatusBadRequest, ReferenceID: sub.ReferenceID,
	}
}

// checkComposite enforces the rules of the whole request before anything
// runs: the number of subrequests, the number of query and collections
// subrequests, and the fields of each.
func checkComposite(subs []subrequest) *failure {
	switch {
	case len(subs) == 0:
		return invalidInput("compositeRequest must hold at least one subrequest")
	case len(subs) > maxSubrequests:
		return fail(http.StatusBadRequest, "LIMIT_EXCEEDED", fmt.Sprintf(
			"A composite request can hold at most %d subrequests, not %d",
			maxSubrequests, len(subs)))
	}
	heavy := 0
	for i, sub := range subs {
		path, f := checkSubrequest(i, sub)
		if f != nil {
			return f
		}
		if queryOrCollections(path) {
			heavy++
		}
	}
	if heavy > maxQuerySubrequests {
		return fail(http.StatusBadRequest, "LIMIT_EXCEEDED", fmt.Sprintf(
			"A composite request can hold at most %d query or sObject Collections "+
				"subrequests, not %d", maxQuerySubrequests, heavy))
	}
	return nil
}

func invalidInput(message string) *failure {
	return fail(http.StatusBadRequest, "INVALID_INPUT", message)
}

// Subrequest methods, as the composite resource spells them.
var subrequestMethods = map[string]bool{
	http.MethodGet: true, http.MethodPost: true, http.MethodPatch: true,
	http.MethodPut: true, http.MethodDelete: true,
}

// checkSubrequest checks one subrequest and returns the escaped path of
// its url.
func checkSubrequest(i int, sub subrequest) (string, *failure) {
	at := fmt.Sprintf("compositeRequest[%d]: ", i)
	if !subrequestMethods[sub.Method] {
		return "", invalidInput(at + "method must be one of GET, POST, PATCH, PUT, DELETE")
	}
	if sub.URL == "" || sub.ReferenceID == "" {
		return "", invalidInput(at + "url and referenceId are required")
	}
	for name := range sub.HTTPHeaders {
		switch http.CanonicalHeaderKey(name) {
		case "Accept", "Authorization", "Content-Type":
			return "", invalidInput(at + "httpHeaders must not set " + name +
				": subrequests inherit it from the composite request")
		}
	}
	if strings.Contains(sub.URL, "@{") || bytes.Contains(sub.Body, []byte("@{")) {
		return "", invalidInput(at + "@{reference} substitution is not supported by sftest")
	}
	u, err := url.Parse(sub.URL)
	if err != nil {
		return "", invalidInput(at + "url cannot be parsed")
	}
	return u.EscapedPath(), nil
}

// queryOrCollections says whether a subrequest path is a query or an
// sObject Collections call, of which a composite may hold only a few.
func queryOrCollections(path string) bool {
	rest, ok := strings.CutPrefix(path, dataPrefix)
	if !ok {
		return false
	}
	segs := strings.Split(rest, "/")
	if len(segs) < 2 {
		return false
	}
	switch segs[1] {
	case "query", "queryAll":
		return true
	case "composite":
		return len(segs) > 2 && segs[2] == "sobjects"
	}
	return false
}

// runSubrequest serves one subrequest through the same routes and
// resources as a direct call, without charging it, authenticating it,
// delaying it or drawing call faults for it; the API version is still
// checked. It reports whether the subrequest succeeded.
func (o *Org) runSubrequest(
	parent *call, sub subrequest, unit *journal, allOrNone bool,
) (subresult, bool) {
	rec := &recorder{header: make(http.Header)}
	r, err := subHTTPRequest(parent.r, sub)
	if err != nil {
		writeFailure(rec, invalidInput("the subrequest cannot be built: "+err.Error()))
		return rec.result(sub.ReferenceID), false
	}
	c := &call{
		w: rec, r: r, set: parent.set,
		journal: unit, allOrNone: allOrNone, recordFaults: true,
	}
	path := r.URL.EscapedPath()
	if !strings.HasPrefix(sub.URL, dataPrefix) {
		path = "" // only /services/data/vXX.X/ urls name a resource
	}
	rt, version := o.route(r.Method, path, c)
	c.version = version
	o.counts.endpoint(SubrequestPrefix + rt.endpoint)

	f := checkVersion(version)
	if f == nil && rt.endpoint == EndpointComposite {
		f = invalidInput("a composite request cannot hold a composite subrequest")
	}
	if f == nil {
		f = rt.serve(c)
	}
	if f != nil {
		writeFailure(rec, f)
	}
	res := rec.result(sub.ReferenceID)
	return res, res.HTTPStatusCode < http.StatusBadRequest && !c.partial
}

// subHTTPRequest builds the request a subrequest stands for. Accept comes
// from the composite request; a body is sent as JSON.
func subHTTPRequest(parent *http.Request, sub subrequest) (*http.Request, error) {
	var body io.Reader
	hasBody := len(sub.Body) > 0 && string(sub.Body) != "null"
	if hasBody {
		body = bytes.NewReader(sub.Body)
	}
	r, err := http.NewRequestWithContext(parent.Context(), sub.Method, sub.URL, body)
	if err != nil {
		return nil, err
	}
	for name, value := range sub.HTTPHeaders {
		r.Header.Set(name, value)
	}
	if accept := parent.Header.Get("Accept"); accept != "" {
		r.Header.Set("Accept", accept)
	}
	if hasBody {
		r.Header.Set("Content-Type", "application/json")
	}
	return r, nil
}

// recorder is the response writer of a subrequest.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (rec *recorder) Header() http.Header { return rec.header }

func (rec *recorder) WriteHeader(status int) {
	if rec.status == 0 {
		rec.status = status
	}
}

func (rec *recorder) Write(b []byte) (int, error) {
	rec.WriteHeader(http.StatusOK)
	return rec.body.Write(b)
}

// result is the recorded answer as a subresult. Headers that describe the
// composite response as a whole, not the subrequest, are left out.
func (rec *recorder) result(referenceID string) subresult {
	res := subresult{
		HTTPHeaders: map[string]string{}, HTTPStatusCode: rec.status, ReferenceID: referenceID,
	}
	if res.HTTPStatusCode == 0 {
		res.HTTPStatusCode = http.StatusOK
	}
	if rec.body.Len() > 0 {
		res.Body = json.RawMessage(rec.body.Bytes())
	}
	for name, values := range rec.header {
		switch name {
		case "Content-Type", "Content-Length", limitInfoKey:
			continue
		}
		res.HTTPHeaders[name] = strings.Join(values, ", ")
	}
	return res
}
