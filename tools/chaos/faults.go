package main

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/callsummary/connector/salesforce/sftest"
	"github.com/callsummary/connector/worker/sqstest"
)

// The faults of a run. Rates of whole data calls add up to 22 %.
const (
	unavailableRate   = 0.10 // 503 SERVER_UNAVAILABLE
	serverErrorRate   = 0.10 // 500 UNKNOWN_EXCEPTION
	lockRowCallRate   = 0.02 // a whole call answers UNABLE_TO_LOCK_ROW
	lockRowRecordRate = 0.02 // one record of a collections or composite write does
	tokenLifetime     = 500  // data calls a session serves before it expires
	deleteFailRate    = 0.01 // DeleteMessageBatch entries answered as failed

	// apiLimit is the org's daily allowance outside the limit period, far
	// above what a run spends, so that only the period pauses the worker.
	apiLimit = 100_000_000

	// sdkAttempts is how often the AWS SDK tries a request by default; a
	// single delete failed this many times in a row is given up.
	sdkAttempts = 3
)

// faults injects the faults into the org and the SQS server and counts
// those it can see.
type faults struct {
	org *sftest.Org
	sqs *sqstest.Server

	mu  sync.Mutex
	rng *rand.Rand // draws the delete faults

	deleteEntries atomic.Int64 // batch delete entries failed
	singleDeletes atomic.Int64 // single deletes made to fail after a failed entry
	usedBefore    int64        // api usage when the limit period began
	answers       answerCounter
}

func newFaults(seed uint64) *faults {
	return &faults{rng: rand.New(rand.NewPCG(seed, 0x64656c)), answers: newAnswerCounter()}
}

// inject sets every fault that lasts the whole run.
func (f *faults) inject(org *sftest.Org, sqs *sqstest.Server) {
	f.org, f.sqs = org, sqs
	org.SetUsage(0, apiLimit)
	org.SetFaultRate(unavailableRate, sftest.FaultUnavailable)
	org.SetFaultRate(serverErrorRate, sftest.FaultServerError)
	org.SetFaultRate(lockRowCallRate, sftest.FaultLockRow)
	org.SetRecordFaultRate(lockRowRecordRate, sftest.FaultLockRow)
	org.SetTokenLifetime(tokenLifetime)
	sqs.FailEntries(f.failEntry)
}

// failEntry fails about one DeleteMessageBatch entry in a hundred, and
// half the time also the single delete the worker falls back to, all of
// the SDK's attempts, so that the message comes back from the queue after
// its visibility timeout and must be found already applied.
func (f *faults) failEntry(action, _ string) bool {
	if action != "DeleteMessageBatch" {
		return false
	}
	f.mu.Lock()
	fail := f.rng.Float64() < deleteFailRate
	alsoSingle := f.rng.IntN(2) == 0
	f.mu.Unlock()
	if !fail {
		return false
	}
	f.deleteEntries.Add(1)
	if alsoSingle {
		f.singleDeletes.Add(1)
		f.sqs.FailNext("DeleteMessage", sdkAttempts)
	}
	return true
}

// beginLimit makes every data call answer 403 REQUEST_LIMIT_EXCEEDED, as
// an org does that has spent its daily allowance.
func (f *faults) beginLimit() {
	f.usedBefore, _ = f.org.Usage()
	f.org.SetUsage(apiLimit, apiLimit)
	f.org.SetEnforceLimit(true)
}

// endLimit gives the allowance back.
func (f *faults) endLimit() {
	f.org.SetEnforceLimit(false)
	f.org.SetUsage(f.usedBefore, apiLimit)
}

// counts returns the faults seen: the org's error answers by errorCode,
// records failed inside a write included, and the failed deletes.
func (f *faults) counts() map[string]int64 {
	out := f.answers.snapshot()
	out["DeleteMessageBatch entry"] = f.deleteEntries.Load()
	out["DeleteMessage"] = f.singleDeletes.Load()
	return out
}

// countedCodes are the error codes an answer of the org is searched for.
var countedCodes = []string{
	sftest.FaultUnavailable.Code,
	sftest.FaultServerError.Code,
	sftest.FaultLockRow.Code,
	sftest.FaultRequestLimit.Code,
	"INVALID_SESSION_ID",
}

// answerCounter counts the error codes in the org's answers.
type answerCounter struct {
	mu    sync.Mutex
	codes map[string]int64
}

func newAnswerCounter() answerCounter {
	return answerCounter{codes: make(map[string]int64)}
}

// wrap returns h with its answers counted.
func (ac *answerCounter) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&countingWriter{ResponseWriter: w, ac: ac}, r)
	})
}

func (ac *answerCounter) scan(b []byte) {
	for _, code := range countedCodes {
		n := bytes.Count(b, []byte(`"`+code+`"`))
		if n == 0 {
			continue
		}
		ac.mu.Lock()
		ac.codes[code] += int64(n)
		ac.mu.Unlock()
	}
}

func (ac *answerCounter) snapshot() map[string]int64 {
	ac.mu.Lock()
	defer ac.mu.Unlock()
	out := make(map[string]int64, len(ac.codes)+2)
	for _, code := range countedCodes {
		out[code] = ac.codes[code]
	}
	return out
}

// countingWriter passes an answer on and counts the codes in its body.
type countingWriter struct {
	http.ResponseWriter
	ac *answerCounter
}

func (cw *countingWriter) Write(b []byte) (int, error) {
	cw.ac.scan(b)
	return cw.ResponseWriter.Write(b)
}
