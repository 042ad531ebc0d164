package worker_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/rs/zerolog"

	"github.com/callsummary/connector/salesforce"
	"github.com/callsummary/connector/worker"
	"github.com/callsummary/connector/worker/sqstest"
)

// stubSalesforce lets a test decide what every Apply returns. The queue
// under it is always a real SQS-compatible server.
type stubSalesforce struct {
	mu      sync.Mutex
	applyFn func(ctx context.Context, s salesforce.Summary) (salesforce.Result, error)
	probeFn func(ctx context.Context) error
	calls   atomic.Int64
	used    atomic.Int64
	limit   atomic.Int64
}

func (s *stubSalesforce) Apply(ctx context.Context, sum salesforce.Summary) (salesforce.Result, error) {
	s.calls.Add(1)
	s.mu.Lock()
	fn := s.applyFn
	s.mu.Unlock()
	return fn(ctx, sum)
}

func (s *stubSalesforce) Probe(ctx context.Context) error {
	s.mu.Lock()
	fn := s.probeFn
	s.mu.Unlock()
	if fn == nil {
		return nil
	}
	return fn(ctx)
}

func (s *stubSalesforce) APIUsage() (int64, int64) { return s.used.Load(), s.limit.Load() }

func (s *stubSalesforce) setApply(fn func(context.Context, salesforce.Summary) (salesforce.Result, error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.applyFn = fn
}

// stubHarness is one in-process SQS server, a queue pair and a pool over a
// stub Salesforce.
type stubHarness struct {
	t        *testing.T
	srv      *sqstest.Server
	client   *sqs.Client
	queueURL string
	dlqURL   string
	sf       *stubSalesforce
	pool     *worker.Pool
	cancel   context.CancelFunc
	done     chan struct{}
	logs     *lockedBuffer
}

func newStubHarness(t *testing.T, cfg worker.Config) *stubHarness {
	t.Helper()
	srv := sqstest.New()
	url, err := srv.Start()
	if err != nil {
		t.Fatalf("start sqstest: %v", err)
	}
	t.Cleanup(srv.Close)
	h := &stubHarness{t: t, srv: srv, client: newSQSClient(url), sf: &stubSalesforce{},
		logs: new(lockedBuffer)}
	h.sf.setApply(func(context.Context, salesforce.Summary) (salesforce.Result, error) {
		return salesforce.Result{RecordID: "00T000000000001AAA"}, nil
	})
	if h.dlqURL, err = srv.CreateQueue("dlq", nil); err != nil {
		t.Fatal(err)
	}
	if h.queueURL, err = srv.CreateQueue("source", map[string]string{"VisibilityTimeout": "30"}); err != nil {
		t.Fatal(err)
	}
	cfg.QueueURL, cfg.DLQURL = h.queueURL, h.dlqURL
	cfg.WaitTime = time.Second
	cfg.RetryInitial = 5 * time.Millisecond
	cfg.ProbeInitial = 10 * time.Millisecond
	cfg.ProbeMax = 50 * time.Millisecond
	if cfg.RetryMaxElapsed == 0 {
		cfg.RetryMaxElapsed = 300 * time.Millisecond
	}
	cfg.Logger = zerolog.New(h.logs)
	if h.pool, err = worker.New(cfg, h.client, h.sf); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *stubHarness) start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan struct{})
	go func() {
		defer close(h.done)
		_ = h.pool.Run(ctx)
	}()
	h.t.Cleanup(h.stop)
}

func (h *stubHarness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	<-h.done
	h.cancel = nil
	if h.t.Failed() {
		h.t.Logf("worker log:\n%s", h.logs.String())
	}
}

func (h *stubHarness) send(bodies ...string) {
	h.t.Helper()
	for _, b := range bodies {
		if _, err := h.client.SendMessage(context.Background(), &sqs.SendMessageInput{
			QueueUrl: aws.String(h.queueURL), MessageBody: aws.String(b)}); err != nil {
			h.t.Fatalf("send: %v", err)
		}
	}
}

func (h *stubHarness) waitOutcomes(n int) worker.Snapshot {
	h.t.Helper()
	eventually(h.t, 15*time.Second, "outcomes", func() bool { return h.pool.Stats().Handled() >= n })
	return h.pool.Stats()
}

