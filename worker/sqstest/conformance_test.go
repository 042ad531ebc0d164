package sqstest

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// emulatorEndpointEnv names the variable that points the conformance test
// at an external SQS emulator as well, such as fauxqs started by
// tools/fauxqs/fauxqs.sh.
const emulatorEndpointEnv = "SQS_EMULATOR_ENDPOINT"

// target is one SQS implementation under the conformance test.
type target struct {
	client   *sqs.Client
	external bool
	prefix   string
	next     atomic.Int64
}

// queue creates a uniquely named queue for one behaviour.
func (tg *target) queue(ctx context.Context, t *testing.T, attrs map[string]string) string {
	t.Helper()
	name := fmt.Sprintf("%s-%d", tg.prefix, tg.next.Add(1))
	out, err := tg.client.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("create queue %s: %v", name, err)
	}
	return aws.ToString(out.QueueUrl)
}

// attributes reads queue attributes.
func (tg *target) attributes(ctx context.Context, t *testing.T, queueURL string,
	names ...types.QueueAttributeName) map[string]string {
	t.Helper()
	out, err := tg.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(queueURL), AttributeNames: names})
	if err != nil {
		t.Fatalf("get queue attributes: %v", err)
	}
	return out.Attributes
}

// emptyQueue reports whether queue attributes count no visible and no
// in-flight message.
func emptyQueue(attrs map[string]string) bool {
	return attrs["ApproximateNumberOfMessages"] == "0" &&
		attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
}

// behaviour is one SQS behaviour checked against every target. A non-empty
// emulatorGap says how the external emulator departs from SQS here; the
// behaviour is then skipped against it.
type behaviour struct {
	name        string
	emulatorGap string
	run         func(ctx context.Context, t *testing.T, tg *target)
}

// TestConformance runs one table of SQS behaviours against the in-process
// server and, when SQS_EMULATOR_ENDPOINT is set, against that emulator too,
// so the two can be compared with the real SDK as the judge.
func TestConformance(t *testing.T) {
	prefix := "conf-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	t.Run("in-process", func(t *testing.T) {
		t.Parallel()
		_, c := startServer(t)
		runBehaviours(t, &target{client: c, prefix: prefix})
	})
	t.Run("emulator", func(t *testing.T) {
		endpoint := os.Getenv(emulatorEndpointEnv)
		if endpoint == "" {
			if os.Getenv("REQUIRE_SQS_EMULATOR") != "" {
				t.Fatal("REQUIRE_SQS_EMULATOR is set but " + emulatorEndpointEnv + " is empty")
			}
			t.Skip(emulatorEndpointEnv + " not set: run make test to start fauxqs")
		}
		t.Parallel()
		runBehaviours(t, &target{client: newClient(endpoint), external: true, prefix: prefix})
	})
}

func runBehaviours(t *testing.T, tg *target) {
	for _, b := range behaviours {
		t.Run(b.name, func(t *testing.T) {
			if tg.external && b.emulatorGap != "" {
				t.Skip("emulator differs from SQS: " + b.emulatorGap)
			}
			t.Parallel()
			b.run(testContext(t), t, tg)
		})
	}
}

