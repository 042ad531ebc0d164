package worker

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// receiveLoop long-polls the queue while the pool is not paused and has
// free handler slots, and hands each message to a handler goroutine.
// Handlers run on handlerCtx, which shutdown does not cancel.
func (p *Pool) receiveLoop(ctx, handlerCtx context.Context, n int) {
	log := p.log.With().Int("receiver", n).Logger()
	failures := 0
	for ctx.Err() == nil {
		if p.gate.wait(ctx) != nil {
			return
		}
		free := p.acquire(ctx)
		if free == 0 {
			return
		}
		msgs, err := p.receive(ctx, free)
		p.releaseSlots(free - len(msgs))
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			p.receiveFailing.Store(true)
			delay := receiveBackoff(failures)
			// The delay grows to 30 s, so this logs at most twice a minute.
			log.Error().Err(err).Int("failures", failures).Dur("retry_in", delay).
				Msg("receive failed; not ready until a receive succeeds")
			sleep(ctx, delay)
			continue
		}
		if failures > 0 {
			log.Info().Int("failures", failures).Msg("receive recovered")
			failures = 0
			p.receiveFailing.Store(false)
		}
		for _, m := range msgs {
			p.dispatch(ctx, handlerCtx, m)
		}
	}
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

func (p *Pool) receive(ctx context.Context, max int) ([]types.Message, error) {
	in := &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(p.cfg.QueueURL),
		MaxNumberOfMessages:         int32(max),
		WaitTimeSeconds:             int32(p.cfg.WaitTime / time.Second),
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{"All"},
	}
	if p.cfg.VisibilityTimeout > 0 {
		in.VisibilityTimeout = int32(p.cfg.VisibilityTimeout / time.Second)
	}
	out, err := p.queue.ReceiveMessage(ctx, in)
	if err != nil {
		return nil, err
	}
	return out.Messages, nil
}

// dispatch starts a handler for m in the slot acquired for it. A message
// received after shutdown began is released back to the queue unhandled.
func (p *Pool) dispatch(ctx, handlerCtx context.Context, m types.Message) {
	p.handlers.Add(1)
	go func() {
		defer p.handlers.Done()
		defer p.releaseSlots(1)
		if ctx.Err() != nil {
			p.release(m)
			return
		}
		p.handle(handlerCtx, m)
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
