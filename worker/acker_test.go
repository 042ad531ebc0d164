package worker

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/rs/zerolog"

	"github.com/callsummary/connector/worker/sqstest"
)

// ackerEnv is an acker over a queue of the in-process SQS server.
type ackerEnv struct {
	srv    *sqstest.Server
	client *sqs.Client
	url    string
	stats  *Stats
	logs   *strings.Builder
	acks   *acker
}

func newAckerEnv(t *testing.T) *ackerEnv {
	t.Helper()
	srv := sqstest.New()
	endpoint, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	url, err := srv.CreateQueue("acks", nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("k", "s", "")))
	if err != nil {
		t.Fatal(err)
	}
	client := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(endpoint) })
	e := &ackerEnv{srv: srv, client: client, url: url, stats: newStats(), logs: new(strings.Builder)}
	e.acks = newAcker(client, Config{QueueURL: url}.withDefaults(), zerolog.New(e.logs), e.stats)
	return e
}

// receiveTwice sends one message and receives it twice, so that two
// receipt handles of the same message exist, as after a redelivery.
func (e *ackerEnv) receiveTwice(t *testing.T) (first, second types.Message) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(e.url), MessageBody: aws.String("body")}); err != nil {
		t.Fatal(err)
	}
	var got []types.Message
	for range 2 {
		out, err := e.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(e.url), WaitTimeSeconds: 1})
		if err != nil || len(out.Messages) != 1 {
			t.Fatalf("receive: %v, %v", err, out)
		}
		m := out.Messages[0]
		got = append(got, m)
		// Visible again at once: the next receive is a redelivery.
		if _, err := e.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
			QueueUrl: aws.String(e.url), ReceiptHandle: m.ReceiptHandle}); err != nil {
			t.Fatal(err)
		}
	}
	if aws.ToString(got[0].MessageId) != aws.ToString(got[1].MessageId) {
		t.Fatal("the two receives returned different messages")
	}
	return got[0], got[1]
}

// TestDeleteBatchTakesOneMessageTwice deletes both receipts of one message
// in one batch: entry ids must differ although the message is the same,
// or SQS refuses the whole batch.
func TestDeleteBatchTakesOneMessageTwice(t *testing.T) {
	e := newAckerEnv(t)
	first, second := e.receiveTwice(t)
	e.acks.delete(first)
	e.acks.delete(second)
	e.acks.start()
	e.acks.stop()

	calls := e.srv.Calls()
	if calls["DeleteMessageBatch"] != 1 || calls["DeleteMessage"] != 0 {
		t.Errorf("calls %v, want one batch and no single deletes", calls)
	}
	if strings.Contains(e.logs.String(), "batch delete failed") {
		t.Errorf("the batch was refused:\n%s", e.logs)
	}
	if v, f, _ := e.srv.Counts(e.url); v+f != 0 {
		t.Errorf("queue holds %d messages, want none", v+f)
	}
}

// TestExpiredReceiptIsCountedNotRetried deletes with a receipt handle SQS
// no longer honours: it is logged and counted once, never retried.
func TestExpiredReceiptIsCountedNotRetried(t *testing.T) {
	e := newAckerEnv(t)
	first, _ := e.receiveTwice(t)
	stale := first
	stale.ReceiptHandle = aws.String(aws.ToString(first.ReceiptHandle) + "-expired")
	e.acks.delete(stale)
	e.acks.start()
	e.acks.stop()

	if got := e.stats.snapshot().StaleReceipts; got != 1 {
		t.Errorf("stale receipts = %d, want 1", got)
	}
	if calls := e.srv.Calls(); calls["DeleteMessage"] != 0 || calls["DeleteMessageBatch"] != 1 {
		t.Errorf("calls %v, want one batch and no retry", calls)
	}
	if !strings.Contains(e.logs.String(), "receipt handle no longer valid") {
		t.Errorf("no log line for the stale receipt:\n%s", e.logs)
	}
}
