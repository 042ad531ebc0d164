package pipeline

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// PollInterval is how often the tools look at queues, records and
// readiness while they wait for a condition.
const PollInterval = 10 * time.Millisecond

// connectorPackage is the worker's main package.
const connectorPackage = "github.com/callsummary/connector/cmd/connector"

// BuildConnector builds the worker into dir and returns the binary's
// absolute path.
func BuildConnector(ctx context.Context, dir string) (string, error) {
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

// Worker is a running `connector run` writing its standard output and
// error into one log file. Its methods are safe for concurrent use.
type Worker struct {
	cmd     *exec.Cmd
	log     *os.File
	started time.Time // just before the process was started

	exited  chan struct{} // closed once the process has been waited for
	exitErr error         // nil for exit status 0; read only after exited is closed
}

// StartWorker starts binary's run command with exactly env as its
// environment and its output in a new file at logPath. attach, when not
// nil, is called with the process id before the process can be reaped, so
// that it may open /proc/<pid>; if it fails, the worker is killed.
func StartWorker(binary string, env []string, logPath string,
	attach func(pid int) error) (*Worker, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("worker log: %w", err)
	}
	cmd := exec.Command(binary, "run")
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = log, log
	w := &Worker{cmd: cmd, log: log, exited: make(chan struct{})}

	w.started = time.Now()
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start worker: %w", err)
	}
	if attach != nil {
		err = attach(cmd.Process.Pid)
	}
	go w.wait()
	if err != nil {
		_ = cmd.Process.Kill()
		<-w.exited
		return nil, err
	}
	return w, nil
}

func (w *Worker) wait() {
	if err := w.cmd.Wait(); err != nil {
		w.exitErr = fmt.Errorf("worker exited: %w", err)
	}
	w.log.Close()
	close(w.exited)
}

// Started is when the process was started.
func (w *Worker) Started() time.Time { return w.started }

// Exited is closed once the process has exited and its log is closed.
func (w *Worker) Exited() <-chan struct{} { return w.exited }

// Err is how the process exited: nil for status 0. Call it once Exited is
// closed.
func (w *Worker) Err() error { return w.exitErr }

// ErrOrZero is how the process exited as an error, also for status 0, for
// a worker that was not asked to exit. Call it once Exited is closed.
func (w *Worker) ErrOrZero() error {
	if w.exitErr != nil {
		return w.exitErr
	}
	return errors.New("worker exited with status 0")
}

// Stop sends SIGTERM, which makes the worker drain and exit, and waits for
// it. After grace it kills the worker and says so. An exit status other
// than 0 is an error, the same value each time it is reported.
func (w *Worker) Stop(grace time.Duration) error {
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

// Kill sends SIGKILL and waits until the process is gone. It reports an
// error only when the signal could not be sent to a running process.
func (w *Worker) Kill() error {
	err := w.cmd.Process.Kill()
	<-w.exited
	if err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill worker: %w", err)
	}
	return nil
}

// CPUTime is the user and system time the process consumed; zero until it
// has exited.
func (w *Worker) CPUTime() time.Duration {
	select {
	case <-w.exited:
	default:
		return 0
	}
	st := w.cmd.ProcessState
	return st.UserTime() + st.SystemTime()
}

// AwaitReady polls the worker's /readyz at addr until it answers 200.
func (w *Worker) AwaitReady(ctx context.Context, addr string) error {
	if addr == "" {
		return errors.New("no METRICS_ADDR for the worker, so its readiness is unknown")
	}
	tick := time.NewTicker(PollInterval)
	defer tick.Stop()
	for {
		if Ready(ctx, addr) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("worker not ready at %s: %w", addr, ctx.Err())
		case <-w.exited:
			return fmt.Errorf("before it was ready: %w", w.ErrOrZero())
		case <-tick.C:
		}
	}
}

// readyClient asks workers whether they are ready.
var readyClient = &http.Client{Timeout: time.Second}

// Ready reports whether the worker serving its health endpoint at addr
// answers /readyz with 200: it runs, is not paused and can receive.
func Ready(ctx context.Context, addr string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/readyz", nil)
	if err != nil {
		return false
	}
	resp, err := readyClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// FreeLoopbackAddr returns 127.0.0.1 with a port that is free right now,
// for the worker's health endpoint. Should another process take the port
// first, the worker fails to start and its log says why.
func FreeLoopbackAddr() (string, error) {
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
