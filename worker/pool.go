// Package worker runs the consumers that take call summaries from SQS and
// apply them to Salesforce. It owns the receive loop, the bounded set of
// handlers, the outcome of every message, acknowledgements, dead-lettering
// and the pool-wide pause on systemic faults. It is the only package besides
// cmd that logs.
package worker

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/rs/zerolog"

	"github.com/callsummary/connector/salesforce"
)

// Salesforce is what the worker needs from the Salesforce client.
type Salesforce interface {
	// Apply writes one summary into its record.
	Apply(ctx context.Context, s salesforce.Summary) (salesforce.Result, error)
	// Probe checks that credentials and setup work again after a pause.
	Probe(ctx context.Context) error
	// APIUsage reports the org's last known API usage and daily limit.
	APIUsage() (used, limit int64)
}

// Queue is the part of the SQS API the worker uses; *sqs.Client satisfies it.
type Queue interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput,
		opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput,
		opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput,
		opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	SendMessage(ctx context.Context, in *sqs.SendMessageInput,
		opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput,
		opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput,
		opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput,
		opts ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// Config tunes a Pool. Zero values take the defaults documented per field.
type Config struct {
	QueueURL string // source queue; required
	DLQURL   string // dead-letter queue; required

	Receivers         int           // concurrent long polls; default 4
	Concurrency       int           // messages handled at once; default 1000
	WaitTime          time.Duration // long-poll wait; default 20 s
	MaxMessages       int           // per receive, 1..10; default 10
	VisibilityTimeout time.Duration // per receive, whole seconds; 0 keeps the queue's own

	// MaxProcessingTime is how long one message may be worked on, counted
	// from its receive, its visibility extended meanwhile; then its handling
	// is cancelled and it is given back to the queue. Default 10 min.
	MaxProcessingTime time.Duration

	NotFoundGrace   time.Duration // retry a missing record this long after the first send
	APIUsageCeiling float64       // pause above this share of the daily API limit; 0 = never
	RetryMaxElapsed time.Duration // in-process backoff budget per message; default 30 s
	RetryInitial    time.Duration // first in-process backoff step; default 200 ms
	DrainTimeout    time.Duration // how long shutdown waits for receives and handlers; default 30 s
	AckTimeout      time.Duration // per delete or dead-letter call; default 10 s

	OutageThreshold int // pause after this many messages in a row fail transiently; default 5

	ProbeInitial time.Duration // first probe delay while paused; default 1 s
	ProbeMax     time.Duration // longest probe delay; default 1 min
	MaxBodyBytes int           // larger bodies are invalid; default 1 MiB

	Logger   zerolog.Logger
	Observer Observer         // told of every outcome, for metrics; may be nil
	Now      func() time.Time // default time.Now
}

// Observer is told of every message's outcome, for metrics. Its method
// must be quick and safe for concurrent use.
type Observer interface {
	// Outcome reports one message's outcome, its reason ("" for none) and
	// how long the message took from its receive to its queue action.
	Outcome(outcome Outcome, reason string, took time.Duration)
}

func (c Config) withDefaults() Config {
	setDuration(&c.WaitTime, 20*time.Second)
	setDuration(&c.RetryMaxElapsed, 30*time.Second)
	setDuration(&c.RetryInitial, 200*time.Millisecond)
	setDuration(&c.DrainTimeout, 30*time.Second)
	setDuration(&c.AckTimeout, 10*time.Second)
	setDuration(&c.ProbeInitial, time.Second)
	setDuration(&c.ProbeMax, time.Minute)
	setDuration(&c.MaxProcessingTime, 10*time.Minute)
	setInt(&c.Receivers, 4)
	setInt(&c.Concurrency, 1000)
	setInt(&c.MaxMessages, 10)
	setInt(&c.MaxBodyBytes, 1<<20)
	setInt(&c.OutageThreshold, 5)
	if c.MaxMessages > 10 {
		c.MaxMessages = 10
	}
	if c.VisibilityTimeout > 0 {
		// SQS counts it in whole seconds; round up, never down to zero.
		c.VisibilityTimeout = (c.VisibilityTimeout + time.Second - 1).Truncate(time.Second)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

func setDuration(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

func setInt(n *int, def int) {
	if *n <= 0 {
		*n = def
	}
}

// Pool is a set of consumers sharing one queue, one Salesforce client and a
// bounded number of handler slots. Create it with New and start it with Run;
// its methods are safe for concurrent use.
type Pool struct {
	cfg   Config
	queue Queue
	sf    Salesforce
	log   zerolog.Logger

	slots    chan struct{} // one token per free handler slot
	inFlight atomic.Int64  // messages handed to a handler and not yet done
	gate     *gate
	acks     *acker
	beat     *heartbeat
	stats    *Stats
	handlers sync.WaitGroup
	// transientRun counts messages in a row that failed transiently.
	transientRun atomic.Int64
	// receiveFailing is set while the last receive of some receiver failed.
	receiveFailing atomic.Bool
	running        chan struct{} // closed once Run has started its consumers

	// visibility is the visibility timeout in force for received messages,
	// and askVisibility whether receives ask for it; Run sets both before
	// any receive.
	visibility    time.Duration
	askVisibility bool
}

// New returns a Pool that is not yet running.
func New(cfg Config, queue Queue, sf Salesforce) (*Pool, error) {
	if cfg.QueueURL == "" || cfg.DLQURL == "" {
		return nil, errors.New("worker: queue and dead-letter queue URLs are required")
	}
	cfg = cfg.withDefaults()
	p := &Pool{
		cfg:     cfg,
		queue:   queue,
		sf:      sf,
		log:     cfg.Logger.With().Str("component", "worker").Logger(),
		slots:   make(chan struct{}, cfg.Concurrency),
		stats:   newStats(),
		running: make(chan struct{}),
	}
	for range cfg.Concurrency {
		p.slots <- struct{}{}
	}
	p.gate = newGate()
	p.acks = newAcker(queue, cfg, p.log, p.stats)
	p.beat = newHeartbeat(queue, cfg, p.log)
	return p, nil
}

// Run starts the consumers and blocks until ctx is cancelled and every
// message already received has an outcome (or the drain deadline passed).
// Cancellation is the normal way to stop it and is not an error: receiving
// stops, the receive in flight is left to answer, handlers finish within
// DrainTimeout, messages received but not started go back to the queue,
// and pending deletes are flushed before Run returns.
func (p *Pool) Run(ctx context.Context) error {
	// Handlers outlive ctx, and so does a receive the queue may be
	// answering: cutting it short would hide its messages for their
	// visibility timeout. Both are cancelled only at the drain deadline.
	lasting := context.WithoutCancel(ctx)
	receiveCtx, stopReceives := context.WithCancel(lasting)
	defer stopReceives()
	handlerCtx, stopHandlers := context.WithCancel(lasting)
	defer stopHandlers()

	p.learnVisibility(lasting)
	p.beat.start(p.visibility)
	p.acks.start()
	var receivers sync.WaitGroup
	for i := range p.cfg.Receivers {
		receivers.Add(1)
		go func() {
			defer receivers.Done()
			p.receiveLoop(ctx, receiveCtx, handlerCtx, i)
		}()
	}
	close(p.running)
	p.log.Info().Int("receivers", p.cfg.Receivers).Int("concurrency", p.cfg.Concurrency).
		Str("queue", p.cfg.QueueURL).Dur("visibility_timeout", p.visibility).
		Msg("worker started")

	<-ctx.Done()
	p.drain(&receivers, func() {
		// Receives end first: a poll still open when a handler gives its
		// message back could take it again and hide it.
		stopReceives()
		receivers.Wait()
		stopHandlers()
	})
	p.beat.stop()
	p.gate.close()
	p.acks.stop()
	p.log.Info().Msg("worker stopped")
	return nil
}

// drain waits for the receives in flight and then for the handlers,
// cancelling both at the drain deadline.
func (p *Pool) drain(receivers *sync.WaitGroup, cancel func()) {
	p.log.Info().Dur("drain_timeout", p.cfg.DrainTimeout).
		Msg("stopping: finishing receives and messages in flight")
	done := make(chan struct{})
	go func() {
		// Receivers start handlers, so they are waited for first.
		receivers.Wait()
		p.handlers.Wait()
		close(done)
	}()
	timer := time.NewTimer(p.cfg.DrainTimeout)
	defer timer.Stop()
	select {
	case <-done:
		return
	case <-timer.C:
		p.log.Warn().Dur("drain_timeout", p.cfg.DrainTimeout).
			Msg("drain deadline passed; cancelling in-flight messages and giving them back to the queue")
		cancel()
		<-done
	}
}

// Ready reports whether the pool is running, not paused and able to
// receive from the queue.
func (p *Pool) Ready() bool {
	select {
	case <-p.running:
		return !p.gate.isPaused() && !p.receiveFailing.Load()
	default:
		return false
	}
}

// ReceiveFailing reports whether the last receive from the queue failed.
func (p *Pool) ReceiveFailing() bool { return p.receiveFailing.Load() }

// Paused reports whether the pool is paused and why.
func (p *Pool) Paused() (bool, string) { return p.gate.state() }

// InFlight returns how many received messages are being handled.
func (p *Pool) InFlight() int { return int(p.inFlight.Load()) }

// Stats returns a snapshot of the outcome counters.
func (p *Pool) Stats() Snapshot { return p.stats.snapshot() }
