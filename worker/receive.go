package worker

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/rs/zerolog"
)

// receiveLoop long-polls the queue while the pool is not paused and has
// free handler slots, and hands each message to a handler goroutine. It
// polls no more once ctx ends, but the receive in flight then runs on
// receiveCtx and handlers on handlerCtx, which only the drain deadline
// cancels.
func (p *Pool) receiveLoop(ctx, receiveCtx, handlerCtx context.Context, n int) {
	log := p.log.With().Int("receiver", n).Logger()
	failures := 0
	for ctx.Err() == nil {
		if p.gate.wait(ctx) != nil {
			return
		}
		free := p.acquire(ctx)
		if free == 0 || ctx.Err() != nil {
			p.releaseSlots(free)
			return
		}
		msgs, err := p.receive(receiveCtx, log, free)
		receivedAt := time.Now()
		p.releaseSlots(free - len(msgs))
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			p.receiveFailed(ctx, log, failures, err)
			continue
		}
		if failures > 0 {
			log.Info().Int("failures", failures).Msg("receive recovered")
			failures = 0
			p.receiveFailing.Store(false)
		}
		for _, m := range msgs {
			p.dispatch(ctx, handlerCtx, m, receivedAt)
		}
	}
}

// receiveFailed marks the pool not ready, logs the failure and waits
// before the next receive.
func (p *Pool) receiveFailed(ctx context.Context, log zerolog.Logger, failures int, err error) {
	p.receiveFailing.Store(true)
	delay := receiveBackoff(failures)
	// The delay grows to 30 s, so this logs at most twice a minute.
	log.Error().Err(err).Int("failures", failures).Dur("retry_in", delay).
		Msg("receive failed; not ready until a receive succeeds")
	sleep(ctx, delay)
}

// acquire takes at least one free handler slot, waiting for it, and then as
// many more as are free, up to MaxMessages. It returns 0 when ctx ends.
func (p *Pool) acquire(ctx context.Context) int {
	select {
	case <-p.slots:
	case <-ctx.Done():
		return 0
	}
	n := 1
	for n < p.cfg.MaxMessages {
		select {
		case <-p.slots:
			n++
		default:
			return n
		}
	}
	return n
}

func (p *Pool) releaseSlots(n int) {
	for range n {
		p.slots <- struct{}{}
	}
}

// receive asks the queue for up to max messages. It logs the attempts the
// SDK retried after the queue may have handed out messages, since those
// messages stay hidden until their visibility timeout. It runs on
// receiveCtx, which shutdown does not end before the drain deadline: a long
// poll cut short can still take messages sent a moment later, and hide
// them for their visibility timeout, so it is waited out instead.
func (p *Pool) receive(receiveCtx context.Context, log zerolog.Logger, max int) (
	[]types.Message, error) {
	in := &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(p.cfg.QueueURL),
		MaxNumberOfMessages:         int32(max),
		WaitTimeSeconds:             int32(p.cfg.WaitTime / time.Second),
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{"All"},
	}
	if p.askVisibility {
		in.VisibilityTimeout = int32(p.visibility / time.Second)
	}
	out, err := p.queue.ReceiveMessage(receiveCtx, in, ownRequestBody)
	if err != nil {
		return nil, err
	}
	logLostAnswers(log, out.ResultMetadata, max)
	return out.Messages, nil
}

// logLostAnswers logs each failed attempt of a successful receive after
// which the queue may have handed out messages: one it answered (2xx), or
// one that broke before any answer came. Those messages never reached the
// worker and come back only after their visibility timeout.
func logLostAnswers(log zerolog.Logger, md middleware.Metadata, max int) {
	attempts, ok := retry.GetAttemptResults(md)
	if !ok {
		return
	}
	for i, a := range attempts.Results {
		status, lost := lostAnswer(a.Err)
		if !lost {
			continue
		}
		log.Warn().Err(a.Err).Int("attempt", i+1).Int("status", status).
			Int("max_messages", max).
			Msg("receive attempt retried after the queue may have answered; " +
				"its messages stay hidden until their visibility timeout")
	}
}

// lostAnswer reports whether a failed receive attempt may have taken
// messages from the queue, and the HTTP status it got, 0 for none.
func lostAnswer(err error) (status int, lost bool) {
	if err == nil {
		return 0, false
	}
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.Response == nil || re.Response.Response == nil {
		return 0, true
	}
	status = re.Response.StatusCode
	return status, status == 0 || status/100 == 2
}

// dispatch starts a handler for m in the slot acquired for it. A message
// received after shutdown began is released back to the queue unhandled.
func (p *Pool) dispatch(ctx, handlerCtx context.Context, m types.Message, receivedAt time.Time) {
	p.handlers.Add(1)
	p.inFlight.Add(1)
	go func() {
		defer p.handlers.Done()
		defer p.inFlight.Add(-1)
		defer p.releaseSlots(1)
		if ctx.Err() != nil {
			p.release(m)
			return
		}
		p.handle(handlerCtx, m, receivedAt)
	}()
}

// receiveBackoff grows from 1 s to 30 s with consecutive receive failures.
func receiveBackoff(failures int) time.Duration {
	d := time.Second << min(failures-1, 5)
	return min(d, 30*time.Second)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
