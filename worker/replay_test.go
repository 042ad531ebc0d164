package worker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/callsummary/connector/worker/sqstest"
)

// replayEnv is an SQS server with a source queue, its dead-letter queue and
// another queue, and a client for them.
type replayEnv struct {
	srv                *sqstest.Server
	client             *sqs.Client
	source, dlq, other string
}

func newReplayEnv(t *testing.T) *replayEnv {
	t.Helper()
	srv := sqstest.New()
	base, err := srv.Start()
	if err != nil {
		t.Fatalf("start sqs server: %v", err)
	}
	t.Cleanup(srv.Close)
	e := &replayEnv{srv: srv, client: replayClient(base)}
	for name, u := range map[string]*string{"summaries": &e.source, "summaries-dlq": &e.dlq,
		"other": &e.other} {
		if *u, err = srv.CreateQueue(name, nil); err != nil {
			t.Fatalf("create queue %s: %v", name, err)
		}
	}
	return e
}

// replayClient is the real SQS client for base. Its retries do not wait, so
// that refused calls fail fast.
func replayClient(base string) *sqs.Client {
	return sqs.New(sqs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(base),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) {
				return 0, nil
			})
		}),
	})
}

// deadLettered describes a message as the worker dead-letters it.
type deadLettered struct {
	body     string
	reason   string
	age      time.Duration // since it was dead-lettered
	replays  int           // earlier replays; 0 for none
	upstream map[string]types.MessageAttributeValue
}

// put dead-letters d into the DLQ with the attributes the worker writes.
func (e *replayEnv) put(t *testing.T, d deadLettered) string {
	t.Helper()
	attrs := map[string]types.MessageAttributeValue{}
	for name, v := range d.upstream {
		attrs[name] = v
	}
	if d.replays > 0 {
		attrs[AttrReplays] = numberAttr(d.replays)
	}
	failed := time.Now().Add(-d.age)
	p := &Pool{cfg: Config{QueueURL: e.source, MaxBodyBytes: 1 << 20,
		Now: func() time.Time { return failed }}}
	m := types.Message{Body: aws.String(d.body), MessageAttributes: attrs,
		Attributes: map[string]string{"ApproximateReceiveCount": "4"}}
	out, err := e.client.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl:          aws.String(e.dlq),
		MessageBody:       m.Body,
		MessageAttributes: p.deadLetterAttributes(m, decision{reason: d.reason, detail: "why"}),
	})
	if err != nil {
		t.Fatalf("put dead-lettered message: %v", err)
	}
	return aws.ToString(out.MessageId)
}

func (e *replayEnv) replay(t *testing.T, opts ReplayOptions) ReplayReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	opts.DLQURL = e.dlq
	report, err := Replay(ctx, e.client, opts, nil)
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	return report
}

// bodies returns the bodies in a queue, sorted, and fails when any of them
// is still hidden: a replay must release what it does not move.
func (e *replayEnv) bodies(t *testing.T, queue string) []string {
	t.Helper()
	var got []string
	for _, m := range e.srv.Messages(queue) {
		if m.InFlight {
			t.Errorf("message %s in %s is still in flight", m.Body, queue)
		}
		got = append(got, m.Body)
	}
	slices.Sort(got)
	return got
}

func callBody(callID string) string {
	return `{"clientCallId":"` + callID + `","summary":"s"}`
}

func TestReplayMovesToSourceQueue(t *testing.T) {
	t.Parallel()
	e := newReplayEnv(t)
	trace := sqstest.MessageAttribute{DataType: "String", StringValue: "abc"}
	e.put(t, deadLettered{body: callBody("c-1"), reason: "NOT_FOUND",
		upstream: map[string]types.MessageAttributeValue{"trace": stringAttr("abc")}})
	e.put(t, deadLettered{body: callBody("c-2"), reason: "NOT_FOUND", replays: 2})

	report := e.replay(t, ReplayOptions{})

	if report.Moved != 2 || report.Failed != 0 || report.Skipped != 0 {
		t.Errorf("got report %+v, want 2 moved", report)
	}
	if got := e.bodies(t, e.dlq); len(got) != 0 {
		t.Errorf("dead-letter queue still holds %v", got)
	}
	want := map[string]map[string]sqstest.MessageAttribute{
		callBody("c-1"): {"trace": trace, AttrReplays: {DataType: "Number", StringValue: "1"}},
		callBody("c-2"): {AttrReplays: {DataType: "Number", StringValue: "3"}},
	}
	got := map[string]map[string]sqstest.MessageAttribute{}
	for _, m := range e.srv.Messages(e.source) {
		got[m.Body] = m.Attributes
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("source queue (-want +got):\n%s", diff)
	}
}

