package salesforce

import (
	"net/http"
	"strings"
	"time"
)

// Observer is told of every HTTP call the client makes, for metrics. Its
// methods must be quick and safe for concurrent use.
type Observer interface {
	// Call reports one call: the resource it reached (token, describe,
	// external-id, query, record, collections-retrieve, collections-update,
	// composite), its HTTP status, 0 when no answer came, and how long it
	// took.
	Call(resource string, status int, took time.Duration)
	// TokenFetched reports a token granted; renewed is false for the first.
	TokenFetched(renewed bool)
}

// observe reports a call to the configured observer, if any.
func (c *Client) observe(resource string, resp *response, start time.Time) {
	if c.cfg.Observer == nil {
		return
	}
	status := 0
	if resp != nil {
		status = resp.status
	}
	c.cfg.Observer.Call(resource, status, time.Since(start))
}

// resourceOf names the resource a data request reaches, without values.
func resourceOf(rq request) string {
	segs := strings.Split(rq.path, "/")
	switch {
	case segs[0] == "query":
		return "query"
	case segs[0] == "composite" && len(segs) == 1:
		return "composite"
	case segs[0] == "composite" && rq.method == http.MethodPatch:
		return "collections-update"
	case segs[0] == "composite":
		return "collections-retrieve"
	case segs[0] == "sobjects" && len(segs) == 3 && segs[2] == "describe":
		return "describe"
	case segs[0] == "sobjects" && len(segs) == 4:
		return "external-id"
	case segs[0] == "sobjects":
		return "record"
	}
	return "other"
}
