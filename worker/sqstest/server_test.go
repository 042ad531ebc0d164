package sqstest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// pollers returns how many long polls wait on the named queue.
func pollers(s *Server, name string) int {
	q := s.lookup(name)
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.pollers
}

// longPoll starts a receive that waits up to wait seconds and returns a
// channel with its outcome.
func longPoll(ctx context.Context, c *sqs.Client, queueURL string,
	wait int32) <-chan *sqs.ReceiveMessageOutput {
	done := make(chan *sqs.ReceiveMessageOutput, 1)
	go func() {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(queueURL), WaitTimeSeconds: wait})
		if err != nil {
			out = nil
		}
		done <- out
	}()
	return done
}

func TestLongPollWakesUp(t *testing.T) {
	tests := []struct {
		name string
		// arrange runs before the poll starts; trigger once it waits.
		arrange  func(ctx context.Context, t *testing.T, c *sqs.Client, u string) *types.Message
		trigger  func(ctx context.Context, t *testing.T, c *sqs.Client, u string, m *types.Message)
		earliest time.Duration
	}{
		{
			name:    "by-send",
			arrange: func(context.Context, *testing.T, *sqs.Client, string) *types.Message { return nil },
			trigger: func(ctx context.Context, t *testing.T, c *sqs.Client, u string, _ *types.Message) {
				send(ctx, t, c, u, "x")
			},
		},
		{
			name: "by-visibility-expiry",
			arrange: func(ctx context.Context, t *testing.T, c *sqs.Client, u string) *types.Message {
				send(ctx, t, c, u, "x")
				out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
					QueueUrl: aws.String(u), VisibilityTimeout: 1})
				if err != nil || len(out.Messages) != 1 {
					t.Fatalf("receive: %v", err)
				}
				return &out.Messages[0]
			},
			earliest: 500 * time.Millisecond,
		},
		{
			name: "by-delay-expiry",
			arrange: func(ctx context.Context, t *testing.T, c *sqs.Client, u string) *types.Message {
				_, err := c.SendMessage(ctx, &sqs.SendMessageInput{
					QueueUrl: aws.String(u), MessageBody: aws.String("x"), DelaySeconds: 1})
				if err != nil {
					t.Fatalf("send: %v", err)
				}
				return nil
			},
			earliest: 500 * time.Millisecond,
		},
		{
			name: "by-visibility-zero",
			arrange: func(ctx context.Context, t *testing.T, c *sqs.Client, u string) *types.Message {
				send(ctx, t, c, u, "x")
				return receiveOne(ctx, t, c, u, 0)
			},
			trigger: func(ctx context.Context, t *testing.T, c *sqs.Client, u string, m *types.Message) {
				release(ctx, t, c, u, m)
			},
		},
		{
			name: "by-earlier-deadline",
			arrange: func(ctx context.Context, t *testing.T, c *sqs.Client, u string) *types.Message {
				send(ctx, t, c, u, "x")
				return receiveOne(ctx, t, c, u, 0)
			},
			trigger: func(ctx context.Context, t *testing.T, c *sqs.Client, u string, m *types.Message) {
				_, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
					QueueUrl: aws.String(u), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 1})
				if err != nil {
					t.Fatalf("change visibility: %v", err)
				}
			},
			earliest: 500 * time.Millisecond,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, c := startServer(t)
			ctx := testContext(t)
			u := mustCreate(t, s, "wake", nil)
			m := tt.arrange(ctx, t, c, u)

			start := time.Now()
			done := longPoll(ctx, c, u, 10)
			eventually(t, 5*time.Second, "long poll waiting", func() bool {
				return pollers(s, "wake") == 1
			})
			if tt.trigger != nil {
				tt.trigger(ctx, t, c, u, m)
			}
			out := <-done
			elapsed := time.Since(start)
			if out == nil || len(out.Messages) != 1 {
				t.Fatalf("long poll got %+v, want one message", out)
			}
			if elapsed < tt.earliest || elapsed > 4*time.Second {
				t.Errorf("long poll returned after %v, want between %v and 4s of a 10s wait",
					elapsed, tt.earliest)
			}
		})
	}
}

