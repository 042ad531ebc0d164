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

// faultState holds the pending and random faults: rates for whole calls,
// recordRates for single records of collections and composite writes.
type faultState struct {
	mu          sync.Mutex
	pending     int
	nextFault   Fault
	rates       []faultRate
	recordRates []faultRate
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
	o.faults.rates = withRate(o.faults.rates, rate, f)
}

// SetRecordFaultRate makes single records fail with f, each with the given
// probability: every record of an sObject Collections PATCH, and every
// write subrequest of a composite request (a record PATCH or an upsert; a
// collections subrequest draws per record instead). A record drawn fails
// alone, after its own checks and before it is written, so a client can be
// tested for mapping per-record errors, such as UNABLE_TO_LOCK_ROW, to the
// right records. Whole calls are not affected; rates combine as in
// SetFaultRate, and a rate of 0 removes f.
func (o *Org) SetRecordFaultRate(rate float64, f Fault) {
	o.faults.mu.Lock()
	defer o.faults.mu.Unlock()
	o.faults.recordRates = withRate(o.faults.recordRates, rate, f)
}

// withRate returns rates with the entry for f replaced, or removed when
// rate is not positive.
func withRate(rates []faultRate, rate float64, f Fault) []faultRate {
	kept := rates[:0]
	for _, fr := range rates {
		if fr.fault != f {
			kept = append(kept, fr)
		}
	}
	if rate > 0 {
		kept = append(kept, faultRate{rate: rate, fault: f})
	}
	return kept
}

// draw picks the fault this call answers, if any.
func (fs *faultState) draw() (Fault, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()

	if fs.pending > 0 {
		fs.pending--
		return fs.nextFault, true
	}
	return drawRate(fs.rates)
}

// drawRecord picks the fault one record answers, if any.
func (fs *faultState) drawRecord() (Fault, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return drawRate(fs.recordRates)
}

func drawRate(rates []faultRate) (Fault, bool) {
	if len(rates) == 0 {
		return Fault{}, false
	}
	u := rand.Float64()
	for _, fr := range rates {
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
