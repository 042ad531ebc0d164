package sqstest

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// BenchmarkSendReceiveDelete measures one message's round trip through the
// real SDK client: a send, a receive and a delete.
func BenchmarkSendReceiveDelete(b *testing.B) {
	s := New()
	base, err := s.Start()
	if err != nil {
		b.Fatalf("start: %v", err)
	}
	defer s.Close()
	u, err := s.CreateQueue("bench", nil)
	if err != nil {
		b.Fatalf("create queue: %v", err)
	}
	c := newClient(base)
	ctx := b.Context()
	attrs := map[string]types.MessageAttributeValue{"call-id": stringAttr("String", "C-1")}

	for b.Loop() {
		_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(u),
			MessageBody:       aws.String(`{"clientCallId":"C-1","summary":"ok"}`),
			MessageAttributes: attrs})
		if err != nil {
			b.Fatalf("send: %v", err)
		}
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(u), MessageAttributeNames: []string{"All"}})
		if err != nil || len(out.Messages) != 1 {
			b.Fatalf("receive: %d messages, %v", len(out.Messages), err)
		}
		if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{
			QueueUrl: aws.String(u), ReceiptHandle: out.Messages[0].ReceiptHandle}); err != nil {
			b.Fatalf("delete: %v", err)
		}
	}
}