var behaviours = []behaviour{
	{name: "round-trip-with-attributes", run: roundTripWithAttributes},
	{name: "attributes-only-when-asked", run: attributesOnlyWhenAsked,
		emulatorGap: "returns every user attribute unasked, and the digest of all of " +
			"them when only some are asked for"},
	{name: "system-attributes", run: systemAttributesReported},
	{name: "visibility-expiry-redelivers", run: visibilityExpiryRedelivers},
	{name: "change-visibility-zero-releases", run: changeVisibilityZeroReleases},
	{name: "change-visibility-not-in-flight", run: changeVisibilityNotInFlight},
	{name: "stale-receipt-handle", run: staleReceiptHandle},
	{name: "unknown-receipt-handle", run: unknownReceiptHandle,
		emulatorGap: "DeleteMessage and DeleteMessageBatch accept any receipt handle, and " +
			"ChangeMessageVisibility answers MessageNotInflight for one it never issued"},
	{name: "long-poll-woken-by-send", run: longPollWokenBySend},
	{name: "long-poll-times-out-empty", run: longPollTimesOutEmpty},
	{name: "delayed-message", run: delayedMessage},
	{name: "redrive-to-dead-letter-queue", run: redriveToDeadLetterQueue},
	{name: "batch-send-and-delete", run: batchSendAndDelete},
	{name: "batch-entry-errors", run: batchEntryErrors},
	{name: "batch-request-errors", run: batchRequestErrors},
	{name: "invalid-body-characters", run: invalidBodyCharacters},
	{name: "supplementary-characters-accepted", run: supplementaryCharactersAccepted,
		emulatorGap: "rejects characters above U+FFFF, which SQS allows"},
	{name: "too-many-attributes", run: tooManyAttributes,
		emulatorGap: "accepts more than 10 message attributes"},
	{name: "message-size-limit", run: messageSizeLimit},
	{name: "default-maximum-message-size", run: defaultMaximumMessageSize},
	{name: "queue-attribute-defaults", run: queueAttributeDefaults},
	{name: "approximate-counts", run: approximateCounts},
	{name: "set-queue-attributes", run: setQueueAttributes},
	{name: "unknown-attribute-name", run: unknownAttributeName,
		emulatorGap: "GetQueueAttributes and CreateQueue ignore unknown attribute names"},
	{name: "create-queue-idempotent", run: createQueueIdempotent},
	{name: "queue-does-not-exist", run: queueDoesNotExist},
	{name: "receive-parameter-validation", run: receiveParameterValidation},
	{name: "purge-queue", run: purgeQueue},
	{name: "list-and-delete-queue", run: listAndDeleteQueue},
	{name: "query-error-codes", run: queryErrorCodes,
		emulatorGap: "puts AWS.SimpleQueueService. before every x-amzn-query-error code, " +
			"so the SDK reports e.g. AWS.SimpleQueueService.InvalidParameterValue"},
	{name: "request-id", run: requestID,
		emulatorGap: "sends no x-amzn-RequestId header"},
}

func roundTripWithAttributes(ctx context.Context, t *testing.T, tg *target) {
	u := tg.queue(ctx, t, nil)
	attrs := map[string]types.MessageAttributeValue{
		"call-id":   stringAttr("String", "C-1"),
		"attempt":   stringAttr("Number", "3"),
		"payload":   binaryAttr([]byte{0, 1, 2, 250}),
		"meta.json": stringAttr("String.json", `{"a":"ü"}`),
	}
	sent, err := tg.client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(u), MessageBody: aws.String("héllo\n{}"), MessageAttributes: attrs})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	want := attributesMD5(fromSDK(attrs))
	if got := aws.ToString(sent.MD5OfMessageAttributes); got != want {
		t.Errorf("send MD5OfMessageAttributes: got %s, want %s", got, want)
	}

	m := receiveOne(ctx, t, tg.client, u, 0)
	if m == nil {
		t.Fatal("received nothing")
	}
	if got, want := aws.ToString(m.Body), "héllo\n{}"; got != want {
		t.Errorf("body: got %q, want %q", got, want)
	}
	if got, want := aws.ToString(m.MessageId), aws.ToString(sent.MessageId); got != want {
		t.Errorf("message id: got %s, want %s", got, want)
	}
	if diff := cmp.Diff(fromSDK(attrs), fromSDK(m.MessageAttributes),
		cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("attributes (-sent +received):\n%s", diff)
	}
	if got := aws.ToString(m.MD5OfMessageAttributes); got != want {
		t.Errorf("receive MD5OfMessageAttributes: got %s, want %s", got, want)
	}
}

func attributesOnlyWhenAsked(ctx context.Context, t *testing.T, tg *target) {
	u := tg.queue(ctx, t, nil)
	attrs := map[string]types.MessageAttributeValue{
		"a.one": stringAttr("String", "1"),
		"a.two": stringAttr("String", "2"),
		"b":     stringAttr("String", "3"),
	}
	for range 3 {
		_, err := tg.client.SendMessage(ctx, &sqs.SendMessageInput{
			QueueUrl: aws.String(u), MessageBody: aws.String("x"), MessageAttributes: attrs})
		if err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	tests := []struct {
		name  string
		names []string
		want  []string
	}{
		{name: "none", names: nil, want: nil},
		{name: "prefix", names: []string{"a.*"}, want: []string{"a.one", "a.two"}},
		{name: "exact", names: []string{"b", "missing"}, want: []string{"b"}},
	}
	for _, tt := range tests {
		out, err := tg.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(u), MessageAttributeNames: tt.names, VisibilityTimeout: 60})
		if err != nil || len(out.Messages) != 1 {
			t.Fatalf("%s: receive: %d messages, %v", tt.name, len(out.Messages), err)
		}
		m := out.Messages[0]
		wantAttrs := map[string]MessageAttribute{}
		for _, name := range tt.want {
			wantAttrs[name] = fromSDK(attrs)[name]
		}
		if diff := cmp.Diff(wantAttrs, fromSDK(m.MessageAttributes),
			cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: attributes (-want +got):\n%s", tt.name, diff)
		}
		if got, want := aws.ToString(m.MD5OfMessageAttributes), attributesMD5(wantAttrs); got != want {
			t.Errorf("%s: MD5OfMessageAttributes: got %q, want %q", tt.name, got, want)
		}
	}
}

