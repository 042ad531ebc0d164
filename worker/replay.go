package worker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// ReplayQueue is the part of the SQS API that Replay uses; *sqs.Client
// satisfies it.
type ReplayQueue interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput,
		opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	SendMessage(ctx context.Context, in *sqs.SendMessageInput,
		opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput,
		opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput,
		opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
	GetQueueUrl(ctx context.Context, in *sqs.GetQueueUrlInput,
		opts ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
}

// ReplayOptions says which dead-lettered messages Replay moves and where.
// Empty filters match every message.
type ReplayOptions struct {
	DLQURL string // the dead-letter queue to replay; required

	// To is the destination of every copy. Empty sends each message back to
	// the queue named by its connector.source-queue attribute or, for a
	// message that SQS moved by a redrive policy, by its
	// DeadLetterQueueSourceArn.
	To string

	Reason    string        // exact connector.reason
	CallID    string        // exact clientCallId of the body
	OlderThan time.Duration // dead-lettered at least this long ago

	Max    int  // try to move at most this many (moved or failed); 0 for no bound
	DryRun bool // move nothing; report what would move

	WaitTime time.Duration    // long-poll wait of each receive, rounded up to seconds; default 1 s
	Now      func() time.Time // the clock OlderThan counts from; default time.Now
}

// ReplayOutcome is what Replay did with one dead-lettered message.
type ReplayOutcome string

// The outcomes of a replayed message.
const (
	// ReplayMoved: the destination accepted the copy and the original was
	// deleted from the dead-letter queue.
	ReplayMoved ReplayOutcome = "moved"
	// ReplayWouldMove: a dry run found the message matching.
	ReplayWouldMove ReplayOutcome = "would-move"
	// ReplaySkipped: the message does not match the filters; released.
	ReplaySkipped ReplayOutcome = "skipped"
	// ReplayNoDestination: no To and the message names no source queue;
	// released.
	ReplayNoDestination ReplayOutcome = "no-destination"
	// ReplayFailed: sending or deleting failed; see Error. A message whose
	// copy was refused stays in the dead-letter queue.
	ReplayFailed ReplayOutcome = "failed"
)

// ReplayEvent describes one dead-lettered message and what Replay did
// with it.
type ReplayEvent struct {
	MessageID   string        `json:"messageId"`
	CallID      string        `json:"callId,omitempty"` // empty when the body does not parse
	Reason      string        `json:"reason,omitempty"`
	Detail      string        `json:"detail,omitempty"` // connector.detail: why it was dead-lettered
	FailedAt    time.Time     `json:"failedAt"`
	Destination string        `json:"destination,omitempty"`
	Replays     int           `json:"replays"` // the copy's connector.replays
	Outcome     ReplayOutcome `json:"outcome"`
	Error       string        `json:"error,omitempty"`
}

// ReplayReport counts what a Replay run did. In a dry run Moved counts the
// messages that would move. Messages lists every message that matched the
// filters, in the order handled; skipped ones are only counted.
type ReplayReport struct {
	Moved         int
	Skipped       int
	NoDestination int
	Failed        int
	Messages      []ReplayEvent
}

// Check refuses options no replay can run with: no dead-letter queue, or
// the dead-letter queue itself as destination (the copies would lose
// their reason). Replay checks them first; a caller may check earlier.
func (o ReplayOptions) Check() error {
	switch {
	case o.DLQURL == "":
		return errors.New("replay: no dead-letter queue URL")
	case o.To != "" && strings.TrimRight(o.To, "/") == strings.TrimRight(o.DLQURL, "/"):
		return errors.New("replay: the destination is the dead-letter queue itself; " +
			"the copies would lose their reason")
	}
	return nil
}

// Replay moves dead-lettered messages that match opts back to their source
// queue, or to opts.To. Each copy keeps the body and the upstream
// attributes; of ours it keeps only connector.replays, one higher. The
// original is deleted from the dead-letter queue only after the destination
// accepted its copy; a message that is not moved is released at once, so it
// stays in the dead-letter queue.
//
// Replay stops when a receive finds no message it has not already handled,
// when opts.Max messages have moved, or when ctx ends (then with ctx's
// error). It returns an error only when receiving fails; failed sends and
// deletes are counted in the report. progress, when not nil, is called
// once per message handled, from the calling goroutine.
func Replay(ctx context.Context, q ReplayQueue, opts ReplayOptions,
	progress func(ReplayEvent)) (ReplayReport, error) {
	if err := opts.Check(); err != nil {
		return ReplayReport{}, err
	}
	opts.Reason = strings.ToUpper(strings.TrimSpace(opts.Reason))
	r := &replayer{queue: q, opts: opts, progress: progress,
		seen: map[string]bool{}, sources: map[string]string{}}
	if r.opts.WaitTime <= 0 {
		r.opts.WaitTime = time.Second
	}
	if r.opts.Now == nil {
		r.opts.Now = time.Now
	}
	err := r.run(ctx)
	return r.report, err
}

// replayVisibility hides a received message while it is being moved. A
// replay that dies holding one lets it reappear this soon.
const replayVisibility = 60 * time.Second

// replayer is the state of one Replay run.
type replayer struct {
	queue    ReplayQueue
	opts     ReplayOptions
	progress func(ReplayEvent)
	report   ReplayReport
	seen     map[string]bool   // message ids handled in this run
	sources  map[string]string // source queue URL by ARN
}

func (r *replayer) run(ctx context.Context) error {
	for !r.full() {
		msgs, err := r.receive(ctx)
		if err != nil {
			return err
		}
		if !r.anyUnseen(msgs) {
			r.releaseAll(ctx, msgs)
			return nil
		}
		for i, m := range msgs {
			if ctx.Err() != nil || r.full() {
				r.releaseAll(ctx, msgs[i:])
				break
			}
			r.handle(ctx, m)
		}
	}
	return ctx.Err()
}

// full reports whether Max messages have been tried: moved, or failed to
// move, so that a destination refusing every copy does not make a bounded
// run try the whole queue.
func (r *replayer) full() bool {
	return r.opts.Max > 0 && r.report.Moved+r.report.Failed >= r.opts.Max
}

func (r *replayer) receive(ctx context.Context) ([]types.Message, error) {
	out, err := r.queue.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(r.opts.DLQURL),
		MaxNumberOfMessages:         10,
		WaitTimeSeconds:             int32(min((r.opts.WaitTime+time.Second-1)/time.Second, 20)),
		VisibilityTimeout:           int32(replayVisibility / time.Second),
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{"All"},
	}, ownRequestBody)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("replay: receive from dead-letter queue: %w", err)
	}
	return out.Messages, nil
}

