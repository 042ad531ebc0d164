package sqstest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

// newClient returns the real SQS client pointed at endpoint, as a worker
// would configure it, with static credentials.
func newClient(endpoint string, opts ...func(*sqs.Options)) *sqs.Client {
	return sqs.New(sqs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	}, opts...)
}

// startServer starts a Server for one test and a client for it.
func startServer(t *testing.T) (*Server, *sqs.Client) {
	t.Helper()
	s := New()
	base, err := s.Start()
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(s.Close)
	return s, newClient(base)
}

// mustCreate creates a queue through the Go API.
func mustCreate(t *testing.T, s *Server, name string, attrs map[string]string) string {
	t.Helper()
	u, err := s.CreateQueue(name, attrs)
	if err != nil {
		t.Fatalf("create queue %s: %v", name, err)
	}
	return u
}

// testContext is a context that ends with the test, bounded so a hang
// fails instead of stalling the suite.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// errorCode returns the SDK's error code of err, or "" when err is not an
// API error.
func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stringAttr and binaryAttr build SDK message attribute values.
func stringAttr(dataType, v string) types.MessageAttributeValue {
	return types.MessageAttributeValue{DataType: aws.String(dataType), StringValue: aws.String(v)}
}

func binaryAttr(v []byte) types.MessageAttributeValue {
	return types.MessageAttributeValue{DataType: aws.String("Binary"), BinaryValue: v}
}

// fromSDK converts SDK attribute values to this package's form, for
// comparing.
func fromSDK(in map[string]types.MessageAttributeValue) map[string]MessageAttribute {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]MessageAttribute, len(in))
	for name, v := range in {
		out[name] = MessageAttribute{
			DataType:    aws.ToString(v.DataType),
			StringValue: aws.ToString(v.StringValue),
			BinaryValue: v.BinaryValue,
		}
	}
	return out
}

// receiveOne receives at most one message without waiting, or with the
// given wait in seconds.
func receiveOne(ctx context.Context, t *testing.T, c *sqs.Client, queueURL string,
	wait int32) *types.Message {
	t.Helper()
	out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(queueURL),
		WaitTimeSeconds:             wait,
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{"All"},
	})
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	if len(out.Messages) == 0 {
		return nil
	}
	return &out.Messages[0]
}

// send sends one message with a plain body.
func send(ctx context.Context, t *testing.T, c *sqs.Client, queueURL, body string) string {
	t.Helper()
	out, err := c.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(queueURL), MessageBody: aws.String(body)})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	return aws.ToString(out.MessageId)
}

// release makes a received message visible again at once.
func release(ctx context.Context, t *testing.T, c *sqs.Client, queueURL string, m *types.Message) {
	t.Helper()
	_, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(queueURL), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0})
	if err != nil {
		t.Fatalf("change visibility to 0: %v", err)
	}
}

// wantAs fails unless err matches target's type, like errors.As.
func wantAs(t *testing.T, err error, target any) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %T", target)
	}
	if !errors.As(err, target) {
		t.Fatalf("got error %v, want %T", err, target)
	}
}

// wantCode fails unless err is an API error with code. Emulators that put
// the "AWS.SimpleQueueService." prefix on every query code are accepted
// here; query-error codes are checked on their own.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	got := strings.TrimPrefix(errorCode(err), "AWS.SimpleQueueService.")
	if got != code {
		t.Fatalf("got error %v (code %q), want code %s", err, got, code)
	}
}
