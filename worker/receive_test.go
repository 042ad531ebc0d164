package worker_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/rs/zerolog"

	"github.com/callsummary/connector/salesforce"
	"github.com/callsummary/connector/worker"
	"github.com/callsummary/connector/worker/sqstest"
)

// lostAnswerWarning is the start of what the pool logs when the SDK retried
// a receive after the queue may have handed out messages.
const lostAnswerWarning = "receive attempt retried after the queue may have answered"

// receiveBacklog is how many messages each case preloads: two receives'
// worth, each answer well over the 4 KiB net/http reads at once.
const receiveBacklog = 20

func TestReceiveKeepsEveryAnswer(t *testing.T) {
	cases := []struct {
		name       string
		visibility string // the queue's, in seconds
		transport  func() http.RoundTripper
		wantWarn   bool
	}{
		{
			// A loss here would keep ten messages hidden for 30 s, far past
			// the test's deadline.
			name:       "queue-answers-before-the-sender-is-done",
			visibility: "30",
			transport:  func() http.RoundTripper { return newLateSender().transport() },
		},
		{
			name:       "answer-lost-on-the-way-is-logged",
			visibility: "1",
			transport:  func() http.RoundTripper { return &cutFirstAnswer{next: newTransport()} },
			wantWarn:   true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newReceiveHarness(t, tc.visibility, tc.transport())
			h.run()

			eventually(t, 10*time.Second, "every message handled and deleted", func() bool {
				visible, inFlight, delayed := h.srv.Counts(h.queueURL)
				return h.pool.Stats().Handled() == receiveBacklog &&
					visible+inFlight+delayed == 0
			})
			if got := h.applied(); len(got) != receiveBacklog {
				t.Errorf("got %d distinct calls applied, want %d", len(got), receiveBacklog)
			}
			for callID, n := range h.applied() {
				if n != 1 {
					t.Errorf("call %s: got %d applies, want 1", callID, n)
				}
			}
			if got := strings.Contains(h.logs.String(), lostAnswerWarning); got != tc.wantWarn {
				t.Errorf("lost-answer warning logged: got %v, want %v\nlog:\n%s",
					got, tc.wantWarn, h.logs.String())
			}
		})
	}
}

// receiveHarness is a pool with one receiver whose SQS client sends through
// a given transport, over a preloaded in-process queue.
type receiveHarness struct {
	t        *testing.T
	srv      *sqstest.Server
	queueURL string
	pool     *worker.Pool
	logs     *lockedBuffer

	mu    sync.Mutex
	calls map[string]int // applies per call id
}

func newReceiveHarness(t *testing.T, visibility string, rt http.RoundTripper) *receiveHarness {
	t.Helper()
	h := &receiveHarness{t: t, srv: sqstest.New(), logs: new(lockedBuffer),
		calls: map[string]int{}}
	endpoint, err := h.srv.Start()
	if err != nil {
		t.Fatalf("start sqstest: %v", err)
	}
	t.Cleanup(h.srv.Close)
	dlqURL, err := h.srv.CreateQueue("dlq", nil)
	if err != nil {
		t.Fatal(err)
	}
	h.queueURL, err = h.srv.CreateQueue("source", map[string]string{
		"VisibilityTimeout": visibility})
	if err != nil {
		t.Fatal(err)
	}
	h.preload(newSQSClient(endpoint))

	sf := &stubSalesforce{}
	sf.setApply(h.apply)
	client := sqs.New(sqs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:   &http.Client{Timeout: 30 * time.Second, Transport: rt},
	})
	h.pool, err = worker.New(worker.Config{
		QueueURL: h.queueURL, DLQURL: dlqURL, Receivers: 1, WaitTime: time.Second,
		Logger: zerolog.New(h.logs),
	}, client, sf)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// preload sends the backlog, each summary long enough that ten of them make
// an answer net/http cannot take in with one read.
func (h *receiveHarness) preload(client *sqs.Client) {
	h.t.Helper()
	text := strings.Repeat("The customer asked about the invoice. ", 20)
	for start := 0; start < receiveBacklog; start += 10 {
		var entries []types.SendMessageBatchRequestEntry
		for i := start; i < start+10; i++ {
			entries = append(entries, types.SendMessageBatchRequestEntry{
				Id:          aws.String(fmt.Sprint(i)),
				MessageBody: aws.String(summaryBody(fmt.Sprintf("call-%02d", i), text)),
			})
		}
		out, err := client.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{
			QueueUrl: aws.String(h.queueURL), Entries: entries})
		if err != nil || len(out.Failed) > 0 {
			h.t.Fatalf("preload: %v, %d failed", err, len(out.Failed))
		}
	}
}

