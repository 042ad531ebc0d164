package sftest

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// dataPrefix starts every REST data path.
const dataPrefix = "/services/data/"

// Served API versions (salesforce-api.md §7 and §9).
const (
	oldestVersion  = 31
	newestVersion  = 68
	oldestRetired  = 21
	limitInfoKey   = "Sforce-Limit-Info"
	queryBatchSize = 2000
)

// call is one data request being served: a top-level request or a
// subrequest of a composite.
type call struct {
	w       http.ResponseWriter
	r       *http.Request
	version string   // such as "67.0"
	segs    []string // escaped path segments after the version
	set     *settings

	// journal, when set, records writes so that an enclosing composite
	// request can undo them.
	journal *journal
	// allOrNone is set inside a composite with allOrNone, which overrides
	// the flag of a collections subrequest.
	allOrNone bool
	// partial is set by a collections PATCH that answered 200 with at
	// least one record failed, which a composite counts as a failure.
	partial bool
	// recordFaults is set for composite subrequests: a single record
	// write draws the faults of SetRecordFaultRate before it writes.
	recordFaults bool
}

// base is the path prefix of this call's API version.
func (c *call) base() string { return dataPrefix + "v" + c.version }

// recordURL is the Id-based URL of a record, as attributes.url gives it.
func (c *call) recordURL(object, id string) string {
	return c.base() + "/sobjects/" + object + "/" + id
}

// route names a resource and the function that serves it.
type route struct {
	endpoint string
	serve    func(c *call) *failure
}

// DataHandler serves the REST data API under /services/data/. Serving it
// yourself, call SetInstanceURL so that token grants point at it.
func (o *Org) DataHandler() http.Handler {
	return http.HandlerFunc(o.serveData)
}

// Handler serves the token endpoint and the data API on one listener, for
// a fake org served on one port. Unless
// SetInstanceURL was called, instance_url is the base URL the token request
// was sent to.
func (o *Org) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.EscapedPath() == tokenPath {
			o.serveToken(w, r)
			return
		}
		o.serveData(w, r)
	})
}

// serveData is the single entry of every data request: it routes, counts,
// delays, authenticates and injects faults before the resource runs.
func (o *Org) serveData(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	if path == dataPrefix || path == strings.TrimSuffix(dataPrefix, "/") {
		o.serveVersions(w, r)
		return
	}

	w.Header().Set("Content-Type", jsonType)
	// The org's own clock dates the answer, as Salesforce's servers do.
	w.Header().Set("Date", o.now().Format(http.TimeFormat))
	c := &call{w: w, r: r, set: o.knobs.get()}
	rt, version := o.route(r.Method, path, c)
	c.version = version
	o.counts.endpoint(rt.endpoint)
	if f := uriTooLong(r); f != nil {
		writeFailure(w, f) // refused in front of the API: not charged
		return
	}

	wait(r.Context(), c.set.latency)
	if c.set.hook != nil {
		c.set.hook(r)
	}
	if f := o.admit(c); f != nil {
		writeFailure(w, f)
		return
	}
	if f := rt.serve(c); f != nil {
		writeFailure(w, f)
	}
}

