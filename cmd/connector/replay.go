package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/callsummary/connector/worker"
)

type replayOptions struct {
	worker.ReplayOptions
	json bool
}

func newReplayCommand(configPath *string) *cobra.Command {
	var o replayOptions
	cmd := &cobra.Command{
		Use:   "replay",
		Short: "Move dead-lettered messages back to the queue they came from",
		Long: "Replay receives from the dead-letter queue and sends each matching message " +
			"back to its source queue (connector.source-queue) or to --to, with its body and " +
			"upstream attributes and a connector.replays counter, and deletes it from the " +
			"dead-letter queue once the destination has accepted the copy. Messages that do " +
			"not match the filters stay in the dead-letter queue.\n\n" +
			"AWS settings (region, credentials, AWS_ENDPOINT_URL_SQS) come from the AWS SDK's " +
			"default chain. The exit code is 1 when any message failed to move.",
		Example: `  connector replay --dry-run
  connector replay --reason NOT_FOUND --older-than 30m
  connector replay --call-id c-123 --to https://sqs.eu-west-1.amazonaws.com/123456789012/retry`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := fileSetting(*configPath, "SQS_DLQ_URL", &o.DLQURL); err != nil {
				return err
			}
			return runReplay(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.DLQURL, "dlq", os.Getenv("SQS_DLQ_URL"),
		"dead-letter queue URL (default $SQS_DLQ_URL, else SQS_DLQ_URL of --config)")
	f.StringVar(&o.To, "to", "", "send every message to this queue URL instead of its source")
	f.StringVar(&o.Reason, "reason", "", "only messages with this connector.reason, e.g. NOT_FOUND")
	f.StringVar(&o.CallID, "call-id", "", "only messages with this clientCallId")
	f.DurationVar(&o.OlderThan, "older-than", 0,
		"only messages dead-lettered at least this long ago, e.g. 30m or 48h")
	f.IntVar(&o.Max, "max", 0, "move at most this many messages (0: no limit)")
	f.BoolVar(&o.DryRun, "dry-run", false, "move nothing; list what would move")
	f.BoolVar(&o.json, "json", false, "list messages as JSON lines instead of a table")
	return cmd
}

func runReplay(ctx context.Context, o replayOptions, out, errOut io.Writer) error {
	if o.DLQURL == "" {
		return errors.New("replay: no dead-letter queue: set --dlq, SQS_DLQ_URL or --config")
	}
	if o.Max < 0 || o.OlderThan < 0 {
		return errors.New("replay: --max and --older-than must not be negative")
	}
	if err := o.Check(); err != nil {
		return err
	}
	client, err := newSQSClient(ctx, 30*time.Second)
	if err != nil {
		return err
	}
	waiting, err := queueDepth(ctx, client, o.DLQURL)
	if err != nil {
		return err
	}

	bar := newReplayBar(errOut, waiting)
	report, err := worker.Replay(ctx, client, o.ReplayOptions, func(worker.ReplayEvent) {
		advance(bar)
	})
	bar.Finish()

	if perr := printReplay(o, report, out, errOut); perr != nil && err == nil {
		err = perr
	}
	if errors.Is(err, context.Canceled) {
		return errors.New("replay: interrupted; the summary above counts what was done")
	}
	if err != nil {
		return err
	}
	if report.Failed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("replay: %d of the messages failed to "+
			"move; the dead-letter queue still holds them", report.Failed)}
	}
	return nil
}

// queueDepth returns the approximate number of visible messages in a queue,
// which also proves that the queue is there and reachable.
func queueDepth(ctx context.Context, c *sqs.Client, queueURL string) (int, error) {
	name := types.QueueAttributeNameApproximateNumberOfMessages
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(queueURL),
		AttributeNames: []types.QueueAttributeName{name},
	})
	if err != nil {
		return 0, fmt.Errorf("replay: dead-letter queue %s: %w", queueURL, err)
	}
	n, _ := strconv.Atoi(out.Attributes[string(name)])
	return n, nil
}

// newReplayBar returns a progress bar over the messages in the dead-letter
// queue, drawn on w when it is a terminal and silent otherwise.
func newReplayBar(w io.Writer, total int) *progressbar.ProgressBar {
	if total <= 0 {
		total = -1 // unknown: a spinner
	}
	return progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetVisibility(onTerminal(w)),
		progressbar.OptionSetDescription("replaying"),
		progressbar.OptionShowCount(),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100*time.Millisecond),
	)
}

// advance counts one more message on the bar, raising its total when more
// messages arrived than the queue held at the start.
func advance(bar *progressbar.ProgressBar) {
	if max := bar.GetMax64(); max > 0 && bar.State().CurrentNum >= max {
		bar.ChangeMax64(max + 1)
	}
	bar.Add(1)
}

func onTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// printReplay writes the messages (all of a dry run, the failed ones of a
// real run) as a table or JSON lines, and the summary line last. With
// --json the summary goes to errOut, so that out holds only JSON.
func printReplay(o replayOptions, r worker.ReplayReport, out, errOut io.Writer) error {
	listed := r.Messages
	if !o.DryRun && !o.json {
		listed = troubled(listed)
	}
	summaryOut := out
	var err error
	if o.json {
		summaryOut = errOut
		err = writeReplayJSON(out, listed)
	} else if len(listed) > 0 {
		err = writeReplayTable(out, listed)
	}
	fmt.Fprintln(summaryOut, replaySummary(r, o.DryRun))
	return err
}

// troubled returns the messages that did not move.
func troubled(events []worker.ReplayEvent) []worker.ReplayEvent {
	var out []worker.ReplayEvent
	for _, ev := range events {
		if ev.Outcome != worker.ReplayMoved {
			out = append(out, ev)
		}
	}
	return out
}

func writeReplayTable(w io.Writer, events []worker.ReplayEvent) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MESSAGE ID\tCALL ID\tREASON\tFAILED AT\tREPLAYS\tDESTINATION\tOUTCOME")
	for _, ev := range events {
		outcome := string(ev.Outcome)
		if ev.Error != "" {
			outcome += ": " + ev.Error
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", ev.MessageID, orDash(ev.CallID),
			orDash(ev.Reason), formatFailedAt(ev.FailedAt), ev.Replays, orDash(ev.Destination),
			outcome)
	}
	return tw.Flush()
}

func writeReplayJSON(w io.Writer, events []worker.ReplayEvent) error {
	enc := json.NewEncoder(w)
	for _, ev := range events {
		if err := enc.Encode(ev); err != nil {
			return fmt.Errorf("replay: write json: %w", err)
		}
	}
	return nil
}

// replaySummary is the last line of a run: "moved 12, skipped 3, failed 0".
func replaySummary(r worker.ReplayReport, dryRun bool) string {
	verb := "moved"
	if dryRun {
		verb = "would move"
	}
	s := fmt.Sprintf("%s %d, skipped %d, failed %d", verb, r.Moved, r.Skipped, r.Failed)
	if r.NoDestination > 0 {
		s += fmt.Sprintf(", no destination %d (use --to)", r.NoDestination)
	}
	return s
}

func formatFailedAt(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
