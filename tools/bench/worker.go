package main

import (
	"sync/atomic"
	"time"

	"github.com/callsummary/connector/tools/internal/pipeline"
)

// workerProcess is a running worker whose peak memory is sampled.
type workerProcess struct {
	*pipeline.Worker
	peakKiB atomic.Int64 // peak resident set size, as last sampled
}

// startWorker starts binary's run command with exactly env as its
// environment and its output in a new file at logPath, and watches its
// memory.
func startWorker(binary string, env []string, logPath string) (*workerProcess, error) {
	var probe *rssProbe
	w, err := pipeline.StartWorker(binary, env, logPath, func(pid int) error {
		var err error
		probe, err = openRSSProbe(pid)
		return err
	})
	if err != nil {
		return nil, err
	}
	wp := &workerProcess{Worker: w}
	go wp.watchRSS(probe)
	return wp, nil
}

// rssInterval is how often the worker's peak memory is sampled. The kernel
// keeps the peak, so a sample misses at most what the worker grew since
// the one before.
const rssInterval = 5 * time.Millisecond

// watchRSS samples the worker's peak resident set size until it exits.
func (w *workerProcess) watchRSS(probe *rssProbe) {
	defer probe.close()
	tick := time.NewTicker(rssInterval)
	defer tick.Stop()
	for {
		if kib, ok := probe.peakKiB(); ok {
			w.peakKiB.Store(kib)
		}
		select {
		case <-w.Exited():
			return
		case <-tick.C:
		}
	}
}

// workerUsage is what the worker process consumed in all.
type workerUsage struct {
	peakRSSMiB float64
	cpuSeconds float64 // user and system
}

// usage reads the worker's resource usage; zero until it has exited.
func (w *workerProcess) usage() workerUsage {
	select {
	case <-w.Exited():
	default:
		return workerUsage{}
	}
	return workerUsage{
		peakRSSMiB: float64(w.peakKiB.Load()) / 1024,
		cpuSeconds: w.CPUTime().Seconds(),
	}
}