// admit runs the checks every data call passes before its resource: API
// version, session, daily limit and injected faults. It sets the
// Sforce-Limit-Info header.
func (o *Org) admit(c *call) *failure {
	if f := checkVersion(c.version); f != nil {
		o.setLimitInfo(c.w, false)
		return f
	}
	if !o.authenticate(c.r) {
		o.setLimitInfo(c.w, false)
		return fail(http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
	}
	if used, limit := o.counts.usage(); c.set.enforceLimit && used >= limit {
		o.setLimitInfo(c.w, false)
		return fail(FaultRequestLimit.Status, FaultRequestLimit.Code, FaultRequestLimit.Message)
	}
	o.setLimitInfo(c.w, true)
	if fault, ok := o.faults.draw(); ok {
		return &failure{status: fault.Status, errors: fault.body()}
	}
	return nil
}

// setLimitInfo writes the api-usage header, first charging one API call
// if charge is set.
func (o *Org) setLimitInfo(w http.ResponseWriter, charge bool) {
	used, limit := o.counts.usage()
	if charge {
		used, limit = o.counts.charge()
	}
	w.Header().Set(limitInfoKey, fmt.Sprintf("api-usage=%d/%d", used, limit))
}

// route maps a method and escaped path to a resource. The version segment
// is returned unchecked; paths that name no resource get a route that
// answers 404, or 405 for a known resource with the wrong method.
func (o *Org) route(method, path string, c *call) (route, string) {
	rest, ok := strings.CutPrefix(path, dataPrefix)
	if !ok {
		return route{EndpointOther, answer(notFound())}, ""
	}
	version, rest, _ := strings.Cut(rest, "/")
	c.segs = strings.Split(strings.TrimSuffix(rest, "/"), "/")
	version = strings.TrimPrefix(version, "v")

	var rt route
	switch {
	case len(c.segs) == 1 && c.segs[0] == "query":
		rt = byMethod(method, "GET", route{EndpointQuery, o.serveQuery})
	case len(c.segs) == 2 && c.segs[0] == "query":
		rt = byMethod(method, "GET", route{EndpointQuery, o.serveQueryMore})
	case len(c.segs) == 3 && c.segs[0] == "sobjects" && strings.EqualFold(c.segs[2], "describe"):
		rt = byMethod(method, "GET", route{EndpointDescribe, o.serveDescribe})
	case len(c.segs) == 3 && c.segs[0] == "sobjects":
		rt = o.recordRoute(method)
	case len(c.segs) >= 4 && c.segs[0] == "sobjects":
		rt = o.externalIDRoute(method)
	case c.segs[0] == "composite":
		rt = o.compositeRoute(method, c.segs)
	default:
		rt = route{EndpointOther, answer(notFound())}
	}
	return rt, version
}

func (o *Org) recordRoute(method string) route {
	switch method {
	case http.MethodGet:
		return route{EndpointRecordGet, o.serveRecordGet}
	case http.MethodPatch:
		return route{EndpointRecordPatch, o.serveRecordPatch}
	}
	return route{EndpointOther, answer(methodNotAllowed(method, "GET,PATCH,HEAD"))}
}

func (o *Org) externalIDRoute(method string) route {
	switch method {
	case http.MethodGet:
		return route{EndpointExternalIDGet, o.serveExternalIDGet}
	case http.MethodPatch:
		return route{EndpointExternalIDPatch, o.serveUpsert}
	case http.MethodPost:
		return route{EndpointExternalIDPost, o.serveUpsert}
	}
	return route{EndpointOther, answer(methodNotAllowed(method, "GET,PATCH,POST,HEAD"))}
}

// compositeRoute maps the resources under composite/: composite itself,
// and sObject Collections updates (composite/sobjects) and retrieves
// (composite/sobjects/{Object}). Collections create and delete are not
// served and answer 405.
func (o *Org) compositeRoute(method string, segs []string) route {
	n := len(segs)
	if n > 1 && segs[1] != "sobjects" {
		return route{EndpointOther, answer(notFound())}
	}
	switch n {
	case 1:
		return byMethod(method, http.MethodPost, route{EndpointComposite, o.serveComposite})
	case 2:
		return byMethod(method, http.MethodPatch,
			route{EndpointCollectionsPatch, o.serveCollectionsPatch})
	case 3:
		if method == http.MethodGet || method == http.MethodPost {
			return route{EndpointCollectionsGet, o.serveCollectionsGet}
		}
		return route{EndpointOther, answer(methodNotAllowed(method, "GET,POST,HEAD"))}
	}
	return route{EndpointOther, answer(notFound())}
}

// byMethod returns rt if method is the one it serves, else a 405 route.
func byMethod(method, want string, rt route) route {
	if method == want {
		return rt
	}
	return route{EndpointOther, answer(methodNotAllowed(method, want+",HEAD"))}
}

// answer is a resource that always fails with f.
func answer(f *failure) func(*call) *failure {
	return func(*call) *failure { return f }
}

// checkVersion accepts "NN.0" for served versions; retired ones are gone.
func checkVersion(v string) *failure {
	major, ok := strings.CutSuffix(v, ".0")
	n, err := strconv.Atoi(major)
	switch {
	case !ok || err != nil || strconv.Itoa(n) != major:
		return notFound()
	case n >= oldestVersion && n <= newestVersion:
		return nil
	case n >= oldestRetired && n < oldestVersion:
		return fail(http.StatusGone, "GONE",
			"The requested resource is no longer available: API version "+v+" is retired")
	}
	return notFound()
}

// wait sleeps for d or until ctx ends.
func wait(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// versionInfo is one entry of the versions list.
type versionInfo struct {
	Label   string `json:"label"`
	URL     string `json:"url"`
	Version string `json:"version"`
}

// serveVersions answers GET /services/data/: no authentication, no
// Sforce-Limit-Info, not an API call.
func (o *Org) serveVersions(w http.ResponseWriter, r *http.Request) {
	o.counts.endpoint(EndpointVersions)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeFailure(w, methodNotAllowed(r.Method, "GET,HEAD"))
		return
	}
	list := make([]versionInfo, 0, newestVersion-oldestVersion+1)
	for v := oldestVersion; v <= newestVersion; v++ {
		num := strconv.Itoa(v) + ".0"
		list = append(list, versionInfo{Label: releaseName(v), URL: dataPrefix + "v" + num, Version: num})
	}
	writeJSON(w, http.StatusOK, list)
}

// releaseName names the release of an API version: three releases a year,
// and 62.0 was Winter '25.
func releaseName(version int) string {
	steps := version - 62
	year := 25 + floorDiv(steps, 3)
	season := [...]string{"Winter", "Spring", "Summer"}[steps-3*floorDiv(steps, 3)]
	return fmt.Sprintf("%s '%02d", season, year)
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