func TestReplayReportsEachMovedMessage(t *testing.T) {
	t.Parallel()
	e := newReplayEnv(t)
	id := e.put(t, deadLettered{body: callBody("c-1"), reason: "NOT_FOUND", age: time.Hour,
		replays: 1})

	var events []ReplayEvent
	ctx := context.Background()
	report, err := Replay(ctx, e.client, ReplayOptions{DLQURL: e.dlq},
		func(ev ReplayEvent) { events = append(events, ev) })
	if err != nil {
		t.Fatal(err)
	}

	if len(report.Messages) != 1 || !slices.Equal(events, report.Messages) {
		t.Fatalf("got messages %+v and events %+v, want the same one", report.Messages, events)
	}
	got := report.Messages[0]
	if age := time.Since(got.FailedAt); age < time.Hour-time.Minute || age > time.Hour+time.Minute {
		t.Errorf("got failed-at %v ago, want about an hour", age)
	}
	got.FailedAt = time.Time{}
	want := ReplayEvent{MessageID: id, CallID: "c-1", Reason: "NOT_FOUND", Detail: "why",
		Destination: e.source, Replays: 2, Outcome: ReplayMoved}
	if got != want {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestReplayTo(t *testing.T) {
	t.Parallel()
	e := newReplayEnv(t)
	e.put(t, deadLettered{body: callBody("c-1"), reason: "NOT_FOUND"})

	report := e.replay(t, ReplayOptions{To: e.other})

	if report.Moved != 1 {
		t.Errorf("got %d moved, want 1", report.Moved)
	}
	if got, want := e.bodies(t, e.other), []string{callBody("c-1")}; !slices.Equal(got, want) {
		t.Errorf("got %v in the --to queue, want %v", got, want)
	}
	if got := e.bodies(t, e.source); len(got) != 0 {
		t.Errorf("got %v in the source queue, want nothing", got)
	}
}

func TestReplayFilters(t *testing.T) {
	t.Parallel()
	old := deadLettered{body: callBody("c-old"), reason: "NOT_FOUND", age: 2 * time.Hour}
	recent := deadLettered{body: callBody("c-recent"), reason: "AMBIGUOUS_MATCH",
		age: 10 * time.Minute}
	garbled := deadLettered{body: "not json", reason: "INVALID_MESSAGE"}
	noSummary := deadLettered{body: `{"ClientCallId":"c-bare"}`, reason: "INVALID_MESSAGE"}
	all := []deadLettered{old, recent, garbled, noSummary}

	tests := []struct {
		name string
		opts ReplayOptions
		want []deadLettered // moved; the others stay in the DLQ
	}{
		{"reason", ReplayOptions{Reason: "NOT_FOUND"}, []deadLettered{old}},
		{"reason-of-none", ReplayOptions{Reason: "STRING_TOO_LONG"}, nil},
		{"call-id", ReplayOptions{CallID: "c-recent"}, []deadLettered{recent}},
		{"call-id-of-invalid-body", ReplayOptions{CallID: "c-bare"}, []deadLettered{noSummary}},
		{"call-id-never-matches-garbled-body", ReplayOptions{CallID: "not json"}, nil},
		{"older-than-hour", ReplayOptions{OlderThan: time.Hour}, []deadLettered{old}},
		{"older-than-minutes", ReplayOptions{OlderThan: 5 * time.Minute},
			[]deadLettered{old, recent}},
		{"reason-and-call-id", ReplayOptions{Reason: "INVALID_MESSAGE", CallID: "c-bare"},
			[]deadLettered{noSummary}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newReplayEnv(t)
			for _, d := range all {
				e.put(t, d)
			}

			report := e.replay(t, tt.opts)

			var moved, kept []string
			for _, d := range all {
				if slices.ContainsFunc(tt.want, func(w deadLettered) bool { return w.body == d.body }) {
					moved = append(moved, d.body)
				} else {
					kept = append(kept, d.body)
				}
			}
			slices.Sort(moved)
			slices.Sort(kept)
			if got := e.bodies(t, e.source); !slices.Equal(got, moved) {
				t.Errorf("moved %v, want %v", got, moved)
			}
			if got := e.bodies(t, e.dlq); !slices.Equal(got, kept) {
				t.Errorf("kept %v, want %v", got, kept)
			}
			if report.Moved != len(moved) || report.Skipped != len(kept) {
				t.Errorf("got %d moved and %d skipped, want %d and %d",
					report.Moved, report.Skipped, len(moved), len(kept))
			}
		})
	}
}

func TestReplayDryRunMovesNothing(t *testing.T) {
	t.Parallel()
	e := newReplayEnv(t)
	for _, id := range []string{"c-1", "c-2", "c-3"} {
		e.put(t, deadLettered{body: callBody(id), reason: "NOT_FOUND"})
	}
	e.put(t, deadLettered{body: callBody("c-4"), reason: "ENTITY_IS_DELETED"})

	report := e.replay(t, ReplayOptions{Reason: "NOT_FOUND", DryRun: true})

	if report.Moved != 3 || report.Skipped != 1 || len(report.Messages) != 3 {
		t.Errorf("got %+v, want 3 that would move and 1 skipped", report)
	}
	for _, m := range report.Messages {
		if m.Outcome != ReplayWouldMove || m.Destination != e.source {
			t.Errorf("got %+v, want would-move to the source queue", m)
		}
	}
	if got := e.bodies(t, e.dlq); len(got) != 4 {
		t.Errorf("dead-letter queue holds %d messages, want all 4", len(got))
	}
	if got := e.bodies(t, e.source); len(got) != 0 {
		t.Errorf("a dry run moved %v", got)
	}
	if n := e.srv.Calls()["SendMessage"]; n != 4 {
		t.Errorf("got %d SendMessage calls, want only the 4 that filled the DLQ", n)
	}
}

func TestReplayRefusedSendLosesNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		refuse func(e *replayEnv) ReplayOptions
	}{
		{"send-fails", func(e *replayEnv) ReplayOptions {
			// Three failures use up the SDK's three attempts for one message.
			e.srv.FailNext("SendMessage", 3)
			return ReplayOptions{}
		}},
		{"destination-missing", func(e *replayEnv) ReplayOptions {
			return ReplayOptions{To: e.srv.URL() + "/000000000000/no-such-queue"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newReplayEnv(t)
			e.put(t, deadLettered{body: callBody("c-1"), reason: "NOT_FOUND"})
			e.put(t, deadLettered{body: callBody("c-2"), reason: "NOT_FOUND"})

			report := e.replay(t, tt.refuse(e))

			moved := e.bodies(t, e.source)
			kept := e.bodies(t, e.dlq)
			if report.Failed == 0 || report.Failed+report.Moved != 2 {
				t.Errorf("got %+v, want failures and every message counted once", report)
			}
			if len(kept) != report.Failed || len(moved) != report.Moved {
				t.Errorf("got %d kept and %d moved, want %d and %d",
					len(kept), len(moved), report.Failed, report.Moved)
			}
			for _, m := range report.Messages {
				if m.Outcome == ReplayFailed && m.Error == "" {
					t.Errorf("failed message %s has no error", m.MessageID)
				}
			}
		})
	}
}

