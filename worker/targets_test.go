package worker_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/modules/localstack"

	"github.com/callsummary/connector/worker/sqstest"
)

// LocalStackImage is the pinned LocalStack release the tests run on when a
// Docker engine is reachable; it speaks the SQS JSON protocol.
const LocalStackImage = "localstack/localstack:4.4.0"

// sqsTarget is one real SQS-compatible server the end-to-end cases run on.
type sqsTarget struct {
	name     string
	client   *sqs.Client
	inproc   *sqstest.Server // nil for external servers
	sequence *atomic.Int64
}

// newQueues creates a source queue and a DLQ with names unique to the test.
func (tg sqsTarget) newQueues(t *testing.T, visibility int) (queueURL, dlqURL string) {
	t.Helper()
	n := tg.sequence.Add(1)
	base := fmt.Sprintf("t%d-%d", time.Now().UnixNano()%1e9, n)
	dlqURL = tg.createQueue(t, base+"-dlq", nil)
	queueURL = tg.createQueue(t, base, map[string]string{
		"VisibilityTimeout": strconv.Itoa(visibility),
	})
	return queueURL, dlqURL
}

func (tg sqsTarget) createQueue(t *testing.T, name string, attrs map[string]string) string {
	t.Helper()
	out, err := tg.client.CreateQueue(context.Background(), &sqs.CreateQueueInput{
		QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("%s: create queue %s: %v", tg.name, name, err)
	}
	return aws.ToString(out.QueueUrl)
}

// newSQSClient returns an SDK client for a local endpoint with static
// credentials; the HTTP timeout outlasts a 20 s long poll.
func newSQSClient(endpoint string) *sqs.Client {
	return sqs.New(sqs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:   &http.Client{Timeout: 30 * time.Second},
	})
}

// forEachTarget runs fn against the in-process server, against the
// third-party emulator that `make test` starts (SQS_EMULATOR_ENDPOINT), and
// against LocalStack when a Docker engine is reachable.
func forEachTarget(t *testing.T, fn func(t *testing.T, tg sqsTarget)) {
	t.Run("inprocess", func(t *testing.T) {
		srv := sqstest.New()
		url, err := srv.Start()
		if err != nil {
			t.Fatalf("start sqstest: %v", err)
		}
		t.Cleanup(srv.Close)
		fn(t, sqsTarget{name: "inprocess", client: newSQSClient(url), inproc: srv,
			sequence: new(atomic.Int64)})
	})
	t.Run("fauxqs", func(t *testing.T) {
		endpoint := os.Getenv("SQS_EMULATOR_ENDPOINT")
		if endpoint == "" {
			if os.Getenv("REQUIRE_SQS_EMULATOR") != "" {
				t.Fatal("REQUIRE_SQS_EMULATOR is set but SQS_EMULATOR_ENDPOINT is empty")
			}
			t.Skip("SQS_EMULATOR_ENDPOINT not set: `make test` starts fauxqs and sets it")
		}
		fn(t, sqsTarget{name: "fauxqs", client: newSQSClient(endpoint),
			sequence: &emulatorSequence})
	})
	t.Run("localstack", func(t *testing.T) {
		endpoint := localStackEndpoint(t)
		fn(t, sqsTarget{name: "localstack", client: newSQSClient(endpoint),
			sequence: &emulatorSequence})
	})
}

var (
	emulatorSequence atomic.Int64

	localStackOnce     sync.Once
	localStackURL      string
	localStackErr      error
	localStackShutdown func()
)

// localStackEndpoint starts one LocalStack container for the whole test
// binary, or skips when no Docker engine answers.
func localStackEndpoint(t *testing.T) string {
	t.Helper()
	if err := dockerHealth(); err != nil {
		t.Skipf("LocalStack (%s) not started: no Docker engine reachable: %v", LocalStackImage, err)
	}
	localStackOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		c, err := localstack.Run(ctx, LocalStackImage,
			testcontainers.WithEnv(map[string]string{"SERVICES": "sqs"}))
		if err != nil {
			localStackErr = err
			return
		}
		localStackShutdown = func() { _ = testcontainers.TerminateContainer(c) }
		localStackURL, localStackErr = c.PortEndpoint(ctx, "4566/tcp", "http")
	})
	if localStackErr != nil {
		t.Fatalf("start LocalStack %s: %v", LocalStackImage, localStackErr)
	}
	return localStackURL
}

// dockerHealth reports why testcontainers cannot reach a Docker engine.
func dockerHealth() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("testcontainers: %v", r)
		}
	}()
	provider, err := testcontainers.ProviderDefault.GetProvider()
	if err != nil {
		return err
	}
	defer provider.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return provider.Health(ctx)
}

func TestMain(m *testing.M) {
	code := m.Run()
	if localStackShutdown != nil {
		localStackShutdown()
	}
	os.Exit(code)
}

// queueCounts returns the visible and in-flight message counts.
func queueCounts(t *testing.T, c *sqs.Client, url string) (visible, inFlight int) {
	t.Helper()
	out, err := c.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		},
	})
	if err != nil {
		t.Fatalf("get queue attributes: %v", err)
	}
	visible, _ = strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)])
	inFlight, _ = strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
	return visible, inFlight
}

// drainQueue receives and deletes every message of a queue, returning them.
func drainQueue(t *testing.T, c *sqs.Client, url string) []types.Message {
	t.Helper()
	var all []types.Message
	for {
		out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl:              aws.String(url),
			MaxNumberOfMessages:   10,
			WaitTimeSeconds:       0,
			MessageAttributeNames: []string{"All"},
			VisibilityTimeout:     30,
		})
		if err != nil {
			t.Fatalf("receive from %s: %v", url, err)
		}
		if len(out.Messages) == 0 {
			return all
		}
		for _, m := range out.Messages {
			all = append(all, m)
			_, err := c.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{
				QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle})
			if err != nil {
				t.Fatalf("delete from %s: %v", url, err)
			}
		}
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lockedBuffer collects log output from many goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
