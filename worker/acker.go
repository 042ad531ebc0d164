package worker

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/rs/zerolog"
)

const (
	ackBatchSize   = 10 // the most DeleteMessageBatch takes
	ackLinger      = 5 * time.Millisecond
	ackParallelism = 4
)

// acker deletes handled messages in batches. Deletes run on their own
// context with a timeout, so shutdown never cancels an acknowledgement.
type acker struct {
	queue   Queue
	url     string
	timeout time.Duration
	log     zerolog.Logger
	stats   *Stats

	in       chan types.Message
	done     chan struct{}
	inflight sync.WaitGroup
	sem      chan struct{}
}

func newAcker(q Queue, cfg Config, log zerolog.Logger, stats *Stats) *acker {
	return &acker{
		queue:   q,
		url:     cfg.QueueURL,
		timeout: cfg.AckTimeout,
		log:     log,
		stats:   stats,
		in:      make(chan types.Message, cfg.Concurrency),
		done:    make(chan struct{}),
		sem:     make(chan struct{}, ackParallelism),
	}
}

func (a *acker) start() { go a.loop() }

// stop flushes what is pending and waits for every delete to finish. No
// delete may be requested after stop.
func (a *acker) stop() {
	close(a.in)
	<-a.done
}

// delete queues m for deletion from the source queue.
func (a *acker) delete(m types.Message) { a.in <- m }

func (a *acker) loop() {
	defer close(a.done)
	defer a.inflight.Wait()
	for {
		first, ok := <-a.in
		if !ok {
			return
		}
		batch, more := a.gather(first)
		a.flushAsync(batch)
		if !more {
			return
		}
	}
}

// gather collects up to a full batch, waiting at most ackLinger for more.
// It reports false when the input is closed.
func (a *acker) gather(first types.Message) ([]types.Message, bool) {
	batch := []types.Message{first}
	timer := time.NewTimer(ackLinger)
	defer timer.Stop()
	for len(batch) < ackBatchSize {
		select {
		case m, ok := <-a.in:
			if !ok {
				return batch, false
			}
			batch = append(batch, m)
		case <-timer.C:
			return batch, true
		}
	}
	return batch, true
}

func (a *acker) flushAsync(batch []types.Message) {
	a.sem <- struct{}{}
	a.inflight.Add(1)
	go func() {
		defer a.inflight.Done()
		defer func() { <-a.sem }()
		a.flush(batch)
	}()
}

// flush deletes a batch and checks every entry: failed entries are retried
// one by one, except receipt handles SQS no longer honours, which are only
// counted (the message will be redelivered and found already applied).
func (a *acker) flush(batch []types.Message) {
	ctx, cancel := context.WithTimeout(context.Background(), a.timeout)
	defer cancel()
	entries := make([]types.DeleteMessageBatchRequestEntry, len(batch))
	for i, m := range batch {
		// Ids are positions, unique even when one message appears twice.
		entries[i] = types.DeleteMessageBatchRequestEntry{
			Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle}
	}
	out, err := a.queue.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{
		QueueUrl: aws.String(a.url), Entries: entries}, ownRequestBody)
	if err != nil {
		a.log.Warn().Err(err).Int("messages", len(batch)).
			Msg("batch delete failed; deleting one by one")
		for _, m := range batch {
			a.deleteOne(ctx, m)
		}
		return
	}
	for _, f := range out.Failed {
		i, convErr := strconv.Atoi(aws.ToString(f.Id))
		if convErr != nil || i < 0 || i >= len(batch) {
			a.log.Error().Str("entry_id", aws.ToString(f.Id)).Msg("delete result for unknown entry")
			continue
		}
		a.entryFailed(ctx, batch[i], f)
	}
}

func (a *acker) entryFailed(ctx context.Context, m types.Message, f types.BatchResultErrorEntry) {
	code := aws.ToString(f.Code)
	if isStaleReceipt(code) {
		a.staleReceipt(m, code)
		return
	}
	a.log.Warn().Str("message_id", aws.ToString(m.MessageId)).Str("code", code).
		Str("error", aws.ToString(f.Message)).Msg("delete entry failed; retrying alone")
	a.deleteOne(ctx, m)
}

func (a *acker) deleteOne(ctx context.Context, m types.Message) {
	_, err := a.queue.DeleteMessage(ctx, &sqs.DeleteMessageInput{
		QueueUrl: aws.String(a.url), ReceiptHandle: m.ReceiptHandle}, ownRequestBody)
	if err == nil {
		return
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && isStaleReceipt(apiErr.ErrorCode()) {
		a.staleReceipt(m, apiErr.ErrorCode())
		return
	}
	a.stats.addDeleteFailure()
	a.log.Error().Err(err).Str("message_id", aws.ToString(m.MessageId)).
		Msg("delete failed; SQS will redeliver the message")
}

func (a *acker) staleReceipt(m types.Message, code string) {
	a.stats.addStaleReceipt()
	a.log.Warn().Str("message_id", aws.ToString(m.MessageId)).Str("code", code).
		Msg("receipt handle no longer valid; the message will be redelivered")
}

func isStaleReceipt(code string) bool {
	switch code {
	case "ReceiptHandleIsInvalid", "InvalidReceiptHandle",
		"AWS.SimpleQueueService.ReceiptHandleIsInvalid":
		return true
	}
	return false
}
