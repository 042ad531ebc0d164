package worker

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// gate holds the pool's pause state. Receivers wait on it; the first
// systemic failure closes it and a prober opens it again.
type gate struct {
	mu      sync.Mutex
	paused  bool
	reason  string
	since   time.Time
	resumed chan struct{} // closed when the pause ends
	quit    chan struct{} // closed when the pool stops
}

func newGate() *gate {
	return &gate{quit: make(chan struct{})}
}

// wait blocks while the gate is paused.
func (g *gate) wait(ctx context.Context) error {
	for {
		g.mu.Lock()
		if !g.paused {
			g.mu.Unlock()
			return nil
		}
		ch := g.resumed
		g.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// pause reports whether this call started a new pause.
func (g *gate) pause(reason string, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.paused {
		return false
	}
	g.paused, g.reason, g.since = true, reason, now
	g.resumed = make(chan struct{})
	return true
}

func (g *gate) resume() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.paused {
		g.paused = false
		close(g.resumed)
	}
}

func (g *gate) isPaused() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.paused
}

func (g *gate) state() (bool, string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.paused, g.reason
}

func (g *gate) close() { close(g.quit) }

// pause stops the whole pool from receiving and starts probing for recovery.
func (p *Pool) pause(reason string, cause error) {
	if !p.gate.pause(reason, p.cfg.Now()) {
		return
	}
	p.stats.addPause()
	p.log.Error().Str("reason", reason).Err(cause).
		Msg("paused: a systemic fault stops all receiving until a probe succeeds")
	go p.probeUntilResumed(reason)
}

// noteTransient counts messages whose in-process retries were all spent.
// When OutageThreshold of them come in a row with no success between,
// Salesforce is down rather than one record being busy: the pool pauses, so
// that redeliveries do not push the backlog into the DLQ through the
// queue's redrive policy.
func (p *Pool) noteTransient(cause error) {
	if p.transientRun.Add(1) >= int64(p.cfg.OutageThreshold) {
		p.pause(ReasonUnavailable, cause)
	}
}

func (p *Pool) noteSuccess() { p.transientRun.Store(0) }

// checkUsage pauses the pool when the org's API usage is above the ceiling.
func (p *Pool) checkUsage() {
	if err := p.usageError(); err != nil {
		p.pause(ReasonUsageCeiling, err)
	}
}

func (p *Pool) usageError() error {
	used, limit := p.sf.APIUsage()
	if p.cfg.APIUsageCeiling <= 0 || limit <= 0 {
		return nil
	}
	if float64(used) > p.cfg.APIUsageCeiling*float64(limit) {
		return fmt.Errorf("org api usage %d/%d is above the ceiling of %.0f%%",
			used, limit, p.cfg.APIUsageCeiling*100)
	}
	return nil
}

// probeUntilResumed probes with growing delays until Salesforce answers and
// usage is below the ceiling, logging at most one line per probe delay.
func (p *Pool) probeUntilResumed(reason string) {
	b := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(p.cfg.ProbeInitial),
		backoff.WithMaxInterval(p.cfg.ProbeMax),
		backoff.WithMaxElapsedTime(0),
	)
	since := p.cfg.Now()
	for {
		wait := b.NextBackOff()
		select {
		case <-p.gate.quit:
			return
		case <-time.After(wait):
		}
		err := p.probe()
		if err == nil {
			p.noteSuccess()
			p.gate.resume()
			p.log.Info().Str("reason", reason).Dur("paused_for", p.cfg.Now().Sub(since)).
				Msg("resumed: probe succeeded")
			return
		}
		p.log.Warn().Str("reason", reason).Err(err).Dur("paused_for", p.cfg.Now().Sub(since)).
			Dur("next_probe_in", b.NextBackOff()).Msg("still paused")
	}
}

func (p *Pool) probe() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.sf.Probe(ctx); err != nil {
		return err
	}
	return p.usageError()
}
