package worker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"
)

const (
	// beatsPerVisibility is how many beats fit in one visibility timeout. A
	// message is extended at the first beat after half of its visibility
	// has passed, so by the time two thirds of it have.
	beatsPerVisibility = 6
	extendBatchSize    = 10 // the most ChangeMessageVisibilityBatch takes
	extendParallelism  = 4

	// minHeartbeatVisibility is the shortest visibility timeout the
	// heartbeat can keep up with; SQS counts it in whole seconds.
	minHeartbeatVisibility = time.Second
	// maxVisibility is how long SQS lets a message stay invisible in all,
	// counted from its receive.
	maxVisibility = 12 * time.Hour
	// fallbackVisibility is asked for on every receive when the queue's own
	// visibility timeout cannot be read, so that the heartbeat knows it.
	fallbackVisibility = 30 * time.Second
)

// errProcessingTime is the cause with which the handling of a message is
// cancelled once it has been worked on for MaxProcessingTime.
var errProcessingTime = errors.New("maximum processing time reached")

// heartbeat keeps the messages being worked on invisible. One goroutine
// serves them all: every beat it extends, ten to a call, the visibility of
// each message that has used up half of it, until the message has been
// worked on for MaxProcessingTime. Its calls use their own context with a
// timeout, so shutdown never cancels an extension.
type heartbeat struct {
	queue   Queue
	url     string
	maxAge  time.Duration // MaxProcessingTime
	timeout time.Duration // per call
	log     zerolog.Logger

	// visibility is the timeout in force for received messages, set by
	// start; below minHeartbeatVisibility nothing is extended.
	visibility time.Duration

	mu     sync.Mutex
	leases map[*lease]struct{}

	quit chan struct{}
	done chan struct{}
}

// lease is one message being worked on.
type lease struct {
	msg        types.Message
	receivedAt time.Time

	// visibleAt and lapsed are only touched by beats once the lease is
	// tracked; beats run one after the other.
	visibleAt time.Time // when SQS shows the message again, as last set
	lapsed    bool      // SQS no longer has it in flight for us

	mu    sync.Mutex // held while the message's visibility is being changed
	ended bool       // its handler has finished; extend it no more
}

func newHeartbeat(q Queue, cfg Config, log zerolog.Logger) *heartbeat {
	return &heartbeat{
		queue:   q,
		url:     cfg.QueueURL,
		maxAge:  cfg.MaxProcessingTime,
		timeout: cfg.AckTimeout,
		log:     log,
		leases:  map[*lease]struct{}{},
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
	}
}

// start begins beating for messages received with the given visibility
// timeout. Call it before any track.
func (h *heartbeat) start(visibility time.Duration) {
	h.visibility = visibility
	if visibility < minHeartbeatVisibility {
		h.log.Warn().Dur("visibility_timeout", visibility).
			Msg("visibility timeout too short to extend; a slow message may be delivered twice")
		close(h.done)
		return
	}
	go h.loop()
}

// stop ends the beats and waits for the one in progress. No track may
// come after stop.
func (h *heartbeat) stop() {
	close(h.quit)
	<-h.done
}

func (h *heartbeat) loop() {
	defer close(h.done)
	tick := time.NewTicker(h.visibility / beatsPerVisibility)
	defer tick.Stop()
	for {
		select {
		case <-h.quit:
			return
		case now := <-tick.C:
			h.beat(now)
		}
	}
}

// track starts keeping m invisible; it was received at receivedAt.
func (h *heartbeat) track(m types.Message, receivedAt time.Time) *lease {
	l := &lease{msg: m, receivedAt: receivedAt, visibleAt: receivedAt.Add(h.visibility)}
	if h.visibility < minHeartbeatVisibility {
		return l
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.leases[l] = struct{}{}
	return l
}

// untrack stops extending l. It waits for an extension of l in progress,
// so that no extension lands after the handler's own queue action.
func (h *heartbeat) untrack(l *lease) {
	l.mu.Lock()
	l.ended = true
	l.mu.Unlock()

	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.leases, l)
}

// beat extends every lease that is due, a few batches at a time, and logs
// the failures of the whole beat in one line; they are retried next beat.
func (h *heartbeat) beat(now time.Time) {
	due := h.due(now)
	var (
		g     errgroup.Group
		mu    sync.Mutex
		tally extendTally
	)
	g.SetLimit(extendParallelism)
	for start := 0; start < len(due); start += extendBatchSize {
		batch := due[start:min(start+extendBatchSize, len(due))]
		g.Go(func() error {
			t := h.extend(batch)
			mu.Lock()
			defer mu.Unlock()
			tally.add(t)
			return nil
		})
	}
	_ = g.Wait()
	if tally.failed > 0 {
		h.log.Warn().Err(tally.firstErr).Int("messages", tally.failed).
			Msg("visibility extension failed; retrying at the next beat")
	}
}

// due returns the leases that have used half of their visibility and are
// still inside the maximum processing time.
func (h *heartbeat) due(now time.Time) []*lease {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*lease
	for l := range h.leases {
		if l.lapsed || now.Sub(l.receivedAt) >= h.maxAge {
			continue
		}
		if l.visibleAt.Sub(now) <= h.visibility/2 {
			out = append(out, l)
		}
	}
	return out
}

// extendTally counts the failed extensions of one or more calls.
type extendTally struct {
	failed   int
	firstErr error
}