// anyUnseen reports whether msgs hold a message not handled yet in this
// run. Released messages come back at once, so a receive returning only
// those means every message there is has been handled.
func (r *replayer) anyUnseen(msgs []types.Message) bool {
	for _, m := range msgs {
		if !r.seen[aws.ToString(m.MessageId)] {
			return true
		}
	}
	return false
}

// handle decides on one received message and carries out the decision.
func (r *replayer) handle(ctx context.Context, m types.Message) {
	id := aws.ToString(m.MessageId)
	if r.seen[id] {
		r.release(ctx, m)
		return
	}
	r.seen[id] = true

	ev := r.describe(m)
	if r.matches(ev) {
		r.route(ctx, m, &ev)
	} else {
		ev.Outcome = ReplaySkipped
		r.release(ctx, m)
	}
	r.record(ev)
}

// route sends a matching message to its destination, or only says where it
// would go in a dry run.
func (r *replayer) route(ctx context.Context, m types.Message, ev *ReplayEvent) {
	dest, err := r.destination(ctx, m)
	switch {
	case err != nil:
		ev.Outcome, ev.Error = ReplayFailed, err.Error()
		r.release(ctx, m)
		return
	case dest == "":
		ev.Outcome = ReplayNoDestination
		r.release(ctx, m)
		return
	}
	ev.Destination = dest
	if r.opts.DryRun {
		ev.Outcome = ReplayWouldMove
		r.release(ctx, m)
		return
	}
	ev.Outcome = ReplayMoved
	if err := r.move(ctx, m, dest, ev.Replays); err != nil {
		ev.Outcome, ev.Error = ReplayFailed, err.Error()
	}
}

// move sends the copy, then deletes the original. A refused copy releases
// the original; a failed delete leaves the message in both queues.
func (r *replayer) move(ctx context.Context, m types.Message, dest string, replays int) error {
	_, err := r.queue.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:          aws.String(dest),
		MessageBody:       m.Body,
		MessageAttributes: replayAttributes(m.MessageAttributes, replays),
	}, ownRequestBody)
	if err != nil {
		r.release(ctx, m)
		return fmt.Errorf("send to %s: %w", dest, err)
	}

	// The copy is out; delete the original even when ctx ends meanwhile.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_, err = r.queue.DeleteMessage(ctx, &sqs.DeleteMessageInput{
		QueueUrl:      aws.String(r.opts.DLQURL),
		ReceiptHandle: m.ReceiptHandle,
	}, ownRequestBody)
	if err != nil {
		return fmt.Errorf("copy sent to %s, but delete from dead-letter queue failed, "+
			"so the message is in both: %w", dest, err)
	}
	return nil
}

func (r *replayer) record(ev ReplayEvent) {
	switch ev.Outcome {
	case ReplayMoved, ReplayWouldMove:
		r.report.Moved++
	case ReplaySkipped:
		r.report.Skipped++
	case ReplayNoDestination:
		r.report.NoDestination++
	case ReplayFailed:
		r.report.Failed++
	}
	if ev.Outcome != ReplaySkipped {
		r.report.Messages = append(r.report.Messages, ev)
	}
	if r.progress != nil {
		r.progress(ev)
	}
}

