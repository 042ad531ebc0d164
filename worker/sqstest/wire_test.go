package sqstest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// post sends one raw request to the server, as an SDK would, without
// signing it.
func post(t *testing.T, base, target, contentType, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(testContext(t), http.MethodPost, base+"/",
		strings.NewReader(body))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Content-Type", contentType)
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, b
}

func TestWireErrors(t *testing.T) {
	s, _ := startServer(t)
	base := s.URL()
	u := mustCreate(t, s, "q", nil)
	const jsonType = "application/x-amz-json-1.0"

	tests := []struct {
		name        string
		target      string
		contentType string
		body        string
		fail        string
		status      int
		errType     string
		queryError  string
	}{
		{name: "queue-does-not-exist", target: "AmazonSQS.GetQueueUrl",
			body: `{"QueueName":"nope"}`, status: 400,
			errType:    "com.amazonaws.sqs#QueueDoesNotExist",
			queryError: "AWS.SimpleQueueService.NonExistentQueue;Sender"},
		{name: "receipt-handle-invalid", target: "AmazonSQS.DeleteMessage",
			body: `{"QueueUrl":"` + u + `","ReceiptHandle":"x"}`, status: 404,
			errType:    "com.amazonaws.sqs#ReceiptHandleIsInvalid",
			queryError: "ReceiptHandleIsInvalid;Sender"},
		{name: "queue-name-exists", target: "AmazonSQS.CreateQueue",
			body: `{"QueueName":"q","Attributes":{"DelaySeconds":"1"}}`, status: 400,
			errType:    "com.amazonaws.sqs#QueueNameExists",
			queryError: "QueueAlreadyExists;Sender"},
		{name: "invalid-attribute-name", target: "AmazonSQS.GetQueueAttributes",
			body: `{"QueueUrl":"` + u + `","AttributeNames":["Nope"]}`, status: 400,
			errType:    "com.amazonaws.sqs#InvalidAttributeName",
			queryError: "InvalidAttributeName;Sender"},
		{name: "missing-parameter", target: "AmazonSQS.SendMessage",
			body: `{"QueueUrl":"` + u + `"}`, status: 400,
			errType:    "com.amazonaws.sqs#MissingParameter",
			queryError: "MissingParameter;Sender"},
		{name: "empty-batch", target: "AmazonSQS.DeleteMessageBatch",
			body: `{"QueueUrl":"` + u + `","Entries":[]}`, status: 400,
			errType:    "com.amazonaws.sqs#EmptyBatchRequest",
			queryError: "AWS.SimpleQueueService.EmptyBatchRequest;Sender"},
		{name: "injected-failure", target: "AmazonSQS.ListQueues", body: `{}`,
			fail: "ListQueues", status: 500,
			errType:    "com.amazonaws.sqs#InternalError",
			queryError: "InternalError;Receiver"},
		{name: "malformed-json", target: "AmazonSQS.SendMessage", body: `{"QueueUrl":`,
			status: 400, errType: "com.amazonaws.sqs#SerializationException",
			queryError: "SerializationException;Sender"},
		{name: "unknown-action", target: "AmazonSQS.TagQueue", body: `{}`, status: 400,
			errType: "com.amazonaws.sqs#InvalidAction", queryError: "InvalidAction;Sender"},
		{name: "query-protocol", target: "", contentType: "application/x-www-form-urlencoded",
			body: "Action=ListQueues", status: 400,
			errType: "com.amazonaws.sqs#InvalidAction", queryError: "InvalidAction;Sender"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.fail != "" {
				s.FailNext(tt.fail, 1)
			}
			ct := tt.contentType
			if ct == "" {
				ct = jsonType
			}
			resp, body := post(t, base, tt.target, ct, tt.body)
			if resp.StatusCode != tt.status {
				t.Errorf("status: got %d, want %d", resp.StatusCode, tt.status)
			}
			if got := resp.Header.Get("x-amzn-query-error"); got != tt.queryError {
				t.Errorf("x-amzn-query-error: got %q, want %q", got, tt.queryError)
			}
			if got := resp.Header.Get("Content-Type"); got != jsonType {
				t.Errorf("content type: got %q", got)
			}
			var e struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			if e.Type != tt.errType || e.Message == "" {
				t.Errorf("body: got %s, want __type %s and a message", body, tt.errType)
			}
		})
	}
}

func TestWireSuccess(t *testing.T) {
	s, _ := startServer(t)
	u := mustCreate(t, s, "q", nil)
	resp, body := post(t, s.URL(), "AmazonSQS.SendMessage", "application/x-amz-json-1.0",
		`{"QueueUrl":"`+u+`","MessageBody":"hi",`+
			`"MessageAttributes":{"b":{"DataType":"Binary","BinaryValue":"AQID"}}}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if resp.Header.Get("x-amzn-RequestId") == "" {
		t.Error("no x-amzn-RequestId")
	}
	var out map[string]string
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	want := attributesMD5(map[string]MessageAttribute{
		"b": {DataType: "Binary", BinaryValue: []byte{1, 2, 3}}})
	if out["MD5OfMessageBody"] != md5Hex("hi") || out["MD5OfMessageAttributes"] != want ||
		out["MessageId"] == "" {
		t.Errorf("body: got %s", body)
	}
	if _, ok := out["MD5OfMessageSystemAttributes"]; ok {
		t.Error("MD5OfMessageSystemAttributes present without system attributes")
	}
}
