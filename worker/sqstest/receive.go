package sqstest

import (
	"context"
	"slices"
	"strconv"
	"time"
)

// Limits of ReceiveMessage.
const (
	maxReceiveMessages = 10
	maxWaitTimeSeconds = 20
)

// receiveParams are a ReceiveMessage request's numbers, defaults applied.
type receiveParams struct {
	max        int
	visibility time.Duration
	wait       time.Duration
}

func (s *Server) receiveMessageAction(ctx context.Context, body []byte,
	_ string) (any, *apiError) {
	var req receiveMessageRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	q, err := s.queueFor(req.QueueURL)
	if err != nil {
		return nil, err
	}
	p, err := q.receiveParams(req)
	if err != nil {
		return nil, err
	}

	got := s.receive(ctx, q, p)
	resp := receiveMessageResponse{}
	names := append(slices.Clone(req.AttributeNames), req.MessageSystemAttributeNames...)
	for _, d := range got {
		resp.Messages = append(resp.Messages, s.wireMessage(q, d, names,
			req.MessageAttributeNames))
	}
	return resp, nil
}

// receiveParams checks the request's numbers and fills in the queue's
// defaults for those it leaves out.
func (q *queue) receiveParams(req receiveMessageRequest) (receiveParams, *apiError) {
	q.mu.Lock()
	p := receiveParams{
		max:        1,
		visibility: q.seconds(attrVisibilityTimeout),
		wait:       q.seconds(attrReceiveWaitTime),
	}
	q.mu.Unlock()

	if n := req.MaxNumberOfMessages; n != nil {
		if *n < 1 || *n > maxReceiveMessages {
			return p, kindInvalidParameterValue.errorf("Value %d for parameter "+
				"MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", *n)
		}
		p.max = int(*n)
	}
	if v := req.VisibilityTimeout; v != nil {
		if *v < 0 || *v > maxVisibilityTimeout {
			return p, kindInvalidParameterValue.errorf("Value %d for parameter VisibilityTimeout "+
				"is invalid. Reason: Must be between 0 and 43200, if provided.", *v)
		}
		p.visibility = time.Duration(*v) * time.Second
	}
	if w := req.WaitTimeSeconds; w != nil {
		if *w < 0 || *w > maxWaitTimeSeconds {
			return p, kindInvalidParameterValue.errorf("Value %d for parameter WaitTimeSeconds "+
				"is invalid. Reason: Must be >= 0 and <= 20, if provided.", *w)
		}
		p.wait = time.Duration(*w) * time.Second
	}
	return p, nil
}

// receive takes messages from q. With a wait, it returns as soon as at
// least one message is visible, when the wait is over, when ctx ends or when
// the server closes. Waiting is driven by the queue's change signal and a
// timer set to the next moment a hidden message becomes visible.
func (s *Server) receive(ctx context.Context, q *queue, p receiveParams) []delivery {
	deadline := time.Now().Add(p.wait)
	for {
		dlq := s.deadLetterQueue(q)
		now := time.Now()

		q.mu.Lock()
		if q.deleted {
			q.mu.Unlock()
			return nil
		}
		got, moved := q.take(now, p.max, p.visibility, dlq != nil)
		changed, next := q.changed, q.nextDue()
		waiting := len(got) == 0 && now.Before(deadline)
		if waiting {
			q.pollers++
		}
		q.mu.Unlock()

		deadLetter(dlq, moved)
		if !waiting {
			return got
		}
		woken := s.await(ctx, changed, next, deadline)
		q.mu.Lock()
		q.pollers--
		q.mu.Unlock()
		if !woken {
			return nil
		}
	}
}

// await blocks until changed is closed, next or deadline comes, ctx ends or
// the server closes. It reports false for the last two.
func (s *Server) await(ctx context.Context, changed <-chan struct{}, next,
	deadline time.Time) bool {
	until := deadline
	if !next.IsZero() && next.Before(until) {
		until = next
	}
	t := time.NewTimer(time.Until(until))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-s.closed:
		return false
	case <-changed:
		return true
	case <-t.C:
		return true
	}
}

// deadLetterQueue returns the queue q's redrive policy names, or nil when
// there is no policy or no such queue.
func (s *Server) deadLetterQueue(q *queue) *queue {
	q.mu.Lock()
	rp := q.settings.redrive
	q.mu.Unlock()
	if rp == nil {
		return nil
	}
	return s.lookup(rp.targetName())
}

// deadLetter moves messages into the dead-letter queue, keeping their id,
// body, attributes, sent time and receive count.
func deadLetter(dlq *queue, moved []*message) {
	if len(moved) == 0 {
		return
	}
	dlq.mu.Lock()
	defer dlq.mu.Unlock()
	for _, m := range moved {
		dlq.adopt(m)
	}
}

// wireMessage renders one received message with the system attributes
// names ask for and the user attributes attrNames select.
func (s *Server) wireMessage(q *queue, d delivery, names, attrNames []string) wireMessage {
	attrs := selectAttributes(d.attrs, attrNames)
	return wireMessage{
		MessageID:              d.id,
		ReceiptHandle:          s.receipts.issue(q.name, d.id, d.receives),
		MD5OfBody:              d.md5Body,
		Body:                   d.body,
		Attributes:             d.systemAttributes(names),
		MD5OfMessageAttributes: attributesMD5(attrs),
		MessageAttributes:      toWire(attrs),
	}
}

// systemAttributes returns the message system attributes names ask for:
// "All" or specific names. Unknown names are ignored.
func (d delivery) systemAttributes(names []string) map[string]string {
	if len(names) == 0 {
		return nil
	}
	all := slices.Contains(names, "All")
	out := map[string]string{}
	add := func(name, value string) {
		if value != "" && (all || slices.Contains(names, name)) {
			out[name] = value
		}
	}
	add("SenderId", accountID)
	add("SentTimestamp", formatMillis(d.sentAt))
	add("ApproximateReceiveCount", strconv.Itoa(d.receives))
	add("ApproximateFirstReceiveTimestamp", formatMillis(d.firstReceive))
	add("MessageGroupId", d.groupID)
	add("DeadLetterQueueSourceArn", d.dlqSource)
	if trace, ok := d.system["AWSTraceHeader"]; ok {
		add("AWSTraceHeader", trace.StringValue)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