func TestLongPollEndsOnContextCancel(t *testing.T) {
	t.Parallel()
	s, c := startServer(t)
	u := mustCreate(t, s, "idle", nil)
	ctx, cancel := context.WithCancel(testContext(t))

	done := make(chan error, 1)
	go func() {
		_, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(u), WaitTimeSeconds: 20})
		done <- err
	}()
	eventually(t, 5*time.Second, "long poll waiting", func() bool { return pollers(s, "idle") == 1 })
	start := time.Now()
	cancel()

	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("receive: got %v, want context.Canceled", err)
	}
	eventually(t, 2*time.Second, "server ends the poll", func() bool {
		return pollers(s, "idle") == 0
	})
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("poll ended %v after cancel", elapsed)
	}
}

func TestCloseEndsLongPolls(t *testing.T) {
	t.Parallel()
	s, c := startServer(t)
	u := mustCreate(t, s, "idle", nil)
	ctx := testContext(t)

	done := longPoll(ctx, c, u, 20)
	eventually(t, 5*time.Second, "long poll waiting", func() bool { return pollers(s, "idle") == 1 })
	start := time.Now()
	s.Close()
	if out := <-done; out != nil && len(out.Messages) > 0 {
		t.Errorf("poll got %d messages from an empty queue", len(out.Messages))
	}
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("Close and the poll's end took %v", elapsed)
	}
	if _, err := c.ListQueues(ctx, &sqs.ListQueuesInput{}); err == nil {
		t.Error("server still answers after Close")
	}
	s.Close()
}

func TestFailNext(t *testing.T) {
	t.Parallel()
	s, c := startServer(t)
	ctx := testContext(t)
	u := mustCreate(t, s, "q", nil)
	noRetry := newClient(s.URL(), func(o *sqs.Options) { o.RetryMaxAttempts = 1 })

	t.Run("sdk-retries-past-it", func(t *testing.T) {
		s.FailNext("GetQueueUrl", 1)
		before := s.Calls()["GetQueueUrl"]
		if _, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("q")}); err != nil {
			t.Fatalf("get queue url: %v", err)
		}
		if got := s.Calls()["GetQueueUrl"] - before; got != 2 {
			t.Errorf("requests: got %d, want 2 (one failed, one retried)", got)
		}
	})

	t.Run("fails-n-then-succeeds", func(t *testing.T) {
		s.FailNext("SendMessage", 2)
		for i := range 2 {
			_, err := noRetry.SendMessage(ctx, &sqs.SendMessageInput{
				QueueUrl: aws.String(u), MessageBody: aws.String("x")})
			var re *awshttp.ResponseError
			if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusInternalServerError {
				t.Fatalf("send %d: got %v, want HTTP 500", i, err)
			}
			if got := errorCode(err); got != "InternalError" {
				t.Errorf("send %d: code %q, want InternalError", i, got)
			}
		}
		send(ctx, t, noRetry, u, "x")
		if got := len(s.Messages(u)); got != 1 {
			t.Errorf("messages: got %d, want 1 (failed sends store nothing)", got)
		}
	})

	t.Run("other-actions-unaffected", func(t *testing.T) {
		s.FailNext("DeleteMessageBatch", 1)
		if _, err := noRetry.ListQueues(ctx, &sqs.ListQueuesInput{}); err != nil {
			t.Fatalf("list queues: %v", err)
		}
		s.FailNext("DeleteMessageBatch", 0)
	})
}

