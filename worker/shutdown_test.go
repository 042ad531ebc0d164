package worker_test

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/rs/zerolog"

	"github.com/callsummary/connector/salesforce"
	"github.com/callsummary/connector/worker"
	"github.com/callsummary/connector/worker/sqstest"
)

// shutdownHarness is a pool whose SQS client sends through a given
// transport, over an in-process queue pair, run until the test cancels it.
type shutdownHarness struct {
	t        *testing.T
	srv      *sqstest.Server
	client   *sqs.Client // plain client for the test's own calls
	queueURL string
	sf       *stubSalesforce
	pool     *worker.Pool
	logs     *lockedBuffer

	cancel context.CancelFunc
	done   chan struct{}
}

func newShutdownHarness(t *testing.T, cfg worker.Config, rt http.RoundTripper) *shutdownHarness {
	t.Helper()
	h := &shutdownHarness{t: t, srv: sqstest.New(), sf: &stubSalesforce{}, logs: new(lockedBuffer)}
	endpoint, err := h.srv.Start()
	if err != nil {
		t.Fatalf("start sqstest: %v", err)
	}
	t.Cleanup(h.srv.Close)
	h.client = newSQSClient(endpoint)
	dlqURL, err := h.srv.CreateQueue("dlq", nil)
	if err != nil {
		t.Fatal(err)
	}
	if h.queueURL, err = h.srv.CreateQueue("source", nil); err != nil {
		t.Fatal(err)
	}
	h.sf.setApply(func(context.Context, salesforce.Summary) (salesforce.Result, error) {
		return salesforce.Result{RecordID: "00T000000000001AAA"}, nil
	})

	poolClient := sqs.New(sqs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:   &http.Client{Timeout: 30 * time.Second, Transport: rt},
	})
	cfg.QueueURL, cfg.DLQURL = h.queueURL, dlqURL
	cfg.Logger = zerolog.New(h.logs)
	if h.pool, err = worker.New(cfg, poolClient, h.sf); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *shutdownHarness) start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan struct{})
	go func() {
		defer close(h.done)
		_ = h.pool.Run(ctx)
	}()
	h.t.Cleanup(func() {
		h.cancel()
		<-h.done
		if h.t.Failed() {
			h.t.Logf("worker log:\n%s", h.logs.String())
		}
	})
}

// stop cancels the pool and returns how long Run took to return, failing
// the test past within.
func (h *shutdownHarness) stop(within time.Duration) time.Duration {
	h.t.Helper()
	begun := time.Now()
	h.cancel()
	select {
	case <-h.done:
	case <-time.After(within):
		h.t.Fatalf("Run still running %s after cancel", within)
	}
	return time.Since(begun)
}

func (h *shutdownHarness) send(n int) {
	h.t.Helper()
	for i := range n {
		_, err := h.client.SendMessage(context.Background(), &sqs.SendMessageInput{
			QueueUrl:    aws.String(h.queueURL),
			MessageBody: aws.String(summaryBody(fmt.Sprintf("call-%d", i), "s")),
		})
		if err != nil {
			h.t.Fatalf("send: %v", err)
		}
	}
}

// TestShutdownWaitsOutLongPoll stops the pool while a long poll waits and
// sends a message just after: the poll is left to answer, and its message
// is put back at once, within the poll's wait. (On fauxqs a poll cut short
// still took a message sent a moment later and hid it for 30 s; sqstest
// drops a poll whose client left, so here this checks the wait and the
// release, not the hiding.)
func TestShutdownWaitsOutLongPoll(t *testing.T) {
	h := newShutdownHarness(t, worker.Config{WaitTime: 2 * time.Second, Receivers: 1},
		newTransport())
	h.start()
	eventually(t, 5*time.Second, "a long poll in flight", func() bool {
		return h.srv.Calls()["ReceiveMessage"] >= 1
	})
	h.cancel()
	h.send(1)
	if took := h.stop(10 * time.Second); took > 3*time.Second {
		t.Errorf("Run took %s to return, want at most the 2 s long poll", took)
	}
	if got := h.sf.calls.Load(); got != 0 {
		t.Errorf("applies: got %d, want none after shutdown began", got)
	}
	visible, inFlight, _ := h.srv.Counts(h.queueURL)
	if visible != 1 || inFlight != 0 {
		t.Errorf("source queue: got %d visible and %d in flight, want the message visible",
			visible, inFlight)
	}
}