func systemAttributesReported(ctx context.Context, t *testing.T, tg *target) {
	u := tg.queue(ctx, t, nil)
	before := time.Now().Add(-time.Second).UnixMilli()
	send(ctx, t, tg.client, u, "x")
	m := receiveOne(ctx, t, tg.client, u, 0)
	if m == nil {
		t.Fatal("received nothing")
	}
	for _, name := range []string{"SentTimestamp", "ApproximateFirstReceiveTimestamp"} {
		ms, err := strconv.ParseInt(m.Attributes[name], 10, 64)
		if err != nil || ms < before || ms > time.Now().Add(time.Second).UnixMilli() {
			t.Errorf("%s: got %q, want epoch milliseconds of now", name, m.Attributes[name])
		}
	}
	if got := m.Attributes["ApproximateReceiveCount"]; got != "1" {
		t.Errorf("ApproximateReceiveCount: got %q, want 1", got)
	}
	if m.Attributes["SenderId"] == "" {
		t.Error("SenderId missing")
	}

	release(ctx, t, tg.client, u, m)
	out, err := tg.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(u),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{"ApproximateReceiveCount"}})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("receive again: %v", err)
	}
	if diff := cmp.Diff(map[string]string{"ApproximateReceiveCount": "2"},
		out.Messages[0].Attributes); diff != "" {
		t.Errorf("only the named attribute (-want +got):\n%s", diff)
	}
}

func visibilityExpiryRedelivers(ctx context.Context, t *testing.T, tg *target) {
	u := tg.queue(ctx, t, map[string]string{"VisibilityTimeout": "1"})
	send(ctx, t, tg.client, u, "x")
	first := receiveOne(ctx, t, tg.client, u, 0)
	if first == nil {
		t.Fatal("first receive got nothing")
	}
	received := time.Now()
	if m := receiveOne(ctx, t, tg.client, u, 0); m != nil {
		t.Fatal("message visible while in flight")
	}

	second := receiveOne(ctx, t, tg.client, u, 5)
	if second == nil {
		t.Fatal("message not redelivered after its visibility timeout")
	}
	if elapsed := time.Since(received); elapsed < 900*time.Millisecond {
		t.Errorf("redelivered after %v, want about 1s", elapsed)
	}
	if got := second.Attributes["ApproximateReceiveCount"]; got != "2" {
		t.Errorf("ApproximateReceiveCount: got %q, want 2", got)
	}
	if aws.ToString(second.ReceiptHandle) == aws.ToString(first.ReceiptHandle) {
		t.Error("second receive reused the receipt handle")
	}
}

func changeVisibilityZeroReleases(ctx context.Context, t *testing.T, tg *target) {
	u := tg.queue(ctx, t, nil)
	send(ctx, t, tg.client, u, "x")
	m := receiveOne(ctx, t, tg.client, u, 0)
	if m == nil {
		t.Fatal("received nothing")
	}
	release(ctx, t, tg.client, u, m)
	if receiveOne(ctx, t, tg.client, u, 0) == nil {
		t.Fatal("message not visible after visibility 0")
	}
}

func changeVisibilityNotInFlight(ctx context.Context, t *testing.T, tg *target) {
	u := tg.queue(ctx, t, nil)
	send(ctx, t, tg.client, u, "x")
	m := receiveOne(ctx, t, tg.client, u, 0)
	if m == nil {
		t.Fatal("received nothing")
	}
	release(ctx, t, tg.client, u, m)
	_, err := tg.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(u), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 10})
	wantAs(t, err, new(*types.MessageNotInflight))
}

func staleReceiptHandle(ctx context.Context, t *testing.T, tg *target) {
	u := tg.queue(ctx, t, nil)
	send(ctx, t, tg.client, u, "x")
	first := receiveOne(ctx, t, tg.client, u, 0)
	release(ctx, t, tg.client, u, first)
	second := receiveOne(ctx, t, tg.client, u, 0)
	if second == nil {
		t.Fatal("second receive got nothing")
	}

	_, err := tg.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{
		QueueUrl: aws.String(u), ReceiptHandle: first.ReceiptHandle})
	if err != nil {
		t.Fatalf("delete with stale handle: %v", err)
	}
	attrs := tg.attributes(ctx, t, u, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)
	if got := attrs["ApproximateNumberOfMessagesNotVisible"]; got != "1" {
		t.Fatalf("after stale delete, in flight: got %s, want 1 (not deleted)", got)
	}

	_, err = tg.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{
		QueueUrl: aws.String(u), ReceiptHandle: second.ReceiptHandle})
	if err != nil {
		t.Fatalf("delete with current handle: %v", err)
	}
	attrs = tg.attributes(ctx, t, u, "All")
	if !emptyQueue(attrs) {
		t.Fatalf("after delete: %v, want the queue empty", attrs)
	}
}