func (t *extendTally) add(o extendTally) {
	if t.firstErr == nil {
		t.firstErr = o.firstErr
	}
	t.failed += o.failed
}

// extend asks SQS to keep each message of batch invisible for another
// visibility timeout. Leases whose handler has ended meanwhile are left
// out, and handlers that end during the call wait for it.
func (h *heartbeat) extend(batch []*lease) extendTally {
	sent := time.Now()
	live, entries := h.hold(batch, sent)
	defer func() {
		for _, l := range live {
			l.mu.Unlock()
		}
	}()
	if len(live) == 0 {
		return extendTally{}
	}

	ctx, cancel := context.WithTimeout(context.Background(), h.timeout)
	defer cancel()
	out, err := h.queue.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{
		QueueUrl: aws.String(h.url), Entries: entries}, ownRequestBody)
	if err != nil {
		return extendTally{failed: len(live), firstErr: fmt.Errorf("extend visibility: %w", err)}
	}
	for _, s := range out.Successful {
		if i, ok := entryIndex(s.Id, len(live)); ok {
			secs := time.Duration(entries[i].VisibilityTimeout) * time.Second
			live[i].visibleAt = sent.Add(secs)
		}
	}
	var t extendTally
	for _, f := range out.Failed {
		if i, ok := entryIndex(f.Id, len(live)); ok && h.entryFailed(live[i], f) {
			t.add(extendTally{failed: 1, firstErr: fmt.Errorf("extend visibility: %s: %s",
				aws.ToString(f.Code), aws.ToString(f.Message))})
		}
	}
	return t
}

// hold locks the leases of batch that are still worth extending and
// returns them, locked, with their request entries; entry ids are
// positions in live.
func (h *heartbeat) hold(batch []*lease, now time.Time) (
	live []*lease, entries []types.ChangeMessageVisibilityBatchRequestEntry) {
	for _, l := range batch {
		l.mu.Lock()
		secs := extensionSeconds(h.visibility, now.Sub(l.receivedAt))
		if l.ended || secs == 0 {
			// Zero would show the message at once; SQS allows no more.
			l.lapsed = l.lapsed || secs == 0
			l.mu.Unlock()
			continue
		}
		entries = append(entries, types.ChangeMessageVisibilityBatchRequestEntry{
			Id:                aws.String(strconv.Itoa(len(live))),
			ReceiptHandle:     l.msg.ReceiptHandle,
			VisibilityTimeout: secs,
		})
		live = append(live, l)
	}
	return live, entries
}

// entryFailed handles an extension SQS refused and reports whether it is
// worth retrying. A message no longer in flight for this receive has
// already become visible again: extending it is pointless, so the lease
// lapses, and the message may be handled a second time.
func (h *heartbeat) entryFailed(l *lease, f types.BatchResultErrorEntry) bool {
	code := aws.ToString(f.Code)
	if !isStaleReceipt(code) && !strings.HasSuffix(code, "MessageNotInflight") {
		return true
	}
	l.lapsed = true
	h.log.Warn().Str("message_id", aws.ToString(l.msg.MessageId)).Str("code", code).
		Dur("worked_on", time.Since(l.receivedAt)).
		Msg("visibility lapsed before it was extended; the message may be delivered again")
	return false
}

// entryIndex returns the position a batch result entry id names.
func entryIndex(id *string, n int) (int, bool) {
	i, err := strconv.Atoi(aws.ToString(id))
	return i, err == nil && i >= 0 && i < n
}

// extensionSeconds is the visibility to ask for, in whole seconds: the
// timeout in force, cut so that the message stays within the twelve hours
// SQS allows from its receive (with a second to spare for the receive's
// own trip).
func extensionSeconds(visibility, elapsed time.Duration) int32 {
	left := maxVisibility - elapsed.Truncate(time.Second) - time.Second
	return int32(max(min(visibility, left), 0) / time.Second)
}

// learnVisibility sets the visibility timeout in force for received
// messages: Config.VisibilityTimeout when set, else the queue's own, read
// once. When the queue's cannot be read, receives ask for
// fallbackVisibility instead.
func (p *Pool) learnVisibility(ctx context.Context) {
	if p.cfg.VisibilityTimeout > 0 {
		p.visibility, p.askVisibility = p.cfg.VisibilityTimeout, true
		return
	}
	v, err := p.queueVisibility(ctx)
	if err != nil {
		p.visibility, p.askVisibility = fallbackVisibility, true
		p.log.Warn().Err(err).Dur("visibility_timeout", fallbackVisibility).
			Msg("queue visibility timeout unknown; asking for this one on every receive")
		return
	}
	p.visibility = v
}

// queueVisibility reads the queue's VisibilityTimeout attribute.
func (p *Pool) queueVisibility(ctx context.Context) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.AckTimeout)
	defer cancel()
	name := types.QueueAttributeNameVisibilityTimeout
	out, err := p.queue.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(p.cfg.QueueURL),
		AttributeNames: []types.QueueAttributeName{name},
	}, ownRequestBody)
	if err != nil {
		return 0, fmt.Errorf("read queue visibility timeout: %w", err)
	}
	secs, err := strconv.Atoi(out.Attributes[string(name)])
	if err != nil || secs < 0 {
		return 0, fmt.Errorf("read queue visibility timeout: got %q",
			out.Attributes[string(name)])
	}
	return time.Duration(secs) * time.Second, nil
}