func TestFailEntries(t *testing.T) {
	t.Parallel()
	s, c := startServer(t)
	ctx := testContext(t)
	u := mustCreate(t, s, "q", nil)

	var mu sync.Mutex
	var asked []string
	s.FailEntries(func(action, id string) bool {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, action+"/"+id)
		return id == "e1"
	})

	var sendEntries []types.SendMessageBatchRequestEntry
	for i := range 3 {
		sendEntries = append(sendEntries, types.SendMessageBatchRequestEntry{
			Id: aws.String(fmt.Sprintf("e%d", i)), MessageBody: aws.String(fmt.Sprintf("m%d", i))})
	}
	sent, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{
		QueueUrl: aws.String(u), Entries: sendEntries})
	if err != nil {
		t.Fatalf("send batch: %v", err)
	}
	wantBatch(t, "send", batchIDs(sent.Successful, func(e types.SendMessageBatchResultEntry) *string {
		return e.Id
	}), sent.Failed, []string{"e0", "e2"})
	if got := len(s.Messages(u)); got != 2 {
		t.Fatalf("messages after send: got %d, want 2", got)
	}

	out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(u), MaxNumberOfMessages: 10})
	if err != nil || len(out.Messages) != 2 {
		t.Fatalf("receive: %d messages, %v", len(out.Messages), err)
	}
	deletes := []types.DeleteMessageBatchRequestEntry{
		{Id: aws.String("e0"), ReceiptHandle: out.Messages[0].ReceiptHandle},
		{Id: aws.String("e1"), ReceiptHandle: out.Messages[1].ReceiptHandle},
	}
	deleted, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{
		QueueUrl: aws.String(u), Entries: deletes})
	if err != nil {
		t.Fatalf("delete batch: %v", err)
	}
	deletedIDs := batchIDs(deleted.Successful,
		func(e types.DeleteMessageBatchResultEntry) *string { return e.Id })
	wantBatch(t, "delete", deletedIDs, deleted.Failed, []string{"e0"})
	left := s.Messages(u)
	if len(left) != 1 || left[0].ID != aws.ToString(out.Messages[1].MessageId) {
		t.Fatalf("messages after delete: got %+v, want only the failed entry's", left)
	}

	changed, err := c.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{
		QueueUrl: aws.String(u),
		Entries: []types.ChangeMessageVisibilityBatchRequestEntry{
			{Id: aws.String("e1"), ReceiptHandle: out.Messages[1].ReceiptHandle}},
	})
	if err != nil {
		t.Fatalf("change visibility batch: %v", err)
	}
	wantBatch(t, "change visibility", nil, changed.Failed, nil)

	s.FailEntries(nil)
	deleted, err = c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{
		QueueUrl: aws.String(u), Entries: deletes[1:]})
	if err != nil || len(deleted.Successful) != 1 {
		t.Fatalf("delete after removing the hook: %+v, %v", deleted, err)
	}
	if got := len(s.Messages(u)); got != 0 {
		t.Errorf("messages: got %d, want 0", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(asked) != 6 {
		t.Errorf("hook asked about %v, want 6 entries", asked)
	}
}

func batchIDs[E any](entries []E, id func(E) *string) []string {
	var ids []string
	for _, e := range entries {
		ids = append(ids, aws.ToString(id(e)))
	}
	return ids
}

// wantBatch checks a batch answer: the successful ids, and that every other
// entry failed with an injected InternalError.
func wantBatch(t *testing.T, what string, successful []string, failed []types.BatchResultErrorEntry,
	want []string) {
	t.Helper()
	if diff := cmp.Diff(want, successful, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("%s: successful ids (-want +got):\n%s", what, diff)
	}
	if len(failed) != 1 {
		t.Fatalf("%s: failed: got %+v, want one entry", what, failed)
	}
	f := failed[0]
	if aws.ToString(f.Id) != "e1" || aws.ToString(f.Code) != "InternalError" || f.SenderFault {
		t.Errorf("%s: failed entry: got id %s code %s sender %v, want e1 InternalError false",
			what, aws.ToString(f.Id), aws.ToString(f.Code), f.SenderFault)
	}
}

func TestMessagesAndCounts(t *testing.T) {
	t.Parallel()
	s, c := startServer(t)
	ctx := testContext(t)
	u := mustCreate(t, s, "q", nil)

	if got := s.Messages(u); len(got) != 0 {
		t.Fatalf("new queue: %d messages", len(got))
	}
	before := time.Now()
	_, err := c.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(u), MessageBody: aws.String("first"),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"bin": binaryAttr([]byte{1, 2}), "s": stringAttr("String", "v")},
	})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	send(ctx, t, c, u, "second")
	_, err = c.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(u), MessageBody: aws.String("third"), DelaySeconds: 600})
	if err != nil {
		t.Fatalf("send delayed: %v", err)
	}
	m := receiveOne(ctx, t, c, u, 0)

	got := s.Messages(u)
	want := []Message{
		{Body: "first", ReceiveCount: 1, InFlight: true, Attributes: map[string]MessageAttribute{
			"bin": {DataType: "Binary", BinaryValue: []byte{1, 2}},
			"s":   {DataType: "String", StringValue: "v"}}},
		{Body: "second"},
		{Body: "third"},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Message{}, "ID", "SentAt")); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
	if got[0].ID != aws.ToString(m.MessageId) {
		t.Errorf("id: got %s, want %s", got[0].ID, aws.ToString(m.MessageId))
	}
	if got[0].SentAt.Before(before.Truncate(time.Millisecond)) || got[0].SentAt.After(time.Now()) {
		t.Errorf("sent at %v, want during the test", got[0].SentAt)
	}

	got[0].Attributes["bin"].BinaryValue[0] = 99
	if b := s.Messages(u)[0].Attributes["bin"].BinaryValue[0]; b != 1 {
		t.Error("a snapshot shares memory with the server")
	}
	if visible, inFlight, delayed := s.Counts(u); visible != 1 || inFlight != 1 || delayed != 1 {
		t.Errorf("counts: got %d/%d/%d, want 1/1/1", visible, inFlight, delayed)
	}
	missing := strings.Replace(u, "/q", "/nope", 1)
	if got := s.Messages(missing); got != nil {
		t.Errorf("unknown queue: got %v, want nil", got)
	}
	if v, f, d := s.Counts(missing); v+f+d != 0 {
		t.Errorf("unknown queue counts: %d/%d/%d", v, f, d)
	}
}