func TestReplayFailedDeleteKeepsBothCopies(t *testing.T) {
	t.Parallel()
	e := newReplayEnv(t)
	e.put(t, deadLettered{body: callBody("c-1"), reason: "NOT_FOUND"})
	e.srv.FailNext("DeleteMessage", 3)

	report := e.replay(t, ReplayOptions{})

	if report.Failed != 1 {
		t.Errorf("got %+v, want the failed delete counted", report)
	}
	if got := len(e.srv.Messages(e.dlq)); got != 1 {
		t.Errorf("got %d messages in the DLQ, want the original still there", got)
	}
	if got := len(e.srv.Messages(e.source)); got != 1 {
		t.Errorf("got %d messages in the source, want the copy", got)
	}
}

func TestReplayMax(t *testing.T) {
	t.Parallel()
	e := newReplayEnv(t)
	for _, id := range []string{"c-1", "c-2", "c-3", "c-4", "c-5"} {
		e.put(t, deadLettered{body: callBody(id), reason: "NOT_FOUND"})
	}

	report := e.replay(t, ReplayOptions{Max: 2})

	if report.Moved != 2 {
		t.Errorf("got %d moved, want 2", report.Moved)
	}
	if got := e.bodies(t, e.source); len(got) != 2 {
		t.Errorf("got %d in the source queue, want 2", len(got))
	}
	if got := e.bodies(t, e.dlq); len(got) != 3 {
		t.Errorf("got %d left in the DLQ, want 3, all visible", len(got))
	}
}

