// Command bench measures the whole pipeline: an in-process SQS server, a
// fake Salesforce org and the worker as a real `connector run` subprocess,
// so that the worker's peak memory and CPU time are its own.
//
// Each scenario gets a fresh org, fresh queues and a fresh worker. A
// backlog scenario fills the queue before the worker starts; a trickle
// scenario sends one message per interval to a worker that is ready. Every
// finished scenario prints one JSON line on standard output, and a table
// follows at the end. The run exits 1 when a scenario did not finish within
// its deadline or the worker failed; it measures, and does not judge speed.
//
//	go run ./tools/bench --messages 2000 --trickle-messages 30
//	go run ./tools/bench --scenario backlog-append --lookup soql
//	go run ./tools/bench --env SF_BATCH_SIZE=50 --env WORKER_CONCURRENCY=32
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/callsummary/connector/tools/internal/pipeline"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// errFailed says that at least one scenario failed; the details were
// printed as the scenario ended.
var errFailed = errors.New("at least one scenario failed")

// execute runs the command with args and returns the exit code.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return pipeline.Execute(ctx, newCommand(), args, stdout, stderr)
}

func newCommand() *cobra.Command {
	o := defaultOptions()
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the worker end to end against local fakes",
		Long: "Run each scenario against an in-process SQS server and a fake Salesforce\n" +
			"org, with `connector run` as a subprocess configured by environment\n" +
			"variables. Prints one JSON line per scenario, then a table. Nothing\n" +
			"listens beyond 127.0.0.1.",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBench(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	o.register(cmd)
	return cmd
}

// runBench checks the options, builds the worker when asked to, and runs
// the selected scenarios in order.
func runBench(ctx context.Context, o options, stdout, stderr io.Writer) (err error) {
	scenarios, err := o.validate()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	if o.connector == "" {
		if o.connector, err = pipeline.BuildConnector(ctx, o.out); err != nil {
			return err
		}
	}
	if o.cpuProfile != "" {
		stopProfile, err := startCPUProfile(o.cpuProfile)
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, stopProfile()) }()
	}
	return runScenarios(ctx, o, scenarios, stdout, stderr)
}

// runScenarios runs each scenario, prints its JSON line as it ends and the
// table after the last. A failed scenario does not stop the others; an
// interrupt does.
func runScenarios(ctx context.Context, o options, scenarios []scenario,
	stdout, stderr io.Writer) error {
	var results []result
	failed := false
	for _, sc := range scenarios {
		res, err := runScenario(ctx, o, sc, stderr)
		if err != nil {
			failed = true
			res.Error = err.Error()
			reportFailure(stderr, sc, err, logPath(o, sc))
		}
		if err := pipeline.WriteJSONLine(stdout, res); err != nil {
			return err
		}
		results = append(results, res)
		if ctx.Err() != nil {
			break
		}
	}
	if err := writeTable(stdout, results); err != nil {
		return err
	}
	if failed {
		return errFailed
	}
	return ctx.Err()
}

// startCPUProfile profiles the bench process, which hosts the SQS server
// and the fake org, until the returned function is called.
func startCPUProfile(path string) (func() error, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		return nil
	}, nil
}