func (h *receiveHarness) apply(_ context.Context, s salesforce.Summary) (salesforce.Result, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls[s.CallID]++
	return salesforce.Result{RecordID: "00T000000000001AAA"}, nil
}

// applied returns how often each call was applied.
func (h *receiveHarness) applied() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]int, len(h.calls))
	for id, n := range h.calls {
		out[id] = n
	}
	return out
}

// run starts the pool and stops it when the test ends.
func (h *receiveHarness) run() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = h.pool.Run(ctx)
	}()
	h.t.Cleanup(func() {
		cancel()
		<-done
		if h.t.Failed() {
			h.t.Logf("worker log:\n%s", h.logs.String())
		}
	})
}

func newTransport() *http.Transport {
	return http.DefaultTransport.(*http.Transport).Clone()
}

// lateSender holds up the sender of the first ReceiveMessage whose body goes
// out apart from its headers: right after the body, until the caller reads
// the response body. That is how a busy client meets a nearby queue, which
// answers before net/http has finished with the request body. It keeps the
// hold-up to one request, so a loss costs one answer, not every attempt.
type lateSender struct {
	armed atomic.Bool
}

func newLateSender() *lateSender {
	l := &lateSender{}
	l.armed.Store(true)
	return l
}

func (l *lateSender) transport() *http.Transport {
	tr := newTransport()
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &lateConn{Conn: c, sender: l, reading: make(chan struct{}),
			closed: make(chan struct{})}, nil
	}
	return tr
}

// holdLimit bounds every hold-up of lateConn, should what it waits for
// never come.
const holdLimit = 2 * time.Second

// lateConn is one client connection of a lateSender.
type lateConn struct {
	net.Conn
	sender *lateSender

	mu          sync.Mutex
	headersOnly bool // the last write was ReceiveMessage headers alone
	held        bool // the sender is held up until the response body is read
	answered    bool // while held, the response headers have arrived

	readingOnce sync.Once
	reading     chan struct{} // closed when the response body is read
	closeOnce   sync.Once
	closed      chan struct{} // closed by Close
}

func (c *lateConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	hold := c.headersOnly && c.sender.armed.CompareAndSwap(true, false)
	c.held = c.held || hold
	c.headersOnly = bytes.HasPrefix(p, []byte("POST ")) &&
		bytes.HasSuffix(p, []byte("\r\n\r\n")) &&
		bytes.Contains(p, []byte("AmazonSQS.ReceiveMessage"))
	c.mu.Unlock()

	n, err := c.Conn.Write(p)
	if hold {
		awaitClosed(c.reading)
	}
	return n, err
}

// Read lets the held sender go once the caller reads the response body,
// and reads on when the sender has closed the connection, as net/http does
// when it finds the request body closed under it.
func (c *lateConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	bodyRead := c.held && c.answered
	if bodyRead {
		c.held = false
	}
	c.mu.Unlock()
	if bodyRead {
		c.readingOnce.Do(func() { close(c.reading) })
		awaitClosed(c.closed)
	}

	n, err := c.Conn.Read(p)
	c.mu.Lock()
	if c.held && bytes.Contains(p[:n], []byte("\r\n\r\n")) {
		c.answered = true
	}
	c.mu.Unlock()
	return n, err
}

func (c *lateConn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

// awaitClosed waits until ch is closed, at most holdLimit.
func awaitClosed(ch <-chan struct{}) {
	t := time.NewTimer(holdLimit)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	}
}

// cutFirstAnswer breaks the body of the first ReceiveMessage answer that
// holds messages halfway, as a connection reset would: the queue has handed
// the messages out, and the worker never sees them.
type cutFirstAnswer struct {
	next http.RoundTripper
	done atomic.Bool
}

func (c *cutFirstAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err != nil || r.Header.Get("X-Amz-Target") != "AmazonSQS.ReceiveMessage" ||
		resp.ContentLength < 1024 || !c.done.CompareAndSwap(false, true) {
		return resp, err
	}
	resp.Body = &cutBody{ReadCloser: resp.Body, left: resp.ContentLength / 2}
	return resp, nil
}

// cutBody delivers left bytes of a body, then fails.
type cutBody struct {
	io.ReadCloser
	left int64
}

func (b *cutBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}