func TestOutcomeOfEachErrorClass(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		outcome    worker.Outcome
		reason     string // dead-letter reason, when the outcome is dead-letter
		inSource   int    // messages left in the source queue
		inDLQ      int
		wantPaused bool
	}{
		{"string-too-long", &salesforce.TooLongError{Field: "Summary__c", Length: 600, Max: 500},
			worker.DeadLetter, "STRING_TOO_LONG", 0, 1, false},
		{"deleted-record", &salesforce.APIError{Status: 404, Code: "ENTITY_IS_DELETED"},
			worker.DeadLetter, "ENTITY_IS_DELETED", 0, 1, false},
		{"validation-rule", &salesforce.APIError{Status: 400, Code: "FIELD_CUSTOM_VALIDATION_EXCEPTION"},
			worker.DeadLetter, "FIELD_CUSTOM_VALIDATION_EXCEPTION", 0, 1, false},
		{"ambiguous", &salesforce.AmbiguousMatchError{Object: "Task", Field: "F", RecordIDs: []string{"a", "b"}},
			worker.DeadLetter, "AMBIGUOUS_MATCH", 0, 1, false},
		{"transient-forever", &salesforce.APIError{Status: 503, Code: "SERVER_UNAVAILABLE"},
			worker.Retry, "", 1, 0, false},
		{"session-invalid", &salesforce.APIError{Status: 401, Code: "INVALID_SESSION_ID"},
			worker.Pause, "", 1, 0, true},
		{"request-limit", &salesforce.APIError{Status: 403, Code: "REQUEST_LIMIT_EXCEEDED"},
			worker.Pause, "", 1, 0, true},
		{"bad-credentials", &salesforce.TokenError{Status: 400, Code: "invalid_client"},
			worker.Pause, "", 1, 0, true},
		{"misnamed-field", &salesforce.SetupError{Problem: "no field Foo__c on Task"},
			worker.Pause, "", 1, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newStubHarness(t, worker.Config{})
			h.sf.setApply(func(context.Context, salesforce.Summary) (salesforce.Result, error) {
				return salesforce.Result{}, fmt.Errorf("apply: %w", tt.err)
			})
			h.sf.probeFn = func(context.Context) error { return tt.err }
			h.start()
			h.send(`{"clientCallId":"c-1","summary":"s"}`)
			snap := h.waitOutcomes(1)

			if got := snap.Outcomes[tt.outcome]; got != 1 {
				t.Errorf("outcome %s: got %v", tt.outcome, snap.Outcomes)
			}
			if tt.reason != "" && snap.DeadLetters[tt.reason] != 1 {
				t.Errorf("dead-letter reason: got %v, want %s", snap.DeadLetters, tt.reason)
			}
			if paused, _ := h.pool.Paused(); paused != tt.wantPaused {
				t.Errorf("paused: got %v, want %v", paused, tt.wantPaused)
			}
			eventually(t, 5*time.Second, "queue action", func() bool {
				v, f, _ := h.srv.Counts(h.queueURL)
				return v+f == tt.inSource
			})
			if got := len(h.srv.Messages(h.dlqURL)); got != tt.inDLQ {
				t.Errorf("dead-letter queue: got %d, want %d", got, tt.inDLQ)
			}
		})
	}
}

func TestTransientFailureIsRetriedInProcess(t *testing.T) {
	h := newStubHarness(t, worker.Config{RetryMaxElapsed: 5 * time.Second})
	var failures atomic.Int64
	h.sf.setApply(func(context.Context, salesforce.Summary) (salesforce.Result, error) {
		if failures.Add(1) <= 3 {
			return salesforce.Result{}, &salesforce.APIError{Status: 400, Code: "UNABLE_TO_LOCK_ROW"}
		}
		return salesforce.Result{RecordID: "r"}, nil
	})
	h.start()
	h.send(`{"clientCallId":"c-1","summary":"s"}`)
	snap := h.waitOutcomes(1)
	if snap.Outcomes[worker.Applied] != 1 || h.sf.calls.Load() != 4 {
		t.Errorf("got outcomes %v after %d calls, want applied after 4", snap.Outcomes, h.sf.calls.Load())
	}
}

func TestRetryLeavesMessageInvisibleUntilNextStep(t *testing.T) {
	h := newStubHarness(t, worker.Config{})
	h.sf.setApply(func(context.Context, salesforce.Summary) (salesforce.Result, error) {
		return salesforce.Result{}, errors.New("connection reset")
	})
	h.start()
	h.send(`{"clientCallId":"c-1","summary":"s"}`)
	h.waitOutcomes(1)
	visible, inFlight, _ := h.srv.Counts(h.queueURL)
	if visible != 0 || inFlight != 1 {
		t.Errorf("got %d visible and %d in flight, want the message held back for its next step",
			visible, inFlight)
	}
}

func TestNotFoundWithinGraceIsRetriedThenDeadLettered(t *testing.T) {
	h := newStubHarness(t, worker.Config{NotFoundGrace: 2 * time.Second})
	h.sf.setApply(func(_ context.Context, s salesforce.Summary) (salesforce.Result, error) {
		return salesforce.Result{}, &salesforce.NotFoundError{Object: "Task", Fields: []string{"F"}, CallID: s.CallID}
	})
	h.start()
	h.send(`{"clientCallId":"c-1","summary":"s"}`)
	first := h.waitOutcomes(1)
	if first.Outcomes[worker.Retry] != 1 {
		t.Fatalf("first outcome: got %v, want retry inside the grace window", first.Outcomes)
	}
	eventually(t, 10*time.Second, "dead-letter after the grace window", func() bool {
		return h.pool.Stats().DeadLetters[salesforce.ReasonNotFound] == 1
	})
}

