package sftest

import (
	"fmt"
	"sync"
)

// Endpoint names used as keys of Calls.ByEndpoint.
const (
	EndpointToken            = "token"
	EndpointVersions         = "versions"
	EndpointDescribe         = "describe"
	EndpointQuery            = "query"
	EndpointRecordGet        = "record-get"
	EndpointRecordPatch      = "record-patch"
	EndpointExternalIDGet    = "externalid-get"
	EndpointExternalIDPatch  = "externalid-patch"
	EndpointExternalIDPost   = "externalid-post"
	EndpointCollectionsGet   = "collections-get" // sObject Collections retrieve, by GET or POST
	EndpointCollectionsPatch = "collections-patch"
	EndpointComposite        = "composite"
	EndpointOther            = "other" // no known resource: answered 404 or 405
)

// SubrequestPrefix starts the ByEndpoint key of a composite subrequest,
// followed by the name of the resource it ran, such as
// "composite-sub:record-patch".
const SubrequestPrefix = "composite-sub:"

// Calls counts requests. Token counts token requests, granted or not. API
// counts the calls the daily allowance would charge: authenticated data
// calls, whatever they answered (injected faults included), but not the
// token endpoint, the versions list or calls refused with 401. A composite
// request or an sObject Collections request is one API call, however many
// records or subrequests it holds. ByEndpoint counts every request by
// resource, whether it was authenticated or not, and every subrequest a
// composite ran under SubrequestPrefix plus its resource; subrequests are
// never charged.
type Calls struct {
	Token, API int64
	ByEndpoint map[string]int64
}

// String summarises the counts on one line, for demos and benchmarks.
func (c Calls) String() string {
	return fmt.Sprintf("token=%d api=%d by-endpoint=%v", c.Token, c.API, c.ByEndpoint)
}

// counters holds the call counts and the api-usage figures.
type counters struct {
	mu          sync.Mutex
	token, api  int64
	byEndpoint  map[string]int64
	used, limit int64
}

// defaultLimit is the daily API allowance reported until SetUsage.
const defaultLimit = 100000

func (c *counters) init() {
	c.byEndpoint = make(map[string]int64)
	c.limit = defaultLimit
}

// Calls returns a snapshot of the counts.
func (o *Org) Calls() Calls {
	c := &o.counts
	c.mu.Lock()
	defer c.mu.Unlock()

	out := Calls{Token: c.token, API: c.api, ByEndpoint: make(map[string]int64, len(c.byEndpoint))}
	for k, v := range c.byEndpoint {
		out.ByEndpoint[k] = v
	}
	return out
}

// ResetCalls sets all counts to zero; api-usage is left as it is.
func (o *Org) ResetCalls() {
	c := &o.counts
	c.mu.Lock()
	defer c.mu.Unlock()
	c.token, c.api = 0, 0
	clear(c.byEndpoint)
}

// SetUsage sets the figures of Sforce-Limit-Info: api-usage=used/limit.
// Each API call adds one to used.
func (o *Org) SetUsage(used, limit int64) {
	c := &o.counts
	c.mu.Lock()
	defer c.mu.Unlock()
	c.used, c.limit = used, limit
}

// Usage returns the current api-usage figures.
func (o *Org) Usage() (used, limit int64) {
	return o.counts.usage()
}

func (c *counters) endpoint(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byEndpoint[name]++
	if name == EndpointToken {
		c.token++
	}
}

// charge counts one API call and returns the usage including it.
func (c *counters) charge() (used, limit int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.api++
	c.used++
	return c.used, c.limit
}

func (c *counters) usage() (used, limit int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used, c.limit
}
