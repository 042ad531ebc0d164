package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/callsummary/connector/tools/internal/pipeline"
)

// errStopped says that the run ended the supervisor before it was done.
var errStopped = errors.New("stopped")

// supervise carries out the schedule as the messages go out, then keeps
// restarting a worker that exits by itself, until stop is closed. It
// returns an error only when it could not go on.
//
// An event is due once its messages are sent and the worker is ready, so
// that each disruption hits a worker at work, not one still starting or
// paused by the event before.
func (r *run) supervise(stop <-chan struct{}) error {
	for _, e := range r.schedule {
		err := r.idle(stop, func() bool {
			return int(r.sent.Load()) >= e.afterSent &&
				pipeline.Ready(context.Background(), r.main.addr)
		})
		if err == nil {
			err = r.disrupt(stop, e)
		}
		if errors.Is(err, errStopped) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	close(r.eventsDone)
	if err := r.idle(stop, func() bool { return false }); !errors.Is(err, errStopped) {
		return err
	}
	return nil
}

// idle waits until done reports true, restarting each worker that exits
// by itself. It returns errStopped once stop is closed.
func (r *run) idle(stop <-chan struct{}, done func() bool) error {
	tick := time.NewTicker(watchInterval)
	defer tick.Stop()
	for !done() {
		select {
		case <-stop:
			return errStopped
		case <-r.main.Exited():
			if err := r.exitedByItself(stop, &r.main); err != nil {
				return err
			}
		case <-tick.C:
			if err := r.watchReplicas(stop); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *run) watchReplicas(stop <-chan struct{}) error {
	for i := range r.replicas {
		select {
		case <-r.replicas[i].Exited():
			if err := r.exitedByItself(stop, &r.replicas[i]); err != nil {
				return err
			}
		default:
		}
	}
	return nil
}

// exitedByItself notes how the worker p ended and starts another in its
// place.
func (r *run) exitedByItself(stop <-chan struct{}, p *process) error {
	r.unexpected = append(r.unexpected, fmt.Sprintf("worker %d: %v", p.n, p.ErrOrZero()))
	fmt.Fprintf(r.progress, "chaos: worker %d exited by itself: %v (log %s)\n",
		p.n, p.ErrOrZero(), r.logs[p.n-1])
	if len(r.unexpected) >= maxUnexpected {
		return fmt.Errorf("workers exited by themselves %d times", len(r.unexpected))
	}
	if err := sleep(stop, restartDelay); err != nil {
		return err
	}
	next, err := r.launch()
	if err != nil {
		return err
	}
	*p = next
	return nil
}

// disrupt carries out one event on the main worker. After a signal the
// next worker starts once it has exited and the restart pause is over;
// with --rolling, SIGTERM starts the next worker first, so that for a
// moment two share the queue while the old one drains.
func (r *run) disrupt(stop <-chan struct{}, e event) error {
	fmt.Fprintf(r.progress, "chaos: %s to worker %d at %.1fs\n", e, r.main.n,
		time.Since(r.began).Seconds())
	switch {
	case e.disruption == requestLimit:
		return r.limitPeriod(stop)
	case e.disruption == sigterm && r.o.rolling:
		return r.rollingRestart()
	case e.disruption == sigterm:
		r.terminate(r.main)
	default:
		r.kills++
		if err := r.main.Kill(); err != nil {
			return err
		}
	}
	if err := sleep(stop, e.restartIn); err != nil {
		return err
	}
	var err error
	r.main, err = r.launch()
	return err
}

// terminate stops p with SIGTERM and waits for it; it must exit with
// status 0.
func (r *run) terminate(p process) {
	r.terms++
	if err := p.Stop(stopGrace); err != nil {
		r.termErr = fmt.Errorf("worker %d after SIGTERM: %w", p.n, err)
	}
}

// rollingRestart starts the next worker, then terminates the main one.
func (r *run) rollingRestart() error {
	old := r.main
	var err error
	if r.main, err = r.launch(); err != nil {
		r.main = old
		return err
	}
	r.terminate(old)
	return nil
}

// limitPeriod makes the org refuse every data call for the configured
// period, and the worker must pause and resume by itself.
func (r *run) limitPeriod(stop <-chan struct{}) error {
	r.f.beginLimit()
	defer r.f.endLimit()
	end := time.Now().Add(r.o.limitPeriod)
	return r.idle(stop, func() bool { return !time.Now().Before(end) })
}

func sleep(stop <-chan struct{}, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-stop:
		return errStopped
	case <-t.C:
		return nil
	}
}
