package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/callsummary/connector/tools/internal/pipeline"
)

// Timing of the bench's own waits.
const (
	stopGrace   = time.Minute      // SIGTERM to exit; the worker drains for up to 30 s
	failedGrace = 10 * time.Second // the same after the scenario failed
)

// mismatchesShown is how many mismatched records a scenario describes.
const mismatchesShown = 5

// run is one scenario in progress.
type run struct {
	o  options
	sc scenario
	tb *testbed
	p  *plan
	w  *workerProcess // nil until started

	metricsAddr string    // the worker's /readyz is served here
	began       time.Time // start of the measured time
}

// logPath is where the worker of sc writes its output.
func logPath(o options, sc scenario) string {
	return filepath.Join(o.out, sc.name+".log")
}

// runScenario runs sc on fresh fakes and returns what it measured. On an
// error the result holds what could be measured all the same.
func runScenario(ctx context.Context, o options, sc scenario, progress io.Writer) (result, error) {
	n := o.messagesOf(sc)
	res := result{Scenario: sc.name, Lookup: o.lookup, Messages: n}
	tb, err := startTestbed(sc)
	if err != nil {
		return res, err
	}
	defer tb.Close()

	r := &run{o: o, sc: sc, tb: tb, p: newPlan(n, sc.mode)}
	r.p.seed(tb.Org, o.lookupField())
	fmt.Fprintf(progress, "bench: %s: %d messages, worker log %s\n", sc.name, n, logPath(o, sc))

	err = r.execute(ctx)
	res, problems := r.measure(res, err == nil)
	if err == nil {
		// A failed scenario leaves records unwritten; that is said already.
		for _, p := range problems[:min(len(problems), mismatchesShown)] {
			fmt.Fprintf(progress, "bench: %s: mismatch: %s\n", sc.name, p)
		}
	}
	return res, err
}

// execute runs the scenario's load within the deadline and stops the
// worker whatever happened.
func (r *run) execute(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.o.deadline)
	defer cancel()

	var err error
	if r.sc.load == backlog {
		err = r.backlog(ctx)
	} else {
		err = r.trickle(ctx)
	}
	if r.w == nil {
		return err
	}
	grace := stopGrace
	if err != nil {
		grace = failedGrace
	}
	if stopErr := r.w.Stop(grace); stopErr != nil && !errors.Is(err, stopErr) {
		err = errors.Join(err, stopErr)
	}
	return err
}

// backlog fills the queue, then starts the worker and waits until it has
// worked through it. The measured time starts with the worker process.
func (r *run) backlog(ctx context.Context) error {
	if err := r.preload(ctx); err != nil {
		return err
	}
	if err := r.startWorker(); err != nil {
		return err
	}
	r.began = r.w.Started()
	return r.awaitDone(ctx)
}

// trickle starts the worker, waits until it is ready and sends one message
// per interval. The measured time starts with the first send.
func (r *run) trickle(ctx context.Context) error {
	if err := r.startWorker(); err != nil {
		return err
	}
	if err := r.w.AwaitReady(ctx, r.metricsAddr); err != nil {
		return err
	}
	if err := r.sendTrickle(ctx); err != nil {
		return err
	}
	return r.awaitDone(ctx)
}

func (r *run) startWorker() error {
	addr, err := pipeline.FreeLoopbackAddr()
	if err != nil {
		return err
	}
	env, err := workerEnv(r.o, r.sc, r.tb, addr)
	if err != nil {
		return err
	}
	r.metricsAddr = env[pipeline.MetricsAddrVar]
	r.w, err = startWorker(r.o.connector, pipeline.Environ(env), logPath(r.o, r.sc))
	return err
}

// preload sends every message, ten to a SendMessageBatch.
func (r *run) preload(ctx context.Context) error {
	const batchSize = 10
	for start := 0; start < len(r.p.calls); start += batchSize {
		batch := r.p.calls[start:min(start+batchSize, len(r.p.calls))]
		if err := r.sendBatch(ctx, batch); err != nil {
			return fmt.Errorf("preload: %w", err)
		}
	}
	return nil
}

func (r *run) sendBatch(ctx context.Context, batch []call) error {
	bodies := make([]string, len(batch))
	for i := range batch {
		bodies[i] = batch[i].body()
	}
	if _, err := r.tb.SendBatch(ctx, bodies); err != nil {
		return err
	}
	now := time.Now()
	for i := range batch {
		batch[i].sentAt = now
	}
	return nil
}

// sendTrickle sends the messages one by one, one per interval, the first
// at once.
func (r *run) sendTrickle(ctx context.Context) error {
	tick := time.NewTicker(r.o.trickleInterval)
	defer tick.Stop()
	r.began = time.Now()
	for i := range r.p.calls {
		if i > 0 {
			if err := r.awaitTick(ctx, tick.C); err != nil {
				return fmt.Errorf("trickle after %d sends: %w", i, err)
			}
		}
		c := &r.p.calls[i]
		_, err := r.tb.Queue.SendMessage(ctx, &sqs.SendMessageInput{
			QueueUrl: aws.String(r.tb.QueueURL), MessageBody: aws.String(c.body())})
		if err != nil {
			return fmt.Errorf("trickle: send %d: %w", i+1, err)
		}
		c.sentAt = time.Now()
	}
	return nil
}

// awaitTick waits for the next tick, the end of ctx or the worker's exit.
func (r *run) awaitTick(ctx context.Context, tick <-chan time.Time) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-r.w.Exited():
		return r.w.ErrOrZero()
	case <-tick:
		return nil
	}
}

// awaitDone polls until every message has ended in the org or in the
// dead-letter queue and the source queue is empty.
func (r *run) awaitDone(ctx context.Context) error {
	tick := time.NewTicker(pipeline.PollInterval)
	defer tick.Stop()
	for {
		progress := r.progress()
		if progress.done() {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not done (%s): %w", progress, ctx.Err())
		case <-r.w.Exited():
			return fmt.Errorf("not done (%s): %w", progress, r.w.ErrOrZero())
		case <-tick.C:
		}
	}
}

// progress is how far a scenario has come.
type progress struct {
	messages, written, deadLetters int
	visible, inFlight, delayed     int
}

func (r *run) progress() progress {
	p := progress{
		messages:    len(r.p.calls),
		written:     r.tb.writes.written(),
		deadLetters: r.tb.DeadLetters(),
	}
	p.visible, p.inFlight, p.delayed = r.tb.Queued()
	return p
}

func (p progress) done() bool {
	return p.written+p.deadLetters >= p.messages && p.visible+p.inFlight+p.delayed == 0
}

func (p progress) String() string {
	return fmt.Sprintf("%d of %d records written, %d dead letters, the queue holds "+
		"%d visible, %d in flight, %d delayed", p.written, p.messages, p.deadLetters,
		p.visible, p.inFlight, p.delayed)
}