func TestBatchDeleteEntryFailureFallsBackToSingleDelete(t *testing.T) {
	h := newStubHarness(t, worker.Config{})
	var failed atomic.Int64
	h.srv.FailEntries(func(action, _ string) bool {
		return action == "DeleteMessageBatch" && failed.Add(1) <= 2
	})
	h.start()
	h.send(`{"clientCallId":"c-1","summary":"s"}`, `{"clientCallId":"c-2","summary":"s"}`)
	h.waitOutcomes(2)
	eventually(t, 5*time.Second, "an empty queue", func() bool {
		v, f, _ := h.srv.Counts(h.queueURL)
		return v+f == 0
	})
	if got := h.srv.Calls()["DeleteMessage"]; got < 1 {
		t.Errorf("single deletes: got %d, want the failed entries retried one by one", got)
	}
}

func TestWholeBatchDeleteFailureFallsBackToSingleDeletes(t *testing.T) {
	h := newStubHarness(t, worker.Config{})
	h.srv.FailNext("DeleteMessageBatch", 5)
	h.start()
	h.send(`{"clientCallId":"c-1","summary":"s"}`)
	h.waitOutcomes(1)
	eventually(t, 5*time.Second, "an empty queue", func() bool {
		v, f, _ := h.srv.Counts(h.queueURL)
		return v+f == 0
	})
}

func TestFailedDeadLetterSendKeepsMessageInSource(t *testing.T) {
	h := newStubHarness(t, worker.Config{})
	h.send(`not json`)
	// Enough failures to outlast the SDK's own retries of the dead-letter send.
	h.srv.FailNext("SendMessage", 10)
	h.start()
	snap := h.waitOutcomes(1)
	if snap.Outcomes[worker.Retry] != 1 {
		t.Errorf("outcomes: got %v, want retry", snap.Outcomes)
	}
	visible, inFlight, _ := h.srv.Counts(h.queueURL)
	if visible+inFlight != 1 || len(h.srv.Messages(h.dlqURL)) != 0 {
		t.Errorf("got %d in source and %d in DLQ, want the message kept in the source",
			visible+inFlight, len(h.srv.Messages(h.dlqURL)))
	}
}

func TestUsageAboveCeilingPausesUntilItFalls(t *testing.T) {
	h := newStubHarness(t, worker.Config{APIUsageCeiling: 0.9})
	h.sf.used.Store(95)
	h.sf.limit.Store(100)
	h.start()
	h.send(`{"clientCallId":"c-1","summary":"s"}`)
	h.waitOutcomes(1)
	if paused, reason := h.pool.Paused(); !paused || reason != worker.ReasonUsageCeiling {
		t.Fatalf("got paused=%v reason=%q, want paused for the usage ceiling", paused, reason)
	}
	h.sf.used.Store(10)
	eventually(t, 5*time.Second, "resume", func() bool { return h.pool.Ready() })
}

func TestShutdownFinishesInFlightMessages(t *testing.T) {
	h := newStubHarness(t, worker.Config{})
	started := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	h.sf.setApply(func(context.Context, salesforce.Summary) (salesforce.Result, error) {
		once.Do(func() { close(started) })
		<-release
		return salesforce.Result{RecordID: "r"}, nil
	})
	h.start()
	h.send(`{"clientCallId":"c-1","summary":"s"}`)
	<-started
	h.cancel()
	close(release)
	<-h.done
	h.cancel = nil

	if got := h.pool.Stats().Outcomes[worker.Applied]; got != 1 {
		t.Errorf("applied: got %d, want the in-flight message finished", got)
	}
	if v, f, _ := h.srv.Counts(h.queueURL); v+f != 0 {
		t.Errorf("source queue: got %d messages, want it deleted before Run returned", v+f)
	}
}

func TestReceiveFailureMakesThePoolNotReady(t *testing.T) {
	srv := sqstest.New()
	url, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	dlq, _ := srv.CreateQueue("dlq", nil)
	logs := new(lockedBuffer)
	pool, err := worker.New(worker.Config{
		QueueURL: url + "/000000000000/not-yet", DLQURL: dlq, WaitTime: time.Second,
		Receivers: 1, Logger: zerolog.New(logs),
	}, newSQSClient(url), &stubSalesforce{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = pool.Run(ctx) }()
	defer func() { cancel(); <-done }()

	eventually(t, 5*time.Second, "a failed receive", pool.ReceiveFailing)
	if pool.Ready() {
		t.Error("pool reports ready while its queue does not exist")
	}
	if _, err := srv.CreateQueue("not-yet", nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "ready once the queue exists", pool.Ready)
	if !strings.Contains(logs.String(), "receive failed") {
		t.Error("no log line for the failed receive")
	}
}

func TestTruncatedSummaryIsLogged(t *testing.T) {
	h := newStubHarness(t, worker.Config{})
	h.sf.setApply(func(context.Context, salesforce.Summary) (salesforce.Result, error) {
		return salesforce.Result{RecordID: "00T000000000001AAA", Truncated: true}, nil
	})
	h.start()
	h.send(`{"clientCallId":"c-1","summary":"long"}`)
	h.waitOutcomes(1)
	h.stop()
	if !strings.Contains(h.logs.String(), `"truncated":true`) {
		t.Errorf("outcome line does not say the summary was truncated:\n%s", h.logs)
	}
}