// describe reads what the filters and the report need from a message.
func (r *replayer) describe(m types.Message) ReplayEvent {
	return ReplayEvent{
		MessageID: aws.ToString(m.MessageId),
		CallID:    replayCallID(aws.ToString(m.Body)),
		Reason:    stringAttribute(m.MessageAttributes, AttrReason),
		Detail:    stringAttribute(m.MessageAttributes, AttrDetail),
		FailedAt:  failedAt(m),
		Replays:   previousReplays(m.MessageAttributes) + 1,
	}
}

func (r *replayer) matches(ev ReplayEvent) bool {
	o := r.opts
	switch {
	case o.Reason != "" && ev.Reason != o.Reason:
		return false
	case o.CallID != "" && ev.CallID != o.CallID:
		return false
	case o.OlderThan > 0 && (ev.FailedAt.IsZero() || o.Now().Sub(ev.FailedAt) < o.OlderThan):
		return false
	}
	return true
}

// destination is where m's copy goes: To, the connector.source-queue
// attribute, or the queue SQS's redrive policy moved it from. It returns ""
// when the message names no source.
func (r *replayer) destination(ctx context.Context, m types.Message) (string, error) {
	if r.opts.To != "" {
		return r.opts.To, nil
	}
	if u := stringAttribute(m.MessageAttributes, AttrSourceQueue); u != "" && u != "-" {
		return u, nil
	}
	arn := m.Attributes[string(types.MessageSystemAttributeNameDeadLetterQueueSourceArn)]
	if arn == "" {
		return "", nil
	}
	return r.queueURLOf(ctx, arn)
}

// queueURLOf resolves a queue ARN to its URL, once per ARN in a run.
func (r *replayer) queueURLOf(ctx context.Context, arn string) (string, error) {
	if u, ok := r.sources[arn]; ok {
		return u, nil
	}
	// arn:aws:sqs:{region}:{account}:{name}
	parts := strings.Split(arn, ":")
	if len(parts) != 6 || parts[2] != "sqs" {
		return "", fmt.Errorf("source queue ARN %q is not an SQS queue ARN", arn)
	}
	out, err := r.queue.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{
		QueueName:              aws.String(parts[5]),
		QueueOwnerAWSAccountId: aws.String(parts[4]),
	}, ownRequestBody)
	if err != nil {
		return "", fmt.Errorf("find source queue %s: %w", arn, err)
	}
	r.sources[arn] = aws.ToString(out.QueueUrl)
	return r.sources[arn], nil
}

// release makes a received message visible again at once. When that fails
// the message reappears after replayVisibility, which is also safe.
func (r *replayer) release(ctx context.Context, m types.Message) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	r.queue.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl:          aws.String(r.opts.DLQURL),
		ReceiptHandle:     m.ReceiptHandle,
		VisibilityTimeout: 0,
	}, ownRequestBody)
}

func (r *replayer) releaseAll(ctx context.Context, msgs []types.Message) {
	for _, m := range msgs {
		r.release(ctx, m)
	}
}

// replayAttributes are the copy's attributes: upstream's unchanged, none of
// ours but connector.replays, set to replays.
func replayAttributes(in map[string]types.MessageAttributeValue,
	replays int) map[string]types.MessageAttributeValue {
	out := map[string]types.MessageAttributeValue{AttrReplays: numberAttr(replays)}
	for name, v := range in {
		if !strings.HasPrefix(name, attrPrefix) {
			out[name] = v
		}
	}
	return out
}

func stringAttribute(attrs map[string]types.MessageAttributeValue, name string) string {
	return aws.ToString(attrs[name].StringValue)
}

// previousReplays is the connector.replays counter, 0 when absent or not a
// number.
func previousReplays(attrs map[string]types.MessageAttributeValue) int {
	n, err := strconv.Atoi(stringAttribute(attrs, AttrReplays))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// failedAt is when the message was dead-lettered: connector.failed-at, or
// else when SQS took it in. It is zero when neither is known.
func failedAt(m types.Message) time.Time {
	s := stringAttribute(m.MessageAttributes, AttrFailedAt)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t
	}
	sent := m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)]
	ms, err := strconv.ParseInt(sent, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// replayCallID reads the clientCallId of a body, even one that the worker
// found invalid for another reason. It returns "" when there is none.
func replayCallID(body string) string {
	fields, err := decodeObject([]byte(body))
	if err != nil {
		return ""
	}
	if inner, ok, err := snsMessage(fields); err == nil && ok {
		if fields, err = decodeObject([]byte(inner)); err != nil {
			return ""
		}
	}
	id, err := callIDField(fields)
	if err != nil {
		return ""
	}
	return id
}
