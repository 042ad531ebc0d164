package sftest

import (
	"math/rand/v2"
	"sync"
)

// Fault is an error answer injected into data calls: an HTTP status with a
// one-element REST error body.
type Fault struct {
	Status        int
	Code, Message string
}

// Faults seen from real orgs (salesforce-api.md §5 and §7).
var (
	FaultUnavailable  = Fault{503, "SERVER_UNAVAILABLE", "Server Unavailable"}
	FaultLockRow      = Fault{400, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record or 1 records: ..."}
	FaultRequestLimit = Fault{403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."}
	FaultServerError  = Fault{500, "UNKNOWN_EXCEPTION", "An unexpected error occurred..."}
)

// faultState holds the pending and random faults.
type faultState struct {
	mu        sync.Mutex
	pending   int
	nextFault Fault
	rates     []faultRate
}

type faultRate struct {
	rate  float64
	fault Fault
}

// FailNext makes the next n authenticated data calls answer f, replacing
// any faults still pending from an earlier FailNext; n = 0 clears them.
// Forced faults come before random ones.
func (o *Org) FailNext(n int, f Fault) {
	o.faults.mu.Lock()
	defer o.faults.mu.Unlock()
	o.faults.pending = max(n, 0)
	o.faults.nextFault = f
}

// SetFaultRate makes each authenticated data call answer f with the given
// probability. Several faults may be set at once; each is drawn with its
// own rate as long as the rates add up to at most 1. A rate of 0 removes f.
func (o *Org) SetFaultRate(rate float64, f Fault) {
	o.faults.mu.Lock()
	defer o.faults.mu.Unlock()

	kept := o.faults.rates[:0]
	for _, fr := range o.faults.rates {
		if fr.fault != f {
			kept = append(kept, fr)
		}
	}
	if rate > 0 {
		kept = append(kept, faultRate{rate: rate, fault: f})
	}
	o.faults.rates = kept
}

// draw picks the fault this call answers, if any.
func (fs *faultState) draw() (Fault, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()

	if fs.pending > 0 {
		fs.pending--
		return fs.nextFault, true
	}
	if len(fs.rates) == 0 {
		return Fault{}, false
	}
	u := rand.Float64()
	for _, fr := range fs.rates {
		if u < fr.rate {
			return fr.fault, true
		}
		u -= fr.rate
	}
	return Fault{}, false
}

// body is the REST error array of f. The lock error carries an empty
// fields list, as observed; the others carry none.
func (f Fault) body() []apiError {
	e := apiError{Message: f.Message, ErrorCode: f.Code}
	if f.Code == FaultLockRow.Code {
		e.Fields = []string{}
	}
	return []apiError{e}
}
