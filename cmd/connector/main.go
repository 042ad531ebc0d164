// Command connector moves call summaries from an SQS queue into Salesforce
// records. Subcommands: run (the worker), check (the setup, line by line),
// replay (dead-lettered messages back to their queue), send (put summaries
// on a queue), demo (everything in one process against local fakes).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// exitError carries a process exit code out of a command without printing
// usage again.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal starts a graceful stop; giving the signals back to
	// the runtime then lets a second one end the process at once.
	context.AfterFunc(ctx, stop)
	os.Exit(execute(ctx, os.Args[1:]))
}

func execute(ctx context.Context, args []string) int {
	root := newRootCommand()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(os.Stderr, "connector:", err)
	var exit *exitError
	if errors.As(err, &exit) {
		return exit.code
	}
	return 1
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "connector",
		Short:         "Write call summaries from SQS into Salesforce records",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	configPath := root.PersistentFlags().String("config", "",
		"YAML file of settings named like the environment variables; the environment wins")
	root.AddCommand(newRunCommand(configPath), newSendCommand(configPath), newDemoCommand())
	root.AddCommand(newCheckCommand(configPath))
	root.AddCommand(newFakeSalesforceCommand())
	root.AddCommand(newReplayCommand(configPath))
	return root
}