func TestCalls(t *testing.T) {
	t.Parallel()
	s, c := startServer(t)
	ctx := testContext(t)
	u := mustCreate(t, s, "q", nil)
	send(ctx, t, c, u, "a")
	send(ctx, t, c, u, "b")
	receiveOne(ctx, t, c, u, 0)
	_, _ = c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("missing")})

	want := map[string]int{"SendMessage": 2, "ReceiveMessage": 1, "GetQueueUrl": 1}
	got := s.Calls()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	got["SendMessage"] = 100
	if s.Calls()["SendMessage"] != 2 {
		t.Error("Calls returns the server's own map")
	}
}

func TestStaleReceiptHandle(t *testing.T) {
	t.Parallel()
	s, c := startServer(t)
	ctx := testContext(t)
	u := mustCreate(t, s, "q", nil)
	other := mustCreate(t, s, "other", nil)
	send(ctx, t, c, u, "x")

	first := receiveOne(ctx, t, c, u, 0)
	release(ctx, t, c, u, first)
	second := receiveOne(ctx, t, c, u, 0)

	del := func(queueURL string, h *string) error {
		_, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{
			QueueUrl: aws.String(queueURL), ReceiptHandle: h})
		return err
	}
	if err := del(u, first.ReceiptHandle); err != nil {
		t.Fatalf("stale delete: %v", err)
	}
	if got := s.Messages(u); len(got) != 1 || !got[0].InFlight || got[0].ReceiveCount != 2 {
		t.Fatalf("after stale delete: %+v, want the message still in flight", got)
	}
	_, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(u), ReceiptHandle: first.ReceiptHandle, VisibilityTimeout: 0})
	wantAs(t, err, new(*types.MessageNotInflight))

	wantAs(t, del(other, second.ReceiptHandle), new(*types.ReceiptHandleIsInvalid))
	tampered := aws.ToString(second.ReceiptHandle) + "x"
	wantAs(t, del(u, &tampered), new(*types.ReceiptHandleIsInvalid))

	if err := del(u, second.ReceiptHandle); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if err := del(u, second.ReceiptHandle); err != nil {
		t.Errorf("deleting twice: %v, want success", err)
	}
	if got := s.Messages(u); len(got) != 0 {
		t.Errorf("after delete: %d messages", len(got))
	}
}

