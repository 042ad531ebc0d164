package worker

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/cenkalti/backoff/v4"
	"github.com/rs/zerolog"

	"github.com/callsummary/connector/salesforce"
)

// Outcome is what became of one received message.
type Outcome string

// The outcomes of DESIGN.md; every received message ends in exactly one.
const (
	Applied        Outcome = "applied"
	AlreadyApplied Outcome = "already-applied"
	Retry          Outcome = "retry"
	DeadLetter     Outcome = "dead-letter"
	Pause          Outcome = "pause"
)

// Reasons the worker assigns beyond those of the salesforce package.
const (
	ReasonShutdown      = "SHUTDOWN"
	ReasonPaused        = "PAUSED"
	ReasonDLQSendFailed = "DLQ_SEND_FAILED"
	ReasonUsageCeiling  = "API_USAGE_CEILING"
	ReasonUnavailable   = "SALESFORCE_UNAVAILABLE"

	// ReasonMaxProcessingTime is a retry of a message that was worked on
	// for MaxProcessingTime: its handling is cancelled and the queue
	// redelivers it after the next retry step.
	ReasonMaxProcessingTime = "MAX_PROCESSING_TIME"
)

var errPaused = errors.New("pool paused")

// decision is the outcome chosen for a message, with what the queue action
// and the log line need.
type decision struct {
	outcome    Outcome
	reason     string
	detail     string
	callID     string
	recordID   string
	truncated  bool          // the too-long policy cut the summary or dropped older blocks
	visibility time.Duration // for retry: when SQS should redeliver it
}

// handle decides the outcome of one message, acts on the queue and records
// it. The heartbeat keeps the message invisible while the decision is
// made, which may take until MaxProcessingTime from its receive.
func (p *Pool) handle(ctx context.Context, m types.Message, receivedAt time.Time) {
	start := time.Now()
	l := p.beat.track(m, receivedAt)
	ctx, cancel := context.WithDeadlineCause(ctx, receivedAt.Add(p.cfg.MaxProcessingTime),
		errProcessingTime)
	d := p.decide(ctx, m)
	cancel()
	p.beat.untrack(l)

	d = p.act(m, d)
	p.record(m, d, time.Since(start))
}

func (p *Pool) decide(ctx context.Context, m types.Message) decision {
	body := aws.ToString(m.Body)
	if len(body) > p.cfg.MaxBodyBytes {
		return invalidDecision(invalid("body has %d bytes, more than %d", len(body),
			p.cfg.MaxBodyBytes))
	}
	s, err := ParseMessage([]byte(body))
	if err != nil {
		d := invalidDecision(err)
		d.callID = replayCallID(body) // for the log line, when it can be read at all
		return d
	}
	res, err := p.apply(ctx, s)
	if err != nil {
		d := p.failure(ctx, m, err)
		d.callID = s.CallID
		return d
	}
	p.noteSuccess()
	p.checkUsage()
	d := decision{outcome: Applied, callID: s.CallID, recordID: res.RecordID,
		truncated: res.Truncated}
	if res.AlreadyApplied {
		d.outcome = AlreadyApplied
	}
	return d
}

func invalidDecision(err error) decision {
	var inv *InvalidMessageError
	detail := err.Error()
	if errors.As(err, &inv) {
		detail = inv.Problem
	}
	return decision{outcome: DeadLetter, reason: salesforce.ReasonInvalidMessage, detail: detail}
}

// apply calls Salesforce, retrying transient failures with exponential
// backoff inside the process until RetryMaxElapsed is spent. It gives up at
// once when the pool is paused, so a paused pool stops spending API calls.
func (p *Pool) apply(ctx context.Context, s salesforce.Summary) (salesforce.Result, error) {
	var res salesforce.Result
	op := func() error {
		if p.gate.isPaused() {
			return backoff.Permanent(errPaused)
		}
		r, err := p.sf.Apply(ctx, s)
		if err != nil && salesforce.ClassOf(err) != salesforce.Transient {
			return backoff.Permanent(err)
		}
		res = r
		return err
	}
	b := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(p.cfg.RetryInitial),
		backoff.WithMaxInterval(5*time.Second),
		backoff.WithMaxElapsedTime(p.cfg.RetryMaxElapsed),
	)
	err := backoff.Retry(op, backoff.WithContext(b, ctx))
	return res, err
}

// failure turns an error from apply into a decision.
func (p *Pool) failure(ctx context.Context, m types.Message, err error) decision {
	detail := err.Error()
	switch {
	case errors.Is(err, errPaused):
		return decision{outcome: Pause, reason: ReasonPaused, detail: detail}
	case errors.Is(context.Cause(ctx), errProcessingTime):
		return decision{outcome: Retry, reason: ReasonMaxProcessingTime,
			detail:     "worked on for " + p.cfg.MaxProcessingTime.String() + ": " + detail,
			visibility: retryDelay(receiveCount(m))}
	case ctx.Err() != nil:
		// Shutdown cancelled it: visibility 0 gives it back at once.
		return decision{outcome: Retry, reason: ReasonShutdown, detail: detail}
	}

	switch salesforce.ClassOf(err) {
	case salesforce.Systemic:
		reason := salesforce.Reason(err)
		p.pause(reason, err)
		return decision{outcome: Pause, reason: reason, detail: detail}
	case salesforce.Permanent:
		return p.permanent(m, err)
	}
	p.noteTransient(err)
	return decision{outcome: Retry, reason: retryReason(err), detail: detail,
		visibility: retryDelay(receiveCount(m))}
}

