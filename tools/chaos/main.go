// Command chaos sends call summaries through real `connector run`
// processes while everything around them fails, and then checks that no
// summary was lost or written twice.
//
// An in-process SQS server and a fake Salesforce org are set up with
// faults: a fifth of the data calls fail transiently, a few records are
// locked, sessions expire every 500 calls, a hundredth of the deletes
// fail, and for one period the org refuses every call with
// REQUEST_LIMIT_EXCEEDED. Summaries are sent in append mode at a steady
// rate, several for some records, some for call ids no record has, some
// not summaries at all; meanwhile the worker is killed with SIGKILL three
// times and stopped with SIGTERM once, and restarted each time.
//
// Afterwards every message must have ended right: a valid summary's block
// exactly once in its record, an unknown call id in the dead-letter queue
// as NOT_FOUND, an invalid message there as INVALID_MESSAGE. The run prints
// one JSON line and exits 1 when any message did not, explaining the first
// ones with the worker log lines that name them. The seed fixes the
// messages, the moments of the disruptions and the delete faults; the
// fake org draws its faults on its own, and the timing of the processes
// differs from run to run.
//
// One worker runs at a time unless asked otherwise: --rolling makes the
// SIGTERM a rolling restart, the next worker starting before the old one
// drains, and --replicas runs further workers on the same queue all along,
// so that appends to one record race across processes.
//
//	go run ./tools/chaos --messages 10000 --seed 7
//	go run ./tools/chaos --messages 3000 --replicas 2 --rolling
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/callsummary/connector/tools/internal/pipeline"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// errFailed says that the run found messages that did not end right, or
// could not finish; the details were printed.
var errFailed = errors.New("the chaos run failed")

// execute runs the command with args and returns the exit code.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return pipeline.Execute(ctx, newCommand(), args, stdout, stderr)
}

func newCommand() *cobra.Command {
	o := defaultOptions()
	cmd := &cobra.Command{
		Use:   "chaos",
		Short: "Send summaries through the worker while everything fails, then check each",
		Long: "Run `connector run` against an in-process SQS server and a fake Salesforce\n" +
			"org that inject faults, kill and restart it, and check that every message\n" +
			"ended exactly once in its record or in the dead-letter queue with the right\n" +
			"reason. Prints one JSON line. Nothing listens beyond 127.0.0.1.",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := runChaos(cmd.Context(), o, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if err := pipeline.WriteJSONLine(cmd.OutOrStdout(), res); err != nil {
				return err
			}
			if res.failed() {
				return errFailed
			}
			return nil
		},
	}
	o.register(cmd)
	return cmd
}

// runChaos sets up the fakes and the plan, runs it and checks every
// message. An error means the run could not be set up; a run that went
// wrong is described in the result.
func runChaos(ctx context.Context, o options, progress io.Writer) (result, error) {
	if err := o.validate(); err != nil {
		return result{}, err
	}
	if err := prepareOut(o.out); err != nil {
		return result{}, err
	}
	if o.connector == "" {
		var err error
		if o.connector, err = pipeline.BuildConnector(ctx, o.out); err != nil {
			return result{}, err
		}
	}
	f := newFaults(o.seed)
	tb, err := pipeline.StartTestbed(pipeline.TestbedConfig{
		Name:            "chaos",
		Latency:         o.latency,
		QueueAttributes: map[string]string{"VisibilityTimeout": visibilitySeconds(o)},
		WrapData:        f.answers.wrap,
	})
	if err != nil {
		return result{}, err
	}
	defer tb.Close()

	p := newPlan(o.messages, o.seed)
	p.seed(tb.Org)
	f.inject(tb.Org, tb.SQS)
	r := newRun(o, tb, p, f, progress)
	fmt.Fprintf(progress, "chaos: %d messages for %d records at %.0f/s, seed %d, logs in %s\n",
		len(p.messages), len(p.records), o.rate, o.seed, o.out)
	runErr := r.execute(ctx)
	return r.measure(runErr)
}

// prepareOut creates the output directory and removes the worker logs of
// an earlier run, so that every log there is this run's.
func prepareOut(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	old, err := filepath.Glob(filepath.Join(dir, "worker-*.log"))
	if err != nil {
		return fmt.Errorf("old worker logs: %w", err)
	}
	for _, path := range old {
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("old worker logs: %w", err)
		}
	}
	return nil
}

func visibilitySeconds(o options) string {
	return strconv.Itoa(int(o.visibility / time.Second))
}

// measure checks every message and fills the result; the faults are
// turned off first, so that nothing changes while it reads.
func (r *run) measure(runErr error) (result, error) {
	r.tb.SQS.FailEntries(nil)
	res := result{
		Seed: r.o.seed, Messages: len(r.p.messages), Records: len(r.p.records),
		Unknown: r.p.count(kindUnknown), Invalid: r.p.count(kindInvalid),
		Replicas: r.o.replicas, Rolling: r.o.rolling, Kills: r.kills, Terms: r.terms,
		Restarts:        r.starts - r.o.replicas,
		UnexpectedExits: len(r.unexpected),
		Faults:          r.f.counts(),
	}
	if !r.began.IsZero() {
		res.Seconds = pipeline.Round(r.finished.Sub(r.began).Seconds(), 1)
	}
	calls := r.tb.Org.Calls()
	res.APICalls, res.TokenCalls = calls.API, calls.Token

	t := verify(r.p, r.tb.Org, r.tb.SQS.Messages(r.tb.DLQURL))
	res.Applied, res.DeadLettered = t.applied, t.deadLettered
	res.Lost, res.Duplicated, res.WrongReason = t.lost, t.duplicated, t.wrongReason
	res.CorruptRecords = t.corruptRecords
	res.UnexpectedDeadLetters = t.unexpectedDeadLetters
	res.ExtraDeadLetters = t.extraDeadLetters

	logs, err := readLogs(r.logs)
	if err != nil {
		return res, err
	}
	res.Outcomes, res.Pauses = logs.outcomes, logs.pauses
	res.Error = r.problems(runErr, res)
	explain(r.progress, r.p, t, r.logs)
	return res, nil
}

// problems joins what went wrong with the run itself, beyond the
// verdicts: an error, a SIGTERM that did not end in status 0, no pause for
// the limit period.
func (r *run) problems(runErr error, res result) string {
	errs := []error{runErr, r.termErr}
	if res.limitPauses() == 0 && runErr == nil {
		errs = append(errs, errors.New("no worker paused for REQUEST_LIMIT_EXCEEDED"))
	}
	for _, u := range r.unexpected {
		errs = append(errs, errors.New(u))
	}
	if err := errors.Join(errs...); err != nil {
		return err.Error()
	}
	return ""
}