// TestReplayMaxBoundsFailuresToo: a destination refusing every copy does
// not make a run bounded by Max try the whole queue.
func TestReplayMaxBoundsFailuresToo(t *testing.T) {
	t.Parallel()
	e := newReplayEnv(t)
	for _, id := range []string{"c-1", "c-2", "c-3", "c-4", "c-5"} {
		e.put(t, deadLettered{body: callBody(id), reason: "NOT_FOUND"})
	}

	report := e.replay(t, ReplayOptions{Max: 2, To: e.srv.URL() + "/000000000000/no-such-queue"})

	if report.Failed != 2 || report.Moved != 0 {
		t.Errorf("got %+v, want two failed tries and no more", report)
	}
	if got := e.bodies(t, e.dlq); len(got) != 5 {
		t.Errorf("got %d left in the DLQ, want all 5", len(got))
	}
}

// Released messages come back at once; each counts once, and a matching
// message behind more than one receive of others is still reached.
func TestReplayCountsEachMessageOnce(t *testing.T) {
	t.Parallel()
	e := newReplayEnv(t)
	for i := range 12 {
		e.put(t, deadLettered{body: callBody(fmt.Sprintf("c-%d", i)), reason: "NOT_FOUND"})
	}
	e.put(t, deadLettered{body: callBody("c-last"), reason: "AMBIGUOUS_MATCH"})

	report := e.replay(t, ReplayOptions{Reason: "AMBIGUOUS_MATCH"})

	if report.Moved != 1 || report.Skipped != 12 {
		t.Errorf("got %d moved and %d skipped, want 1 and 12", report.Moved, report.Skipped)
	}
	if got := e.bodies(t, e.dlq); len(got) != 12 {
		t.Errorf("got %d left in the DLQ, want 12", len(got))
	}
}

func TestReplayWithoutSource(t *testing.T) {
	t.Parallel()
	e := newReplayEnv(t)
	_, err := e.client.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl: aws.String(e.dlq), MessageBody: aws.String(callBody("c-1"))})
	if err != nil {
		t.Fatal(err)
	}

	report := e.replay(t, ReplayOptions{})

	if report.NoDestination != 1 || report.Moved != 0 || len(report.Messages) != 1 {
		t.Errorf("got %+v, want one message without destination", report)
	}
	if got := e.bodies(t, e.dlq); len(got) != 1 {
		t.Errorf("got %d in the DLQ, want the message kept", len(got))
	}
}