func unknownReceiptHandle(ctx context.Context, t *testing.T, tg *target) {
	u := tg.queue(ctx, t, nil)
	_, err := tg.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{
		QueueUrl: aws.String(u), ReceiptHandle: aws.String("not-a-handle")})
	wantAs(t, err, new(*types.ReceiptHandleIsInvalid))
	_, err = tg.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(u), ReceiptHandle: aws.String("not-a-handle"), VisibilityTimeout: 1})
	wantAs(t, err, new(*types.ReceiptHandleIsInvalid))

	out, err := tg.client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{
		QueueUrl: aws.String(u),
		Entries: []types.DeleteMessageBatchRequestEntry{
			{Id: aws.String("e0"), ReceiptHandle: aws.String("not-a-handle")}},
	})
	if err != nil {
		t.Fatalf("delete batch: %v", err)
	}
	if len(out.Failed) != 1 || aws.ToString(out.Failed[0].Code) != "ReceiptHandleIsInvalid" ||
		!out.Failed[0].SenderFault {
		t.Errorf("failed entries: got %+v, want one ReceiptHandleIsInvalid", out.Failed)
	}
}

func longPollWokenBySend(ctx context.Context, t *testing.T, tg *target) {
	u := tg.queue(ctx, t, nil)
	start := time.Now()
	got := make(chan *types.Message, 1)
	go func() {
		out, err := tg.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(u), WaitTimeSeconds: 10})
		if err != nil || len(out.Messages) == 0 {
			got <- nil
			return
		}
		got <- &out.Messages[0]
	}()
	send(ctx, t, tg.client, u, "wake")
	m := <-got
	if m == nil || aws.ToString(m.Body) != "wake" {
		t.Fatalf("long poll got %v, want the message sent", m)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("long poll returned after %v, want well before its 10s wait", elapsed)
	}
}

func longPollTimesOutEmpty(ctx context.Context, t *testing.T, tg *target) {
	u := tg.queue(ctx, t, nil)
	start := time.Now()
	if m := receiveOne(ctx, t, tg.client, u, 1); m != nil {
		t.Fatalf("got a message from an empty queue: %v", aws.ToString(m.Body))
	}
	if elapsed := time.Since(start); elapsed < 900*time.Millisecond || elapsed > 5*time.Second {
		t.Errorf("1s long poll took %v", elapsed)
	}
}

func delayedMessage(ctx context.Context, t *testing.T, tg *target) {
	u := tg.queue(ctx, t, nil)
	_, err := tg.client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(u), MessageBody: aws.String("later"), DelaySeconds: 1})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	sent := time.Now()
	attrs := tg.attributes(ctx, t, u, types.QueueAttributeNameApproximateNumberOfMessagesDelayed)
	if got := attrs["ApproximateNumberOfMessagesDelayed"]; got != "1" {
		t.Errorf("delayed: got %s, want 1", got)
	}
	if m := receiveOne(ctx, t, tg.client, u, 0); m != nil {
		t.Fatal("delayed message visible at once")
	}
	m := receiveOne(ctx, t, tg.client, u, 5)
	if m == nil {
		t.Fatal("delayed message never became visible")
	}
	if elapsed := time.Since(sent); elapsed < 900*time.Millisecond {
		t.Errorf("visible after %v, want about 1s", elapsed)
	}
}

