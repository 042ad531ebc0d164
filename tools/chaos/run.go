package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/callsummary/connector/salesforce"
	"github.com/callsummary/connector/tools/internal/pipeline"
)

// Timing of the run's own waits.
const (
	stopGrace      = time.Minute // SIGTERM to exit
	watchInterval  = 50 * time.Millisecond
	restartDelay   = time.Second     // after a worker exited by itself
	maxUnexpected  = 10              // exits by itself before the run gives up
	sendBatchSize  = 10              // the most SendMessageBatch takes
	workerLogNames = "worker-%d.log" // one per worker process, numbered from 1
)

// run is one chaos run in progress. The supervisor goroutine owns the
// workers and the counts of what it did until it has returned.
type run struct {
	o        options
	tb       *pipeline.Testbed
	p        *plan
	f        *faults
	schedule []event
	progress io.Writer

	sent       atomic.Int64 // messages whose send has returned
	eventsDone chan struct{}
	began      time.Time
	finished   time.Time

	main       process   // the worker the disruptions hit
	replicas   []process // further workers sharing the queue, --replicas - 1
	starts     int
	kills      int
	terms      int
	unexpected []string // how each worker that exited by itself ended
	termErr    error    // how the SIGTERMed worker ended, if not with status 0
	logs       []string // every worker's log file, in start order
}

// process is one running `connector run`.
type process struct {
	*pipeline.Worker
	n    int    // its number in start order, from 1, which names its log
	addr string // its health endpoint
}

func newRun(o options, tb *pipeline.Testbed, p *plan, f *faults, progress io.Writer) *run {
	rng := rand.New(rand.NewPCG(o.seed, 0x736368))
	return &run{
		o: o, tb: tb, p: p, f: f, progress: progress,
		schedule:   newSchedule(len(p.messages), rng),
		eventsDone: make(chan struct{}),
	}
}

// execute starts the workers, sends every message while the supervisor
// disrupts, waits until the source queue is empty and stops the workers,
// within the deadline.
func (r *run) execute(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.o.deadline)
	defer cancel()
	if err := r.startWorkers(); err != nil {
		return errors.Join(err, r.stopWorkers())
	}
	r.began = time.Now()

	sent := make(chan error, 1)
	go func() { sent <- r.send(ctx) }()
	stop := make(chan struct{})
	supervised := make(chan error, 1)
	go func() { supervised <- r.supervise(stop) }()

	err := r.awaitDone(ctx, sent, supervised)
	r.finished = time.Now()
	close(stop)
	if supErr := <-supervised; supErr != nil && err == nil {
		err = supErr
	}
	fmt.Fprintf(r.progress, "chaos: queue empty at %.1fs; stopping the workers\n",
		r.finished.Sub(r.began).Seconds())
	return errors.Join(err, r.stopWorkers())
}

func (r *run) startWorkers() error {
	var err error
	if r.main, err = r.launch(); err != nil {
		return err
	}
	for range r.o.replicas - 1 {
		replica, err := r.launch()
		if err != nil {
			return err
		}
		r.replicas = append(r.replicas, replica)
	}
	return nil
}

// launch starts a worker with its own log and health endpoint.
func (r *run) launch() (process, error) {
	env := r.tb.WorkerEnv(lookupField, salesforce.Append)
	env["LOG_FORMAT"] = "json"
	env["NOT_FOUND_GRACE"] = "2s"
	env["DRAIN_TIMEOUT"] = "10s"
	addr, err := pipeline.FreeLoopbackAddr()
	if err != nil {
		return process{}, err
	}
	env[pipeline.MetricsAddrVar] = addr
	if err := pipeline.SetEnv(env, r.o.env); err != nil {
		return process{}, err
	}
	r.starts++
	path := filepath.Join(r.o.out, fmt.Sprintf(workerLogNames, r.starts))
	w, err := pipeline.StartWorker(r.o.connector, pipeline.Environ(env), path, nil)
	if err != nil {
		return process{}, err
	}
	r.logs = append(r.logs, path)
	return process{Worker: w, n: r.starts, addr: env[pipeline.MetricsAddrVar]}, nil
}

// stopWorkers stops every worker with SIGTERM; each must exit with status
// 0.
func (r *run) stopWorkers() error {
	var errs []error
	for _, p := range append([]process{r.main}, r.replicas...) {
		if p.Worker == nil {
			continue
		}
		stopping := time.Now()
		if err := p.Stop(stopGrace); err != nil {
			errs = append(errs, fmt.Errorf("worker %d at the end: %w", p.n, err))
		}
		fmt.Fprintf(r.progress, "chaos: worker %d stopped in %.1fs\n", p.n,
			time.Since(stopping).Seconds())
	}
	return errors.Join(errs...)
}

// send sends every message in batches, paced at the configured rate.
func (r *run) send(ctx context.Context) error {
	interval := time.Duration(float64(sendBatchSize) / r.o.rate * float64(time.Second))
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for start := 0; start < len(r.p.messages); start += sendBatchSize {
		if start > 0 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("send after %d: %w", start, ctx.Err())
			case <-tick.C:
			}
		}
		end := min(start+sendBatchSize, len(r.p.messages))
		if err := r.sendBatch(ctx, r.p.messages[start:end]); err != nil {
			return fmt.Errorf("send after %d: %w", start, err)
		}
		r.sent.Store(int64(end))
	}
	return nil
}

func (r *run) sendBatch(ctx context.Context, batch []message) error {
	bodies := make([]string, len(batch))
	for i := range batch {
		bodies[i] = batch[i].body
	}
	ids, err := r.tb.SendBatch(ctx, bodies)
	if err != nil {
		return err
	}
	for i := range batch {
		batch[i].messageID = ids[i]
	}
	return nil
}

// awaitDone waits until every message is sent, every disruption is over
// and the source queue is empty: every message then has its outcome.
func (r *run) awaitDone(ctx context.Context, sent, supervised <-chan error) error {
	tick := time.NewTicker(watchInterval)
	defer tick.Stop()
	allSent := false
	for {
		if allSent && r.eventsOver() && r.queueEmpty() {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not done: %s: %w", r.state(), ctx.Err())
		case err := <-sent:
			if err != nil {
				return err
			}
			allSent = true
		case err := <-supervised:
			return fmt.Errorf("supervisor gave up: %w", err)
		case <-tick.C:
		}
	}
}

func (r *run) eventsOver() bool {
	select {
	case <-r.eventsDone:
		return true
	default:
		return false
	}
}

func (r *run) queueEmpty() bool {
	visible, inFlight, delayed := r.tb.Queued()
	return visible+inFlight+delayed == 0
}

// state says how far the run has come, for an error.
func (r *run) state() string {
	visible, inFlight, delayed := r.tb.Queued()
	return fmt.Sprintf("%d of %d sent, disruptions over %v, the queue holds %d visible, "+
		"%d in flight, %d delayed, the DLQ %d", r.sent.Load(), len(r.p.messages),
		r.eventsOver(), visible, inFlight, delayed, r.tb.DeadLetters())
}