func TestSendValidation(t *testing.T) {
	t.Parallel()
	s, c := startServer(t)
	ctx := testContext(t)
	u := mustCreate(t, s, "q", nil)
	small := mustCreate(t, s, "small", map[string]string{"MaximumMessageSize": "1024"})

	tests := []struct {
		name  string
		queue string
		body  string
		attrs map[string]types.MessageAttributeValue
		delay int32
		code  string
	}{
		{name: "nul", body: "a\x00b", code: "InvalidMessageContents"},
		{name: "escape", body: "\x1b[0m", code: "InvalidMessageContents"},
		{name: "noncharacter", body: "\uFFFF", code: "InvalidMessageContents"},
		{name: "tab-newline-emoji", body: "a\tb\r\n😀"},
		{name: "empty-body", body: "", code: "MissingParameter"},
		{name: "eleven-attributes", body: "x", attrs: attrsN(11), code: "InvalidParameterValue"},
		{name: "ten-attributes", body: "x", attrs: attrsN(10)},
		{name: "reserved-attribute-name", body: "x", code: "InvalidParameterValue",
			attrs: map[string]types.MessageAttributeValue{"AWS.x": stringAttr("String", "v")}},
		{name: "attribute-name-spaces", body: "x", code: "InvalidParameterValue",
			attrs: map[string]types.MessageAttributeValue{"a b": stringAttr("String", "v")}},
		{name: "attribute-bad-type", body: "x", code: "InvalidParameterValue",
			attrs: map[string]types.MessageAttributeValue{"a": stringAttr("Text", "v")}},
		{name: "attribute-empty-value", body: "x", code: "InvalidParameterValue",
			attrs: map[string]types.MessageAttributeValue{"a": stringAttr("String", "")}},
		{name: "attribute-not-a-number", body: "x", code: "InvalidParameterValue",
			attrs: map[string]types.MessageAttributeValue{"a": stringAttr("Number", "12a")}},
		{name: "attribute-number", body: "x",
			attrs: map[string]types.MessageAttributeValue{"a": stringAttr("Number.int", "-1.5e3")}},
		{name: "delay-too-long", body: "x", delay: 901, code: "InvalidParameterValue"},
		{name: "over-custom-limit", queue: small, body: strings.Repeat("x", 1025),
			code: "InvalidParameterValue"},
		{name: "binary-counts-raw-bytes", queue: small, body: strings.Repeat("x", 1000),
			attrs: map[string]types.MessageAttributeValue{"b": binaryAttr(make([]byte, 17))}},
		{name: "over-default-limit", body: strings.Repeat("x", 1<<20+1),
			code: "InvalidParameterValue"},
		{name: "at-default-limit", body: strings.Repeat("x", 1<<20)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			queue := u
			if tt.queue != "" {
				queue = tt.queue
			}
			_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queue),
				MessageBody: aws.String(tt.body), MessageAttributes: tt.attrs,
				DelaySeconds: tt.delay})
			if got := errorCode(err); got != tt.code {
				t.Errorf("code: got %q, want %q (err %v)", got, tt.code, err)
			}
		})
	}
}