func redriveToDeadLetterQueue(ctx context.Context, t *testing.T, tg *target) {
	dlq := tg.queue(ctx, t, nil)
	dlqArn := tg.attributes(ctx, t, dlq, types.QueueAttributeNameQueueArn)["QueueArn"]
	policy := fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"2"}`, dlqArn)
	src := tg.queue(ctx, t, map[string]string{"RedrivePolicy": policy})

	attrs := map[string]types.MessageAttributeValue{"call-id": stringAttr("String", "C-9")}
	sent, err := tg.client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(src), MessageBody: aws.String("poison"), MessageAttributes: attrs})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	for i := 1; i <= 2; i++ {
		m := receiveOne(ctx, t, tg.client, src, 0)
		if m == nil {
			t.Fatalf("receive %d got nothing", i)
		}
		release(ctx, t, tg.client, src, m)
	}
	if m := receiveOne(ctx, t, tg.client, src, 0); m != nil {
		t.Fatalf("third receive returned the message (count %s), want it dead-lettered",
			m.Attributes["ApproximateReceiveCount"])
	}

	m := receiveOne(ctx, t, tg.client, dlq, 2)
	if m == nil {
		t.Fatal("dead-letter queue is empty")
	}
	if got := aws.ToString(m.Body); got != "poison" {
		t.Errorf("dead-letter body: got %q, want poison", got)
	}
	if got, want := aws.ToString(m.MessageId), aws.ToString(sent.MessageId); got != want {
		t.Errorf("dead-letter message id: got %s, want %s", got, want)
	}
	if diff := cmp.Diff(fromSDK(attrs), fromSDK(m.MessageAttributes),
		cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("dead-letter attributes (-want +got):\n%s", diff)
	}
}

func batchSendAndDelete(ctx context.Context, t *testing.T, tg *target) {
	u := tg.queue(ctx, t, nil)
	var entries []types.SendMessageBatchRequestEntry
	for i := range 3 {
		entries = append(entries, types.SendMessageBatchRequestEntry{
			Id:          aws.String(fmt.Sprintf("m%d", i)),
			MessageBody: aws.String(fmt.Sprintf("body %d", i)),
			MessageAttributes: map[string]types.MessageAttributeValue{
				"n": stringAttr("Number", strconv.Itoa(i))},
		})
	}
	sent, err := tg.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{
		QueueUrl: aws.String(u), Entries: entries})
	if err != nil {
		t.Fatalf("send batch: %v", err)
	}
	if len(sent.Successful) != 3 || len(sent.Failed) != 0 {
		t.Fatalf("send batch: %d successful, %d failed, want 3 and 0", len(sent.Successful),
			len(sent.Failed))
	}

	var deletes []types.DeleteMessageBatchRequestEntry
	eventually(t, 5*time.Second, "receive all three", func() bool {
		out, err := tg.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(u), MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatalf("receive: %v", err)
		}
		for _, m := range out.Messages {
			deletes = append(deletes, types.DeleteMessageBatchRequestEntry{
				Id: aws.String(fmt.Sprintf("d%d", len(deletes))), ReceiptHandle: m.ReceiptHandle})
		}
		return len(deletes) == 3
	})
	out, err := tg.client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{
		QueueUrl: aws.String(u), Entries: deletes})
	if err != nil {
		t.Fatalf("delete batch: %v", err)
	}
	if len(out.Successful) != 3 {
		t.Errorf("delete batch: %d successful, want 3 (failed: %+v)", len(out.Successful), out.Failed)
	}
	attrs := tg.attributes(ctx, t, u, "All")
	if !emptyQueue(attrs) {
		t.Errorf("after delete: %v, want the queue empty", attrs)
	}
}

func batchEntryErrors(ctx context.Context, t *testing.T, tg *target) {
	u := tg.queue(ctx, t, nil)
	sent, err := tg.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{
		QueueUrl: aws.String(u),
		Entries: []types.SendMessageBatchRequestEntry{
			{Id: aws.String("good"), MessageBody: aws.String("fine")},
			{Id: aws.String("bad"), MessageBody: aws.String("nul \x00 here")},
		},
	})
	if err != nil {
		t.Fatalf("send batch: %v", err)
	}
	if len(sent.Successful) != 1 || aws.ToString(sent.Successful[0].Id) != "good" {
		t.Errorf("successful: got %+v, want only good", sent.Successful)
	}
	if len(sent.Failed) != 1 || aws.ToString(sent.Failed[0].Id) != "bad" ||
		aws.ToString(sent.Failed[0].Code) != "InvalidMessageContents" || !sent.Failed[0].SenderFault {
		t.Errorf("failed: got %+v, want bad with InvalidMessageContents", sent.Failed)
	}

	m := receiveOne(ctx, t, tg.client, u, 0)
	out, err := tg.client.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{
		QueueUrl: aws.String(u),
		Entries: []types.ChangeMessageVisibilityBatchRequestEntry{
			{Id: aws.String("ok"), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0},
			{Id: aws.String("bogus"), ReceiptHandle: aws.String("bogus"), VisibilityTimeout: 5},
		},
	})
	if err != nil {
		t.Fatalf("change visibility batch: %v", err)
	}
	if len(out.Successful) != 1 || aws.ToString(out.Successful[0].Id) != "ok" {
		t.Errorf("successful: got %+v, want only ok", out.Successful)
	}
	if len(out.Failed) != 1 || aws.ToString(out.Failed[0].Code) != "ReceiptHandleIsInvalid" {
		t.Errorf("failed: got %+v, want bogus with ReceiptHandleIsInvalid", out.Failed)
	}
}

func batchRequestErrors(ctx context.Context, t *testing.T, tg *target) {
	u := tg.queue(ctx, t, nil)
	entry := func(id string) types.SendMessageBatchRequestEntry {
		return types.SendMessageBatchRequestEntry{Id: aws.String(id), MessageBody: aws.String("x")}
	}
	var eleven []types.SendMessageBatchRequestEntry
	for i := range 11 {
		eleven = append(eleven, entry(fmt.Sprintf("e%d", i)))
	}
	tests := []struct {
		name    string
		entries []types.SendMessageBatchRequestEntry
		target  any
	}{
		{"empty", []types.SendMessageBatchRequestEntry{}, new(*types.EmptyBatchRequest)},
		{"eleven", eleven, new(*types.TooManyEntriesInBatchRequest)},
		{"duplicate-ids", []types.SendMessageBatchRequestEntry{entry("a"), entry("a")},
			new(*types.BatchEntryIdsNotDistinct)},
		{"invalid-id", []types.SendMessageBatchRequestEntry{entry("no spaces")},
			new(*types.InvalidBatchEntryId)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tg.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{
				QueueUrl: aws.String(u), Entries: tt.entries})
			wantAs(t, err, tt.target)
		})
	}
	_, err := tg.client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{
		QueueUrl: aws.String(u), Entries: []types.DeleteMessageBatchRequestEntry{}})
	wantAs(t, err, new(*types.EmptyBatchRequest))
}

func invalidBodyCharacters(ctx context.Context, t *testing.T, tg *target) {
	u := tg.queue(ctx, t, nil)
	for _, body := range []string{"nul\x00", "bell\x07", "nonchar\uFFFE"} {
		_, err := tg.client.SendMessage(ctx, &sqs.SendMessageInput{
			QueueUrl: aws.String(u), MessageBody: aws.String(body)})
		wantAs(t, err, new(*types.InvalidMessageContents))
	}
}

func supplementaryCharactersAccepted(ctx context.Context, t *testing.T, tg *target) {
	u := tg.queue(ctx, t, nil)
	send(ctx, t, tg.client, u, "call summary 📞 done")
	m := receiveOne(ctx, t, tg.client, u, 0)
	if m == nil || aws.ToString(m.Body) != "call summary 📞 done" {
		t.Fatalf("got %v, want the body back unchanged", m)
	}
}

func tooManyAttributes(ctx context.Context, t *testing.T, tg *target) {
	u := tg.queue(ctx, t, nil)
	attrs := map[string]types.MessageAttributeValue{}
	for i := range 11 {
		attrs[fmt.Sprintf("a%d", i)] = stringAttr("String", "v")
	}
	_, err := tg.client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(u), MessageBody: aws.String("x"), MessageAttributes: attrs})
	wantCode(t, err, "InvalidParameterValue")
	delete(attrs, "a10")
	_, err = tg.client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(u), MessageBody: aws.String("x"), MessageAttributes: attrs})
	if err != nil {
		t.Fatalf("ten attributes: %v", err)
	}
}

func messageSizeLimit(ctx context.Context, t *testing.T, tg *target) {
	u := tg.queue(ctx, t, map[string]string{"MaximumMessageSize": "1024"})
	tests := []struct {
		name   string
		body   string
		attrs  map[string]types.MessageAttributeValue
		refuse bool
	}{
		{name: "at-limit", body: strings.Repeat("x", 1024)},
		{name: "over-limit", body: strings.Repeat("x", 1025), refuse: true},
		{name: "multibyte-over-limit", body: strings.Repeat("é", 513), refuse: true},
		// 1000 + len("k") + len("String") + 20 = 1027 bytes.
		{name: "attributes-count", body: strings.Repeat("x", 1000), refuse: true,
			attrs: map[string]types.MessageAttributeValue{
				"k": stringAttr("String", strings.Repeat("v", 20))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tg.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(u),
				MessageBody: aws.String(tt.body), MessageAttributes: tt.attrs})
			if !tt.refuse {
				if err != nil {
					t.Fatalf("send: %v", err)
				}
				return
			}
			wantCode(t, err, "InvalidParameterValue")
		})
	}
}

func defaultMaximumMessageSize(ctx context.Context, t *testing.T, tg *target) {
	u := tg.queue(ctx, t, nil)
	attrs := tg.attributes(ctx, t, u, types.QueueAttributeNameMaximumMessageSize)
	if got := attrs["MaximumMessageSize"]; got != "1048576" {
		t.Errorf("MaximumMessageSize: got %s, want 1048576 (1 MiB)", got)
	}
	send(ctx, t, tg.client, u, strings.Repeat("x", 1<<20))
	_, err := tg.client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(u), MessageBody: aws.String(strings.Repeat("x", 1<<20+1))})
	wantCode(t, err, "InvalidParameterValue")
}

func queueAttributeDefaults(ctx context.Context, t *testing.T, tg *target) {
	u := tg.queue(ctx, t, nil)
	attrs := tg.attributes(ctx, t, u, "All")
	want := map[string]string{
		"VisibilityTimeout":             "30",
		"DelaySeconds":                  "0",
		"MaximumMessageSize":            "1048576",
		"MessageRetentionPeriod":        "345600",
		"ReceiveMessageWaitTimeSeconds": "0",
		"ApproximateNumberOfMessages":   "0",
	}
	for name, v := range want {
		if attrs[name] != v {
			t.Errorf("%s: got %q, want %q", name, attrs[name], v)
		}
	}
	name := u[strings.LastIndex(u, "/")+1:]
	if got, want := attrs["QueueArn"], "arn:aws:sqs:us-east-1:000000000000:"+name; got != want {
		t.Errorf("QueueArn: got %s, want %s", got, want)
	}
	for _, ts := range []string{"CreatedTimestamp", "LastModifiedTimestamp"} {
		sec, err := strconv.ParseInt(attrs[ts], 10, 64)
		if err != nil || time.Since(time.Unix(sec, 0)) > time.Minute {
			t.Errorf("%s: got %q, want epoch seconds of now", ts, attrs[ts])
		}
	}
}

func approximateCounts(ctx context.Context, t *testing.T, tg *target) {
	u := tg.queue(ctx, t, nil)
	send(ctx, t, tg.client, u, "visible")
	send(ctx, t, tg.client, u, "in flight")
	_, err := tg.client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(u), MessageBody: aws.String("delayed"), DelaySeconds: 60})
	if err != nil {
		t.Fatalf("send delayed: %v", err)
	}
	if receiveOne(ctx, t, tg.client, u, 0) == nil {
		t.Fatal("received nothing")
	}
	got := tg.attributes(ctx, t, u, "ApproximateNumberOfMessages",
		"ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed")
	want := map[string]string{
		"ApproximateNumberOfMessages":           "1",
		"ApproximateNumberOfMessagesNotVisible": "1",
		"ApproximateNumberOfMessagesDelayed":    "1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
}

func setQueueAttributes(ctx context.Context, t *testing.T, tg *target) {
	u := tg.queue(ctx, t, nil)
	_, err := tg.client.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
		QueueUrl:   aws.String(u),
		Attributes: map[string]string{"VisibilityTimeout": "5", "DelaySeconds": "2"},
	})
	if err != nil {
		t.Fatalf("set: %v", err)
	}
	got := tg.attributes(ctx, t, u, "VisibilityTimeout", "DelaySeconds")
	if diff := cmp.Diff(map[string]string{"VisibilityTimeout": "5", "DelaySeconds": "2"},
		got); diff != "" {
		t.Errorf("attributes (-want +got):\n%s", diff)
	}

	tests := []struct {
		name   string
		attrs  map[string]string
		target any
	}{
		{"visibility-too-long", map[string]string{"VisibilityTimeout": "43201"},
			new(*types.InvalidAttributeValue)},
		{"size-too-small", map[string]string{"MaximumMessageSize": "1023"},
			new(*types.InvalidAttributeValue)},
		{"not-a-number", map[string]string{"DelaySeconds": "soon"},
			new(*types.InvalidAttributeValue)},
		{"read-only", map[string]string{"QueueArn": "arn:aws:sqs:us-east-1:0:x"},
			new(*types.InvalidAttributeName)},
		{"unknown", map[string]string{"Colour": "blue"}, new(*types.InvalidAttributeName)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tg.client.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
				QueueUrl: aws.String(u), Attributes: tt.attrs})
			wantAs(t, err, tt.target)
		})
	}
}

func unknownAttributeName(ctx context.Context, t *testing.T, tg *target) {
	u := tg.queue(ctx, t, nil)
	_, err := tg.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(u), AttributeNames: []types.QueueAttributeName{"Colour"}})
	wantAs(t, err, new(*types.InvalidAttributeName))
	_, err = tg.client.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName: aws.String(tg.prefix + "-colour"), Attributes: map[string]string{"Colour": "x"}})
	wantAs(t, err, new(*types.InvalidAttributeName))
}

func createQueueIdempotent(ctx context.Context, t *testing.T, tg *target) {
	attrs := map[string]string{"VisibilityTimeout": "7"}
	u := tg.queue(ctx, t, attrs)
	name := u[strings.LastIndex(u, "/")+1:]
	again, err := tg.client.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("create again with the same attributes: %v", err)
	}
	if got := aws.ToString(again.QueueUrl); got != u {
		t.Errorf("url: got %s, want %s", got, u)
	}
	_, err = tg.client.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName: aws.String(name), Attributes: map[string]string{"VisibilityTimeout": "8"}})
	wantAs(t, err, new(*types.QueueNameExists))
}

func queueDoesNotExist(ctx context.Context, t *testing.T, tg *target) {
	missing := tg.prefix + "-never-created"
	_, err := tg.client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(missing)})
	wantAs(t, err, new(*types.QueueDoesNotExist))

	u := tg.queue(ctx, t, nil)
	u = u[:strings.LastIndex(u, "/")+1] + missing
	_, err = tg.client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(u), MessageBody: aws.String("x")})
	wantAs(t, err, new(*types.QueueDoesNotExist))
	_, err = tg.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(u)})
	wantAs(t, err, new(*types.QueueDoesNotExist))
}

func receiveParameterValidation(ctx context.Context, t *testing.T, tg *target) {
	u := tg.queue(ctx, t, nil)
	tests := []struct {
		name string
		in   sqs.ReceiveMessageInput
	}{
		{"eleven-messages", sqs.ReceiveMessageInput{MaxNumberOfMessages: 11}},
		{"negative-messages", sqs.ReceiveMessageInput{MaxNumberOfMessages: -1}},
		{"wait-21", sqs.ReceiveMessageInput{WaitTimeSeconds: 21}},
		{"visibility-over-12h", sqs.ReceiveMessageInput{VisibilityTimeout: 43201}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			in.QueueUrl = aws.String(u)
			_, err := tg.client.ReceiveMessage(ctx, &in)
			wantCode(t, err, "InvalidParameterValue")
		})
	}
}

func purgeQueue(ctx context.Context, t *testing.T, tg *target) {
	u := tg.queue(ctx, t, nil)
	for range 3 {
		send(ctx, t, tg.client, u, "x")
	}
	receiveOne(ctx, t, tg.client, u, 0)
	if _, err := tg.client.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(u)}); err != nil {
		t.Fatalf("purge: %v", err)
	}
	attrs := tg.attributes(ctx, t, u, "All")
	if !emptyQueue(attrs) {
		t.Errorf("after purge: %v, want the queue empty", attrs)
	}
}

func listAndDeleteQueue(ctx context.Context, t *testing.T, tg *target) {
	u := tg.queue(ctx, t, nil)
	name := u[strings.LastIndex(u, "/")+1:]
	out, err := tg.client.ListQueues(ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String(name)})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if diff := cmp.Diff([]string{u}, out.QueueUrls); diff != "" {
		t.Errorf("listed (-want +got):\n%s", diff)
	}
	_, err = tg.client.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(u)})
	if err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = tg.client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	wantAs(t, err, new(*types.QueueDoesNotExist))
}

func queryErrorCodes(ctx context.Context, t *testing.T, tg *target) {
	u := tg.queue(ctx, t, nil)
	name := u[strings.LastIndex(u, "/")+1:]
	check := func(what string, err error, want string) {
		t.Helper()
		if got := errorCode(err); got != want {
			t.Errorf("%s: got code %q, want %q (err %v)", what, got, want, err)
		}
	}
	_, err := tg.client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name + "-x")})
	check("missing queue", err, "AWS.SimpleQueueService.NonExistentQueue")
	_, err = tg.client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name),
		Attributes: map[string]string{"DelaySeconds": "5"}})
	check("queue name exists", err, "QueueAlreadyExists")
	_, err = tg.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(u), MaxNumberOfMessages: 11})
	check("invalid parameter", err, "InvalidParameterValue")
	_, err = tg.client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(u), MessageBody: aws.String("\x01")})
	check("invalid contents", err, "InvalidMessageContents")
	_, err = tg.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(u), ReceiptHandle: aws.String("bogus"), VisibilityTimeout: 1})
	check("invalid receipt handle", err, "ReceiptHandleIsInvalid")
}

func requestID(ctx context.Context, t *testing.T, tg *target) {
	out, err := tg.client.ListQueues(ctx, &sqs.ListQueuesInput{
		QueueNamePrefix: aws.String(tg.prefix)})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if id, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata); id == "" {
		t.Error("no request id in the response")
	}
}