// A message SQS itself moved by a redrive policy has none of our attributes:
// it goes back to the queue its DeadLetterQueueSourceArn names, and its age
// counts from when SQS took it in.
func TestReplayRedrivenMessage(t *testing.T) {
	t.Parallel()
	e := newReplayEnv(t)
	ctx := context.Background()
	policy := `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:summaries-dlq",` +
		`"maxReceiveCount":"1"}`
	redriving, err := e.srv.CreateQueue("redriving", map[string]string{"RedrivePolicy": policy})
	if err != nil {
		t.Fatal(err)
	}
	body := callBody("c-1")
	e.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &redriving, MessageBody: &body})
	for range 2 {
		out, err := e.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &redriving})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			e.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
				QueueUrl: &redriving, ReceiptHandle: m.ReceiptHandle})
		}
	}
	if n := len(e.srv.Messages(e.dlq)); n != 1 {
		t.Fatalf("setup: got %d messages in the DLQ, want the redriven one", n)
	}

	later := func() time.Time { return time.Now().Add(2 * time.Hour) }
	report := e.replay(t, ReplayOptions{OlderThan: time.Hour, Now: later})

	if report.Moved != 1 {
		t.Fatalf("got %+v, want the message moved", report)
	}
	if got := e.bodies(t, redriving); !slices.Equal(got, []string{body}) {
		t.Errorf("got %v in the redriving queue, want the message back", got)
	}
}

func TestReplayEndsWhenContextEnds(t *testing.T) {
	t.Parallel()
	e := newReplayEnv(t)
	e.put(t, deadLettered{body: callBody("c-1"), reason: "NOT_FOUND"})
	ctx, cancel := context.WithCancel(context.Background())

	report, err := Replay(ctx, e.client, ReplayOptions{DLQURL: e.dlq, WaitTime: 20 * time.Second},
		func(ReplayEvent) { cancel() })

	if !errors.Is(err, context.Canceled) {
		t.Errorf("got error %v, want context.Canceled", err)
	}
	if report.Moved != 1 {
		t.Errorf("got %+v, want the message handled before the cancel moved", report)
	}
}

func TestReplayAttributes(t *testing.T) {
	in := map[string]types.MessageAttributeValue{
		AttrReason:      stringAttr("NOT_FOUND"),
		AttrDetail:      stringAttr("no record"),
		AttrFailedAt:    stringAttr("2026-01-02T03:04:05Z"),
		AttrAttempts:    numberAttr(5),
		AttrSourceQueue: stringAttr("https://sqs/q"),
		AttrReplays:     numberAttr(4),
		"connector.new": stringAttr("x"),
		"tenant":        stringAttr("acme"),
		"payload":       {DataType: aws.String("Binary"), BinaryValue: []byte{1, 2}},
	}

	got := replayAttributes(in, 5)

	want := map[string]types.MessageAttributeValue{
		AttrReplays: numberAttr(5),
		"tenant":    stringAttr("acme"),
		"payload":   {DataType: aws.String("Binary"), BinaryValue: []byte{1, 2}},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(types.MessageAttributeValue{})); diff != "" {
		t.Errorf("attributes (-want +got):\n%s", diff)
	}
}

func TestPreviousReplays(t *testing.T) {
	tests := []struct {
		name  string
		attrs map[string]types.MessageAttributeValue
		want  int
	}{
		{"absent", nil, 0},
		{"counted", map[string]types.MessageAttributeValue{AttrReplays: numberAttr(3)}, 3},
		{"not-a-number", map[string]types.MessageAttributeValue{AttrReplays: stringAttr("x")}, 0},
		{"negative", map[string]types.MessageAttributeValue{AttrReplays: numberAttr(-2)}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := previousReplays(tt.attrs); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestReplayCallID(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{"plain", callBody("c-1"), "c-1"},
		{"any-case-no-summary", `{"CLIENTCALLID":"c-2"}`, "c-2"},
		{"numeric", `{"clientCallId":12345678901234567890}`, "12345678901234567890"},
		{"sns-envelope", `{"Type":"Notification","Message":"{\"clientCallId\":\"c-3\"}"}`, "c-3"},
		{"not-json", "not json", ""},
		{"no-call-id", `{"summary":"s"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := replayCallID(tt.body); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReplayRefusesTheDLQAsDestination(t *testing.T) {
	_, err := Replay(context.Background(), nil, ReplayOptions{
		DLQURL: "http://127.0.0.1:1/000000000000/dlq", To: "http://127.0.0.1:1/000000000000/dlq"}, nil)
	if err == nil || !strings.Contains(err.Error(), "dead-letter queue itself") {
		t.Errorf("got %v, want a refusal", err)
	}
}
