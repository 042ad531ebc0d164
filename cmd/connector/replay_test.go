package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/callsummary/connector/worker"
	"github.com/callsummary/connector/worker/sqstest"
)

// replayQueues starts an SQS server with a source queue and its DLQ, points
// the AWS SDK's environment at it, and dead-letters one message per reason,
// call ids c-0, c-1, ... in order.
func replayQueues(t *testing.T, reasons ...string) (srv *sqstest.Server, source, dlq string) {
	t.Helper()
	srv = sqstest.New()
	base, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	source, _ = srv.CreateQueue("summaries", nil)
	dlq, _ = srv.CreateQueue("summaries-dlq", nil)

	dir := t.TempDir()
	for name, value := range map[string]string{
		"AWS_ENDPOINT_URL_SQS":        base,
		"AWS_REGION":                  "us-east-1",
		"AWS_ACCESS_KEY_ID":           "AKIDTEST",
		"AWS_SECRET_ACCESS_KEY":       "secret",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"SQS_DLQ_URL":                 dlq,
	} {
		t.Setenv(name, value)
	}

	client := sqs.New(sqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(base),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})
	for i, reason := range reasons {
		body := `{"clientCallId":"c-` + string(rune('0'+i)) + `","summary":"s"}`
		_, err := client.SendMessage(context.Background(), &sqs.SendMessageInput{
			QueueUrl: aws.String(dlq), MessageBody: aws.String(body),
			MessageAttributes: map[string]types.MessageAttributeValue{
				worker.AttrReason:      replayTestAttr("String", reason),
				worker.AttrFailedAt:    replayTestAttr("String", "2026-01-02T03:04:05Z"),
				worker.AttrAttempts:    replayTestAttr("Number", "1"),
				worker.AttrSourceQueue: replayTestAttr("String", source),
			},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return srv, source, dlq
}

func replayTestAttr(typ, value string) types.MessageAttributeValue {
	return types.MessageAttributeValue{DataType: aws.String(typ), StringValue: aws.String(value)}
}

// runReplayCommand runs "connector replay args..." and returns what it
// wrote to standard output and standard error.
func runReplayCommand(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	root := newRootCommand()
	root.SetArgs(append([]string{"replay"}, args...))
	root.SetOut(&out)
	root.SetErr(&errOut)
	err = root.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

func TestReplayCommandDryRunTable(t *testing.T) {
	srv, source, dlq := replayQueues(t, "NOT_FOUND", "INVALID_MESSAGE", "NOT_FOUND")

	stdout, _, err := runReplayCommand(t, "--dry-run", "--reason", "NOT_FOUND")

	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 4 {
		t.Fatalf("got %d lines, want a header, 2 rows and the summary:\n%s", len(lines), stdout)
	}
	if got, want := strings.Fields(lines[0]), []string{"MESSAGE", "ID", "CALL", "ID", "REASON",
		"FAILED", "AT", "REPLAYS", "DESTINATION", "OUTCOME"}; !slices.Equal(got, want) {
		t.Errorf("got header %q, want %q", got, want)
	}
	for i, callID := range []string{"c-0", "c-2"} {
		got := strings.Fields(lines[i+1])[1:]
		want := []string{callID, "NOT_FOUND", "2026-01-02T03:04:05Z", "1", source, "would-move"}
		if !slices.Equal(got, want) {
			t.Errorf("got row %q, want %q", got, want)
		}
	}
	if got, want := lines[3], "would move 2, skipped 1, failed 0"; got != want {
		t.Errorf("got summary %q, want %q", got, want)
	}
	if visible, inFlight, _ := srv.Counts(dlq); visible != 3 || inFlight != 0 {
		t.Errorf("got %d visible and %d in flight in the DLQ, want 3 and 0", visible, inFlight)
	}
}

func TestReplayCommandMoves(t *testing.T) {
	srv, source, dlq := replayQueues(t, "NOT_FOUND", "INVALID_MESSAGE")

	stdout, _, err := runReplayCommand(t)

	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	if got, want := stdout, "moved 2, skipped 0, failed 0\n"; got != want {
		t.Errorf("got output %q, want %q", got, want)
	}
	if got := len(srv.Messages(source)); got != 2 {
		t.Errorf("got %d messages in the source queue, want 2", got)
	}
	if got := len(srv.Messages(dlq)); got != 0 {
		t.Errorf("got %d messages left in the DLQ, want none", got)
	}
}

func TestReplayCommandJSON(t *testing.T) {
	replayQueues(t, "NOT_FOUND", "INVALID_MESSAGE")

	stdout, stderr, err := runReplayCommand(t, "--dry-run", "--json", "--call-id", "c-1")

	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	var ev worker.ReplayEvent
	if err := json.Unmarshal([]byte(stdout), &ev); err != nil {
		t.Fatalf("stdout is not one JSON line: %v\n%s", err, stdout)
	}
	if ev.CallID != "c-1" || ev.Reason != "INVALID_MESSAGE" || ev.Outcome != worker.ReplayWouldMove {
		t.Errorf("got %+v, want c-1 INVALID_MESSAGE would-move", ev)
	}
	if got, want := stderr, "would move 1, skipped 1, failed 0\n"; got != want {
		t.Errorf("got stderr %q, want %q", got, want)
	}
}

func TestReplayCommandFailsWhenSendsFail(t *testing.T) {
	srv, _, dlq := replayQueues(t, "NOT_FOUND")
	missing := srv.URL() + "/000000000000/no-such-queue"

	stdout, _, err := runReplayCommand(t, "--to", missing)

	var exit *exitError
	if !errors.As(err, &exit) || exit.code != 1 {
		t.Fatalf("got error %v, want exit code 1", err)
	}
	if !strings.Contains(stdout, "failed: send to "+missing) ||
		!strings.HasSuffix(stdout, "moved 0, skipped 0, failed 1\n") {
		t.Errorf("got output\n%s\nwant the failed message and the summary", stdout)
	}
	if got := len(srv.Messages(dlq)); got != 1 {
		t.Errorf("got %d messages in the DLQ, want the message kept", got)
	}
}

func TestReplayCommandNeedsDLQ(t *testing.T) {
	replayQueues(t)
	t.Setenv("SQS_DLQ_URL", "")

	_, _, err := runReplayCommand(t)

	if err == nil || !strings.Contains(err.Error(), "SQS_DLQ_URL") {
		t.Errorf("got %v, want an error naming SQS_DLQ_URL", err)
	}
}

func TestReplayCommandTakesDLQFromConfigFile(t *testing.T) {
	_, _, dlq := replayQueues(t, "NOT_FOUND")
	t.Setenv("SQS_DLQ_URL", "")
	path := filepath.Join(t.TempDir(), "connector.yaml")
	if err := os.WriteFile(path, []byte("SQS_DLQ_URL: "+dlq+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	out, errOut, err := runReplayCommand(t, "--dry-run", "--config", path)

	if err != nil || !strings.Contains(out+errOut, "would move 1") {
		t.Errorf("got %v\n%s%s\nwant one message listed from the file's DLQ", err, out, errOut)
	}
}

func TestReplayCommandRefusesTheDLQAsDestination(t *testing.T) {
	_, _, dlq := replayQueues(t, "NOT_FOUND")
	out, _, err := runReplayCommand(t, "--to", dlq+"/")
	if err == nil || !strings.Contains(err.Error(), "dead-letter queue itself") || out != "" {
		t.Errorf("got %v and output %q, want a refusal and nothing printed", err, out)
	}
}
