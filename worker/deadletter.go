package worker

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Dead-letter attribute names; DESIGN.md lists them for operators.
const (
	AttrReason      = "connector.reason"
	AttrDetail      = "connector.detail"
	AttrFailedAt    = "connector.failed-at"
	AttrAttempts    = "connector.attempts"
	AttrSourceQueue = "connector.source-queue"
	AttrReplays     = "connector.replays"

	attrPrefix      = "connector."
	maxAttributes   = 10
	maxDetailLength = 1024
)

// deadLetter sends the message to the DLQ with the reason attributes, then
// deletes it from the source. The send happens first, so a crash between
// the two leaves a duplicate in the DLQ, never a loss.
func (p *Pool) deadLetter(m types.Message, d decision) error {
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.AckTimeout)
	defer cancel()
	_, err := p.queue.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:          aws.String(p.cfg.DLQURL),
		MessageBody:       m.Body,
		MessageAttributes: p.deadLetterAttributes(m, d),
	}, ownRequestBody)
	if err != nil {
		return fmt.Errorf("send to dead-letter queue: %w", err)
	}
	p.acks.delete(m)
	return nil
}

// deadLetterAttributes returns ours plus as many of upstream's as fit in the
// ten SQS allows and in the message size limit, upstream's in name order. Our own attributes from an
// earlier dead-lettering are dropped, except the replay counter.
func (p *Pool) deadLetterAttributes(m types.Message, d decision) map[string]types.MessageAttributeValue {
	attrs := map[string]types.MessageAttributeValue{
		AttrReason:      stringAttr(d.reason),
		AttrDetail:      stringAttr(truncateDetail(d.detail)),
		AttrFailedAt:    stringAttr(p.cfg.Now().UTC().Format(time.RFC3339)),
		AttrAttempts:    numberAttr(receiveCount(m)),
		AttrSourceQueue: stringAttr(p.cfg.QueueURL),
	}
	names := make([]string, 0, len(m.MessageAttributes))
	for name := range m.MessageAttributes {
		if !strings.HasPrefix(name, attrPrefix) || name == AttrReplays {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	size := len(aws.ToString(m.Body)) + attributesSize(attrs)
	for _, name := range names {
		if len(attrs) == maxAttributes {
			break
		}
		v := m.MessageAttributes[name]
		if size+attributeSize(name, v) > p.cfg.MaxBodyBytes {
			continue
		}
		attrs[name] = v
		size += attributeSize(name, v)
	}
	return attrs
}

// attributeSize counts an attribute as SQS does against the message size:
// name, data type and value.
func attributeSize(name string, v types.MessageAttributeValue) int {
	return len(name) + len(aws.ToString(v.DataType)) + len(aws.ToString(v.StringValue)) +
		len(v.BinaryValue)
}

func attributesSize(attrs map[string]types.MessageAttributeValue) int {
	n := 0
	for name, v := range attrs {
		n += attributeSize(name, v)
	}
	return n
}

func stringAttr(s string) types.MessageAttributeValue {
	if s == "" {
		s = "-"
	}
	return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(s)}
}

func numberAttr(n int) types.MessageAttributeValue {
	return types.MessageAttributeValue{DataType: aws.String("Number"),
		StringValue: aws.String(strconv.Itoa(n))}
}

// truncateDetail keeps the detail on one line and within 1 KiB, cutting on
// a rune boundary.
func truncateDetail(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= maxDetailLength {
		return s
	}
	const ellipsis = "…"
	cut := maxDetailLength - len(ellipsis)
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + ellipsis
}

// setVisibility asks SQS to redeliver m after d; on failure the message
// comes back when its current visibility lapses, which is also safe.
func (p *Pool) setVisibility(m types.Message, d time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.AckTimeout)
	defer cancel()
	secs := int32((d + time.Second - 1) / time.Second)
	_, err := p.queue.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl:          aws.String(p.cfg.QueueURL),
		ReceiptHandle:     m.ReceiptHandle,
		VisibilityTimeout: min(secs, 43200),
	}, ownRequestBody)
	if err != nil {
		p.log.Warn().Err(err).Str("message_id", aws.ToString(m.MessageId)).
			Msg("change visibility failed; the message returns when its visibility lapses")
	}
}

// release makes a received but unhandled message visible again at once.
func (p *Pool) release(m types.Message) {
	p.setVisibility(m, 0)
	p.stats.addReleased()
	p.log.Info().Str("message_id", aws.ToString(m.MessageId)).
		Msg("received while stopping; given back to the queue unhandled")
}