func attrsN(n int) map[string]types.MessageAttributeValue {
	attrs := map[string]types.MessageAttributeValue{}
	for i := range n {
		attrs[fmt.Sprintf("a%d", i)] = stringAttr("String", "v")
	}
	return attrs
}

func TestBatchValidation(t *testing.T) {
	t.Parallel()
	s, c := startServer(t)
	ctx := testContext(t)
	u := mustCreate(t, s, "q", nil)
	entry := func(id, body string) types.SendMessageBatchRequestEntry {
		return types.SendMessageBatchRequestEntry{Id: aws.String(id), MessageBody: aws.String(body)}
	}
	big := strings.Repeat("x", 600*1024)

	tests := []struct {
		name    string
		entries []types.SendMessageBatchRequestEntry
		code    string
	}{
		{"empty", []types.SendMessageBatchRequestEntry{}, "AWS.SimpleQueueService.EmptyBatchRequest"},
		{"id-too-long", []types.SendMessageBatchRequestEntry{entry(strings.Repeat("a", 81), "x")},
			"AWS.SimpleQueueService.InvalidBatchEntryId"},
		{"duplicate", []types.SendMessageBatchRequestEntry{entry("a", "x"), entry("a", "y")},
			"AWS.SimpleQueueService.BatchEntryIdsNotDistinct"},
		{"total-over-1mib", []types.SendMessageBatchRequestEntry{entry("a", big), entry("b", big)},
			"AWS.SimpleQueueService.BatchRequestTooLong"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{
				QueueUrl: aws.String(u), Entries: tt.entries})
			if got := errorCode(err); got != tt.code {
				t.Errorf("code: got %q, want %q (err %v)", got, tt.code, err)
			}
		})
	}
	if got := len(s.Messages(u)); got != 0 {
		t.Errorf("refused batches stored %d messages", got)
	}

	var eleven []types.ChangeMessageVisibilityBatchRequestEntry
	for i := range 11 {
		eleven = append(eleven, types.ChangeMessageVisibilityBatchRequestEntry{
			Id: aws.String(fmt.Sprintf("e%d", i)), ReceiptHandle: aws.String("h")})
	}
	_, err := c.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{
		QueueUrl: aws.String(u), Entries: eleven})
	if got := errorCode(err); got != "AWS.SimpleQueueService.TooManyEntriesInBatchRequest" {
		t.Errorf("eleven entries: got %q (err %v)", got, err)
	}
}

func TestChangeVisibilityValidation(t *testing.T) {
	t.Parallel()
	s, c := startServer(t)
	ctx := testContext(t)
	u := mustCreate(t, s, "q", nil)
	send(ctx, t, c, u, "x")
	m := receiveOne(ctx, t, c, u, 0)

	change := func(timeout int32) error {
		_, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
			QueueUrl: aws.String(u), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: timeout})
		return err
	}
	wantCode(t, change(43201), "InvalidParameterValue")
	wantCode(t, change(-1), "InvalidParameterValue")
	if err := change(43200); err != nil {
		t.Errorf("12 hours right after the receive: %v", err)
	}
	if _, inFlight, _ := s.Counts(u); inFlight != 1 {
		t.Errorf("in flight: got %d, want 1", inFlight)
	}
}