// TestDrainDeadlineEndsLongPoll: a long poll longer than the drain
// deadline is cut at the deadline.
func TestDrainDeadlineEndsLongPoll(t *testing.T) {
	const drain = 500 * time.Millisecond
	h := newShutdownHarness(t, worker.Config{WaitTime: 10 * time.Second, DrainTimeout: drain,
		Receivers: 1}, newTransport())
	h.start()
	eventually(t, 5*time.Second, "a long poll in flight", func() bool {
		return h.srv.Calls()["ReceiveMessage"] >= 1
	})
	if took := h.stop(5 * time.Second); took > drain+time.Second {
		t.Errorf("Run took %s to return, want about the drain timeout of %s", took, drain)
	}
}

func TestShutdownKeepsAnswerInFlight(t *testing.T) {
	const backlog = 3
	rt := &heldAnswer{next: newTransport(), held: make(chan struct{}),
		shutdown: make(chan struct{})}
	h := newShutdownHarness(t, worker.Config{WaitTime: time.Second, Receivers: 1}, rt)
	h.send(backlog)
	h.start()
	<-rt.held

	// The queue has answered and the answer is on its way when shutdown
	// begins: it must be read whole and its messages put back unhandled.
	h.cancel()
	close(rt.shutdown)
	h.stop(10 * time.Second)

	if err := rt.err.Load(); err != nil {
		t.Errorf("the answer in flight was cut short: %v", *err)
	}
	if got := h.sf.calls.Load(); got != 0 {
		t.Errorf("applies: got %d, want none after shutdown began", got)
	}
	if got := h.pool.Stats().Released; got != backlog {
		t.Errorf("released: got %d, want %d", got, backlog)
	}
	visible, inFlight, _ := h.srv.Counts(h.queueURL)
	if visible != backlog || inFlight != 0 {
		t.Errorf("source queue: got %d visible and %d in flight, want %d visible",
			visible, inFlight, backlog)
	}
}

// TestDrainDeadlineReleasesMessage: a handler still at work at the drain
// deadline is cancelled and its message given back. The deadline is past
// the 1 s long poll, so no poll is left open to take the message again
// (a server may hand messages to a poll whose client has gone).
func TestDrainDeadlineReleasesMessage(t *testing.T) {
	const drain = 1500 * time.Millisecond
	h := newShutdownHarness(t, worker.Config{WaitTime: time.Second, DrainTimeout: drain},
		newTransport())
	var started atomic.Bool
	h.sf.setApply(func(ctx context.Context, _ salesforce.Summary) (salesforce.Result, error) {
		started.Store(true)
		<-ctx.Done() // slower than the drain deadline
		return salesforce.Result{}, ctx.Err()
	})
	h.start()
	h.send(1)
	eventually(t, 5*time.Second, "the message in work", started.Load)

	if took := h.stop(5 * time.Second); took > drain+time.Second {
		t.Errorf("Run took %s to return, want about the drain timeout of %s", took, drain)
	}
	snap := h.pool.Stats()
	if snap.Outcomes[worker.Retry] != 1 {
		t.Errorf("outcomes: got %v, want one retry", snap.Outcomes)
	}
	visible, inFlight, _ := h.srv.Counts(h.queueURL)
	if visible != 1 || inFlight != 0 {
		t.Errorf("source queue: got %d visible and %d in flight, want the message visible again",
			visible, inFlight)
	}
}

// heldAnswer holds back the first ReceiveMessage answer that carries
// messages, as a slow network would: the queue has answered and the answer
// is on its way. It passes the answer on shortly after shutdown begins,
// unless the request is cancelled first, which it records.
type heldAnswer struct {
	next     http.RoundTripper
	held     chan struct{} // closed when an answer is held back
	shutdown chan struct{} // closed by the test once shutdown has begun
	once     atomic.Bool
	err      atomic.Pointer[error]
}

// heldAnswerDelay is how long the held answer takes to arrive after
// shutdown has begun.
const heldAnswerDelay = 200 * time.Millisecond

func (h *heldAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := h.next.RoundTrip(r)
	if err != nil || r.Header.Get("X-Amz-Target") != "AmazonSQS.ReceiveMessage" ||
		resp.ContentLength < 100 || !h.once.CompareAndSwap(false, true) {
		return resp, err
	}
	close(h.held)
	if err := h.await(r.Context()); err != nil {
		resp.Body.Close()
		h.err.Store(&err)
		return nil, err
	}
	return resp, nil
}

// await waits for shutdown and then heldAnswerDelay, or for ctx to end.
func (h *heldAnswer) await(ctx context.Context) error {
	select {
	case <-h.shutdown:
	case <-ctx.Done():
		return ctx.Err()
	}
	t := time.NewTimer(heldAnswerDelay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
