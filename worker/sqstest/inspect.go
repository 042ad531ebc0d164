package sqstest

import (
	"cmp"
	"slices"
	"time"
)

// Message is a snapshot of one message in a queue.
type Message struct {
	ID   string
	Body string
	// Attributes are the user message attributes, by name.
	Attributes   map[string]MessageAttribute
	ReceiveCount int
	SentAt       time.Time
	// InFlight is true while the message is received and invisible.
	InFlight bool
}

// MessageAttribute is a user message attribute. StringValue holds String and
// Number values, BinaryValue Binary ones; DataType may carry a custom label
// such as "String.json".
type MessageAttribute struct {
	DataType    string
	StringValue string
	BinaryValue []byte
}

// Messages returns a snapshot of every message in the queue, visible, in
// flight or delayed, in the order they arrived. It returns nil when no
// such queue exists.
func (s *Server) Messages(queueURL string) []Message {
	q := s.lookup(queueNameFromURL(queueURL))
	if q == nil {
		return nil
	}
	q.mu.Lock()
	q.releaseDue(time.Now())
	all := make([]*message, 0, len(q.byID))
	for _, m := range q.byID {
		all = append(all, m)
	}
	out := make([]Message, 0, len(all))
	slices.SortFunc(all, func(a, b *message) int { return cmp.Compare(a.seq, b.seq) })
	for _, m := range all {
		out = append(out, m.snapshot())
	}
	q.mu.Unlock()
	return out
}

func (m *message) snapshot() Message {
	var attrs map[string]MessageAttribute
	if len(m.attrs) > 0 {
		attrs = make(map[string]MessageAttribute, len(m.attrs))
		for name, a := range m.attrs {
			a.BinaryValue = slices.Clone(a.BinaryValue)
			attrs[name] = a
		}
	}
	return Message{
		ID:           m.id,
		Body:         m.body,
		Attributes:   attrs,
		ReceiveCount: m.receives,
		SentAt:       m.sentAt,
		InFlight:     m.inFlight,
	}
}

// Counts returns how many of the queue's messages are visible, in flight
// and delayed, as the ApproximateNumberOfMessages, ...NotVisible and
// ...Delayed attributes report them, but exact. An unknown queue has none.
func (s *Server) Counts(queueURL string) (visible, inFlight, delayed int) {
	q := s.lookup(queueNameFromURL(queueURL))
	if q == nil {
		return 0, 0, 0
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.counts(time.Now())
}