// permanent dead-letters, except that a record not found yet is retried
// until the grace window measured from the message's first send has passed.
func (p *Pool) permanent(m types.Message, err error) decision {
	d := decision{outcome: DeadLetter, reason: salesforce.Reason(err), detail: err.Error()}
	var nf *salesforce.NotFoundError
	if !errors.As(err, &nf) {
		return d
	}
	left := p.cfg.NotFoundGrace - p.cfg.Now().Sub(sentAt(m, p.cfg.Now()))
	if left <= 0 {
		d.detail += " (grace " + p.cfg.NotFoundGrace.String() + " passed)"
		return d
	}
	d.outcome = Retry
	d.visibility = min(notFoundDelay(p.cfg.NotFoundGrace, receiveCount(m)),
		left.Round(time.Second)+time.Second)
	return d
}

// notFoundDelay spreads the grace window over four receives (an eighth, a
// quarter, a half, then the rest), so the message is dead-lettered on its
// fifth receive and a redrive policy with maxReceiveCount 5 never takes it
// first.
func notFoundDelay(grace time.Duration, receives int) time.Duration {
	d := grace / 8 << min(max(receives-1, 0), 3)
	return max(d, time.Second)
}

func retryReason(err error) string {
	var apiErr *salesforce.APIError
	if errors.As(err, &apiErr) {
		return salesforce.Reason(err)
	}
	return "TRANSIENT"
}

// retryDelay is the visibility given to a message whose in-process retries
// are spent: 30 s doubling with each receive up to 15 min, with ±20 % jitter
// so a burst of failures does not come back as one burst.
func retryDelay(receives int) time.Duration {
	d := 30 * time.Second << min(max(receives-1, 0), 5)
	d = min(d, 15*time.Minute)
	jitter := 0.8 + 0.4*rand.Float64()
	return time.Duration(float64(d) * jitter).Round(time.Second)
}

func receiveCount(m types.Message) int {
	n, _ := strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
	return n
}

// sentAt is when the message was first sent, falling back to its first
// receive and then to now.
func sentAt(m types.Message, now time.Time) time.Time {
	for _, name := range []types.MessageSystemAttributeName{
		types.MessageSystemAttributeNameSentTimestamp,
		types.MessageSystemAttributeNameApproximateFirstReceiveTimestamp,
	} {
		if ms, err := strconv.ParseInt(m.Attributes[string(name)], 10, 64); err == nil {
			return time.UnixMilli(ms)
		}
	}
	return now
}

// act carries out the queue action of a decision. A dead-letter send that
// fails turns the decision into a retry: the message stays in the source.
func (p *Pool) act(m types.Message, d decision) decision {
	switch d.outcome {
	case Applied, AlreadyApplied:
		p.acks.delete(m)
	case DeadLetter:
		if err := p.deadLetter(m, d); err != nil {
			d = decision{outcome: Retry, reason: ReasonDLQSendFailed, detail: err.Error(),
				callID: d.callID, visibility: retryDelay(receiveCount(m))}
			p.setVisibility(m, d.visibility)
		}
	case Retry:
		p.setVisibility(m, d.visibility)
	}
	return d
}

// record counts the outcome and writes its one log line.
func (p *Pool) record(m types.Message, d decision, took time.Duration) {
	p.stats.add(d)
	if p.cfg.Observer != nil {
		p.cfg.Observer.Outcome(d.outcome, d.reason, took)
	}
	ev := p.log.WithLevel(outcomeLevel(d.outcome)).
		Str("message_id", aws.ToString(m.MessageId)).
		Str("call_id", d.callID).
		Str("outcome", string(d.outcome)).
		Int("attempt", receiveCount(m)).
		Dur("duration", took)
	if d.reason != "" {
		ev = ev.Str("reason", d.reason).Str("detail", d.detail)
	}
	if d.recordID != "" {
		ev = ev.Str("record_id", d.recordID)
	}
	if d.truncated {
		ev = ev.Bool("truncated", true)
	}
	if d.visibility > 0 {
		ev = ev.Dur("retry_in", d.visibility)
	}
	ev.Msg("message handled")
}

func outcomeLevel(o Outcome) zerolog.Level {
	switch o {
	case Applied, AlreadyApplied:
		return zerolog.InfoLevel
	case DeadLetter, Pause:
		return zerolog.ErrorLevel
	}
	return zerolog.WarnLevel
}