func TestRedrivePolicy(t *testing.T) {
	t.Parallel()
	s, c := startServer(t)
	ctx := testContext(t)
	dlq := mustCreate(t, s, "dlq", nil)
	arn := "arn:aws:sqs:us-east-1:000000000000:dlq"
	src := mustCreate(t, s, "src", map[string]string{
		"RedrivePolicy": `{"maxReceiveCount":1,"deadLetterTargetArn":"` + arn + `"}`})

	attrs, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(src), AttributeNames: []types.QueueAttributeName{"RedrivePolicy"}})
	if err != nil {
		t.Fatalf("get attributes: %v", err)
	}
	want := `{"deadLetterTargetArn":"` + arn + `","maxReceiveCount":1}`
	if got := attrs.Attributes["RedrivePolicy"]; got != want {
		t.Errorf("RedrivePolicy: got %s, want %s", got, want)
	}

	id := send(ctx, t, c, src, "poison")
	release(ctx, t, c, src, receiveOne(ctx, t, c, src, 0))
	if m := receiveOne(ctx, t, c, src, 0); m != nil {
		t.Fatal("second receive returned the message, want it dead-lettered")
	}
	got := s.Messages(dlq)
	if len(got) != 1 || got[0].ID != id || got[0].Body != "poison" || got[0].ReceiveCount != 1 {
		t.Fatalf("dead-letter queue: %+v, want the message with its id and receive count", got)
	}
	m := receiveOne(ctx, t, c, dlq, 0)
	if got, want := m.Attributes["DeadLetterQueueSourceArn"],
		"arn:aws:sqs:us-east-1:000000000000:src"; got != want {
		t.Errorf("DeadLetterQueueSourceArn: got %q, want %q", got, want)
	}

	tests := []struct {
		name   string
		policy string
	}{
		{"missing-target", `{"deadLetterTargetArn":"` + strings.TrimSuffix(arn, "dlq") +
			`nope","maxReceiveCount":3}`},
		{"count-zero", `{"deadLetterTargetArn":"` + arn + `","maxReceiveCount":0}`},
		{"count-too-big", `{"deadLetterTargetArn":"` + arn + `","maxReceiveCount":"1001"}`},
		{"not-json", `maxReceiveCount=3`},
		{"not-an-arn", `{"deadLetterTargetArn":"dlq","maxReceiveCount":3}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(src),
				Attributes: map[string]string{"RedrivePolicy": tt.policy}})
			wantCode(t, err, "InvalidParameterValue")
		})
	}

	_, err = c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(src),
		Attributes: map[string]string{"RedrivePolicy": ""}})
	if err != nil {
		t.Fatalf("clear policy: %v", err)
	}
	all, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(src), AttributeNames: []types.QueueAttributeName{"All"}})
	if err != nil {
		t.Fatalf("get attributes: %v", err)
	}
	if p, ok := all.Attributes["RedrivePolicy"]; ok {
		t.Errorf("RedrivePolicy after clearing: %s", p)
	}
}

func TestFIFORefused(t *testing.T) {
	t.Parallel()
	_, c := startServer(t)
	ctx := testContext(t)
	tests := []struct {
		name  string
		queue string
		attrs map[string]string
	}{
		{"fifo-name", "orders.fifo", nil},
		{"fifo-attribute", "orders", map[string]string{"FifoQueue": "true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{
				QueueName: aws.String(tt.queue), Attributes: tt.attrs})
			wantAs(t, err, new(*types.UnsupportedOperation))
		})
	}
}

func TestCreateQueueGoAPI(t *testing.T) {
	t.Parallel()
	s := New()
	u, err := s.CreateQueue("early", nil)
	if err != nil || u != "/000000000000/early" {
		t.Fatalf("before Start: got %q, %v", u, err)
	}
	base, err := s.Start()
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	defer s.Close()
	if _, err := s.Start(); err == nil {
		t.Error("second Start: got no error")
	}
	if got := s.URL(); got != base || !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Errorf("URL: got %q, Start returned %q", got, base)
	}
	again, err := s.CreateQueue("early", nil)
	if err != nil || again != base+"/000000000000/early" {
		t.Errorf("after Start: got %q, %v", again, err)
	}

	c := newClient(base)
	send(testContext(t), t, c, u, "a relative URL works too")
	_, err = s.CreateQueue("bad name", nil)
	var ae *apiError
	if !errors.As(err, &ae) || !strings.HasPrefix(err.Error(), "sqstest: create queue bad name: ") {
		t.Errorf("bad name: got %v", err)
	}
	_, err = s.CreateQueue("early", map[string]string{"DelaySeconds": "3"})
	if !errors.As(err, &ae) || ae.kind.shape != "QueueNameExists" {
		t.Errorf("conflict: got %v", err)
	}
}

func TestListQueuesPagination(t *testing.T) {
	t.Parallel()
	s, c := startServer(t)
	ctx := testContext(t)
	for _, name := range []string{"b-3", "b-1", "a-1", "b-2"} {
		mustCreate(t, s, name, nil)
	}
	var pages [][]string
	in := &sqs.ListQueuesInput{QueueNamePrefix: aws.String("b-"), MaxResults: aws.Int32(2)}
	for {
		out, err := c.ListQueues(ctx, in)
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		var names []string
		for _, u := range out.QueueUrls {
			names = append(names, u[strings.LastIndex(u, "/")+1:])
		}
		pages = append(pages, names)
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	if diff := cmp.Diff([][]string{{"b-1", "b-2"}, {"b-3"}}, pages); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
	_, err := c.ListQueues(ctx, &sqs.ListQueuesInput{MaxResults: aws.Int32(1001)})
	wantCode(t, err, "InvalidParameterValue")
}

func TestMountedHandler(t *testing.T) {
	t.Parallel()
	hs := httptest.NewServer(New())
	defer hs.Close()
	c := newClient(hs.URL)
	ctx := testContext(t)
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("mounted")})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if got, want := aws.ToString(out.QueueUrl), hs.URL+"/000000000000/mounted"; got != want {
		t.Errorf("url: got %s, want %s", got, want)
	}
	send(ctx, t, c, aws.ToString(out.QueueUrl), "x")
	if m := receiveOne(ctx, t, c, aws.ToString(out.QueueUrl), 0); m == nil {
		t.Error("received nothing")
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	s, c := startServer(t)
	ctx := testContext(t)
	u := mustCreate(t, s, "busy", map[string]string{"VisibilityTimeout": "20"})
	const producers, perProducer, consumers = 4, 50, 4

	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for i := 0; i < perProducer; i += 10 {
				var entries []types.SendMessageBatchRequestEntry
				for j := range 10 {
					entries = append(entries, types.SendMessageBatchRequestEntry{
						Id:          aws.String(fmt.Sprintf("m%d", j)),
						MessageBody: aws.String(fmt.Sprintf("p%d-%d", p, i+j)),
					})
				}
				if _, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{
					QueueUrl: aws.String(u), Entries: entries}); err != nil {
					t.Errorf("send batch: %v", err)
					return
				}
			}
		})
	}

	// Consumers stop once every message is seen; cancelling their context
	// ends the long polls still waiting.
	consumeCtx, stop := context.WithCancel(ctx)
	defer stop()
	var mu sync.Mutex
	seen := map[string]int{}
	for range consumers {
		wg.Go(func() {
			for consumeCtx.Err() == nil {
				out, err := c.ReceiveMessage(consumeCtx, &sqs.ReceiveMessageInput{
					QueueUrl: aws.String(u), MaxNumberOfMessages: 10, WaitTimeSeconds: 5})
				if err != nil {
					if consumeCtx.Err() == nil {
						t.Errorf("receive: %v", err)
					}
					return
				}
				for _, m := range out.Messages {
					if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{
						QueueUrl: aws.String(u), ReceiptHandle: m.ReceiptHandle}); err != nil {
						t.Errorf("delete: %v", err)
					}
					mu.Lock()
					seen[aws.ToString(m.Body)]++
					if len(seen) == producers*perProducer {
						stop()
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()

	if len(seen) != producers*perProducer {
		t.Errorf("received %d distinct messages, want %d", len(seen), producers*perProducer)
	}
	for body, n := range seen {
		if n != 1 {
			t.Errorf("%s received %d times", body, n)
		}
	}
	if v, f, d := s.Counts(u); v+f+d != 0 {
		t.Errorf("left in the queue: %d/%d/%d", v, f, d)
	}
}
