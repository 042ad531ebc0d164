package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"
)

// connectorPackage is the worker's main package, built when no binary is
// given.
const connectorPackage = "github.com/callsummary/connector/cmd/connector"

// buildConnector builds the worker into dir and returns the binary's
// absolute path.
func buildConnector(ctx context.Context, dir string) (string, error) {
	path, err := filepath.Abs(filepath.Join(dir, "connector"))
	if err != nil {
		return "", fmt.Errorf("build worker: %w", err)
	}
	out, err := exec.CommandContext(ctx, "go", "build", "-o", path, connectorPackage).
		CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("build worker: %w\n%s", err, out)
	}
	return path, nil
}

// workerProcess is a running `connector run` writing its standard output
// and error into one log file.
type workerProcess struct {
	cmd     *exec.Cmd
	log     *os.File
	started time.Time // just before the process was started

	exited  chan struct{} // closed once the process has been waited for
	exitErr error         // nil for exit status 0; read only after exited is closed
	peakKiB atomic.Int64  // peak resident set size, as last sampled
}

// startWorker starts binary's run command with exactly env as its
// environment and its output in a new file at logPath.
func startWorker(binary string, env []string, logPath string) (*workerProcess, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("worker log: %w", err)
	}
	cmd := exec.Command(binary, "run")
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = log, log
	w := &workerProcess{cmd: cmd, log: log, exited: make(chan struct{})}

	w.started = time.Now()
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start worker: %w", err)
	}
	probe, err := openRSSProbe(cmd.Process.Pid)
	go w.wait()
	if err != nil {
		_ = cmd.Process.Kill()
		<-w.exited
		return nil, err
	}
	go w.watchRSS(probe)
	return w, nil
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
		case <-w.exited:
			return
		case <-tick.C:
		}
	}
}

func (w *workerProcess) wait() {
	if err := w.cmd.Wait(); err != nil {
		w.exitErr = fmt.Errorf("worker exited: %w", err)
	}
	w.log.Close()
	close(w.exited)
}

// stop sends SIGTERM, which makes the worker drain and exit, and waits for
// it. After grace it kills the worker and says so. An exit status other
// than 0 is an error, the same value each time it is reported.
func (w *workerProcess) stop(grace time.Duration) error {
	select {
	case <-w.exited:
		return w.exitErr
	default:
	}
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil &&
		!errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop worker: %w", err)
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-w.exited:
		return w.exitErr
	case <-timer.C:
		_ = w.cmd.Process.Kill() // it may have exited meanwhile
		<-w.exited
		return fmt.Errorf("worker still running %s after SIGTERM; killed", grace)
	}
}

// awaitReady polls the worker's /readyz at addr until it answers 200.
func (w *workerProcess) awaitReady(ctx context.Context, addr string) error {
	if addr == "" {
		return errors.New("no METRICS_ADDR for the worker, so its readiness is unknown")
	}
	client := &http.Client{Timeout: time.Second}
	url := "http://" + addr + "/readyz"
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		if answersOK(ctx, client, url) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("worker not ready at %s: %w", url, ctx.Err())
		case <-w.exited:
			return fmt.Errorf("before it was ready: %w", w.exitErrOrZero())
		case <-tick.C:
		}
	}
}

// exitErrOrZero is how the worker exited as an error, also for exit
// status 0. Call it once exited is closed.
func (w *workerProcess) exitErrOrZero() error {
	if w.exitErr != nil {
		return w.exitErr
	}
	return errors.New("worker exited with status 0")
}

func answersOK(ctx context.Context, client *http.Client, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// workerUsage is what the worker process consumed in all.
type workerUsage struct {
	peakRSSMiB float64
	cpuSeconds float64 // user and system
}

// usage reads the worker's resource usage; zero until it has exited.
func (w *workerProcess) usage() workerUsage {
	select {
	case <-w.exited:
	default:
		return workerUsage{}
	}
	st := w.cmd.ProcessState
	return workerUsage{
		peakRSSMiB: float64(w.peakKiB.Load()) / 1024,
		cpuSeconds: (st.UserTime() + st.SystemTime()).Seconds(),
	}
}

// freeLoopbackAddr returns 127.0.0.1 with a port that is free right now,
// for the worker's health endpoint. Should another process take the port
// first, the worker fails to start and its log says why.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	return addr, nil
}
