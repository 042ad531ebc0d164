package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/spf13/cobra"

	"github.com/callsummary/connector/worker"
)

type sendOptions struct {
	queueURL     string
	callID       string
	summary      string
	summaryID    string
	occurredAt   string
	file         string
	allowInvalid bool
}

func newSendCommand(configPath *string) *cobra.Command {
	var o sendOptions
	cmd := &cobra.Command{
		Use:   "send",
		Short: "Put one summary, or a JSON-lines file of them, on a queue",
		Example: `  connector send --call-id c-123 --summary "Customer asked for a refund."
  connector send --file summaries.jsonl
  cat summaries.jsonl | connector send --file -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := fileSetting(*configPath, "SQS_QUEUE_URL", &o.queueURL); err != nil {
				return err
			}
			return runSend(cmd.Context(), o, cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.queueURL, "queue-url", os.Getenv("SQS_QUEUE_URL"),
		"queue URL (default $SQS_QUEUE_URL, else SQS_QUEUE_URL of --config)")
	f.StringVar(&o.callID, "call-id", "", "clientCallId of one summary")
	f.StringVar(&o.summary, "summary", "", "summary text of one summary")
	f.StringVar(&o.summaryID, "summary-id", "", "summaryId (default: derived from call id and text)")
	f.StringVar(&o.occurredAt, "occurred-at", "", "RFC 3339 time of the call")
	f.StringVar(&o.file, "file", "", "JSON-lines file of message bodies, - for standard input")
	f.BoolVar(&o.allowInvalid, "allow-invalid", false,
		"send lines that the worker would dead-letter as INVALID_MESSAGE (for testing)")
	return cmd
}

func runSend(ctx context.Context, o sendOptions, stdin io.Reader, out io.Writer) error {
	if o.queueURL == "" {
		return errors.New("send: no queue: set --queue-url, SQS_QUEUE_URL or --config")
	}
	bodies, err := sendBodies(o, stdin)
	if err != nil {
		return err
	}
	client, err := newSQSClient(ctx, 30*time.Second)
	if err != nil {
		return err
	}
	sent, err := sendAll(ctx, client, o.queueURL, bodies)
	fmt.Fprintf(out, "sent %d of %d messages to %s\n", sent, len(bodies), o.queueURL)
	return err
}

// sendBodies returns the message bodies to send, checked as the worker would
// parse them unless invalid ones are allowed.
func sendBodies(o sendOptions, stdin io.Reader) ([]string, error) {
	switch {
	case o.file != "" && (o.callID != "" || o.summary != ""):
		return nil, errors.New("send: use either --file or --call-id and --summary")
	case o.file != "":
		return readLines(o.file, stdin, o.allowInvalid)
	case o.callID == "" || o.summary == "":
		return nil, errors.New("send: --call-id and --summary are required (or --file)")
	}
	body, err := json.Marshal(map[string]string{
		"clientCallId": o.callID, "summary": o.summary,
		"summaryId": o.summaryID, "occurredAt": o.occurredAt,
	})
	if err != nil {
		return nil, err
	}
	b := dropEmpty(body)
	if _, err := worker.ParseMessage([]byte(b)); err != nil {
		return nil, fmt.Errorf("send: %w", err)
	}
	return []string{b}, nil
}

// dropEmpty removes the optional keys left empty from a flat JSON object.
func dropEmpty(body []byte) string {
	var m map[string]string
	_ = json.Unmarshal(body, &m)
	for k, v := range m {
		if v == "" {
			delete(m, k)
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func readLines(path string, stdin io.Reader, allowInvalid bool) ([]string, error) {
	r := stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("send: %w", err)
		}
		defer f.Close()
		r = f
	}
	var bodies, problems []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), maxLineBytes)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\uFEFF"))
		if line == "" {
			continue
		}
		if _, err := worker.ParseMessage([]byte(line)); err != nil && !allowInvalid {
			problems = append(problems, fmt.Sprintf("line %d: %v", n, err))
		}
		bodies = append(bodies, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("send: %s: line %d: %w (a line may hold at most %d bytes)",
			path, n+1, err, maxLineBytes)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("send: nothing sent; %d invalid lines (use --allow-invalid to "+
			"send them anyway):\n  %s", len(problems), strings.Join(problems, "\n  "))
	}
	return bodies, nil
}

// maxLineBytes is the longest JSON line send reads: the SQS message limit.
const maxLineBytes = 1 << 20

// sendAll sends bodies in batches of ten and reports how many SQS accepted.
func sendAll(ctx context.Context, c *sqs.Client, queueURL string, bodies []string) (int, error) {
	sent := 0
	for start := 0; start < len(bodies); start += 10 {
		batch := bodies[start:min(start+10, len(bodies))]
		n, err := sendBatch(ctx, c, queueURL, batch)
		sent += n
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

func sendBatch(ctx context.Context, c *sqs.Client, queueURL string, batch []string) (int, error) {
	entries := make([]types.SendMessageBatchRequestEntry, len(batch))
	for i, b := range batch {
		entries[i] = types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(b)}
	}
	out, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: entries})
	if err != nil {
		return 0, fmt.Errorf("send: %w", err)
	}
	if len(out.Failed) > 0 {
		f := out.Failed[0]
		return len(out.Successful), fmt.Errorf("send: %d messages refused, first: %s %s",
			len(out.Failed), aws.ToString(f.Code), aws.ToString(f.Message))
	}
	return len(out.Successful), nil
}
