package sqstest

import (
	"container/heap"
	"container/list"
	"sync"
	"time"
)

// maxVisibilityExtension bounds how long after a receive a message may stay
// invisible, however often its visibility is changed.
const maxVisibilityExtension = maxVisibilityTimeout * time.Second

// message is one message in a queue. Its body and attributes never change
// after it is sent, so they may be shared outside the queue's lock.
type message struct {
	id        string
	seq       uint64
	body      string
	md5Body   string
	attrs     map[string]MessageAttribute
	system    map[string]MessageAttribute
	groupID   string
	dlqSource string // ARN of the queue it was dead-lettered from, if any

	sentAt         time.Time
	firstReceiveAt time.Time
	receivedAt     time.Time
	receives       int

	// A message is in exactly one place: the ready list (visible), or the
	// pending heap, keyed by visibleAt (in flight or delayed).
	inFlight  bool
	visibleAt time.Time
	heapIndex int
	elem      *list.Element
}

// delivery is what one receive hands out: a copy of the message's fields
// taken under the queue's lock.
type delivery struct {
	id, body, md5Body    string
	attrs, system        map[string]MessageAttribute
	groupID, dlqSource   string
	receives             int
	sentAt, firstReceive time.Time
}

// queue is one standard queue. Its mutex guards everything below it. Long
// polls wait on changed, which is closed and replaced whenever a message
// becomes visible or the earliest pending deadline moves earlier.
type queue struct {
	name    string
	arn     string
	created time.Time

	mu       sync.Mutex
	settings settings
	modified time.Time
	byID     map[string]*message
	ready    list.List
	pending  pendingHeap
	inFlight int
	nextSeq  uint64
	changed  chan struct{}
	deleted  bool
	pollers  int // long polls waiting now; tests watch it
}

func newQueue(name string, s settings, now time.Time) *queue {
	return &queue{
		name:     name,
		arn:      arnPrefix + name,
		created:  now,
		settings: s,
		modified: now,
		byID:     map[string]*message{},
		changed:  make(chan struct{}),
	}
}

// seconds returns an integer attribute as a duration.
func (q *queue) seconds(name string) time.Duration {
	return time.Duration(q.settings.ints[name]) * time.Second
}

// signal wakes every long poll waiting on the queue.
func (q *queue) signal() {
	close(q.changed)
	q.changed = make(chan struct{})
}

// add puts a new message in the queue, visible after delay.
func (q *queue) add(m *message, delay time.Duration, now time.Time) {
	q.nextSeq++
	m.seq = q.nextSeq
	m.heapIndex = -1
	q.byID[m.id] = m
	if delay > 0 {
		m.visibleAt = now.Add(delay)
		q.pushPending(m)
		return
	}
	q.pushReady(m)
}

func (q *queue) pushReady(m *message) {
	m.visibleAt = time.Time{}
	m.elem = q.ready.PushBack(m)
	q.signal()
}

func (q *queue) pushPending(m *message) {
	heap.Push(&q.pending, m)
	if m.heapIndex == 0 {
		q.signal()
	}
}

// remove takes m out of the queue for good.
func (q *queue) remove(m *message) {
	q.unlink(m)
	delete(q.byID, m.id)
}

// unlink takes m out of the ready list or the pending heap.
func (q *queue) unlink(m *message) {
	if m.elem != nil {
		q.ready.Remove(m.elem)
		m.elem = nil
	}
	if m.heapIndex >= 0 {
		heap.Remove(&q.pending, m.heapIndex)
	}
	if m.inFlight {
		m.inFlight = false
		q.inFlight--
	}
}

// expired reports whether m has outlived the retention period.
func (q *queue) expired(m *message, now time.Time) bool {
	return now.Sub(m.sentAt) >= q.seconds(attrRetentionPeriod)
}

// releaseDue makes visible every pending message whose time has come.
func (q *queue) releaseDue(now time.Time) {
	for len(q.pending) > 0 && !q.pending[0].visibleAt.After(now) {
		m := q.pending[0]
		q.unlink(m)
		if q.expired(m, now) {
			delete(q.byID, m.id)
			continue
		}
		m.elem = q.ready.PushBack(m)
		m.visibleAt = time.Time{}
	}
}

// nextDue returns when the next pending message becomes visible, or the
// zero time when none is pending.
func (q *queue) nextDue() time.Time {
	if len(q.pending) == 0 {
		return time.Time{}
	}
	return q.pending[0].visibleAt
}

// take receives up to max visible messages and hides each for visibility.
// Messages already received maxReceiveCount times are not returned but
// handed back in moved, for the caller to put in the dead-letter queue
// named by the redrive policy; canRedrive false keeps them here instead
// (no such queue).
func (q *queue) take(now time.Time, max int, visibility time.Duration,
	canRedrive bool) (got []delivery, moved []*message) {
	q.releaseDue(now)
	rp := q.settings.redrive
	for len(got) < max && q.ready.Len() > 0 {
		m := q.ready.Front().Value.(*message)
		q.unlink(m)
		switch {
		case q.expired(m, now):
			delete(q.byID, m.id)
			continue
		case canRedrive && rp != nil && m.receives >= rp.MaxReceiveCount:
			delete(q.byID, m.id)
			m.dlqSource = q.arn
			moved = append(moved, m)
			continue
		}
		got = append(got, q.deliver(m, now, visibility))
	}
	return got, moved
}

// deliver records one receive of m and hides it for visibility.
func (q *queue) deliver(m *message, now time.Time, visibility time.Duration) delivery {
	m.receives++
	if m.firstReceiveAt.IsZero() {
		m.firstReceiveAt = now
	}
	m.receivedAt = now
	m.inFlight = true
	q.inFlight++
	m.visibleAt = now.Add(visibility)
	q.pushPending(m)
	return delivery{
		id: m.id, body: m.body, md5Body: m.md5Body, attrs: m.attrs, system: m.system,
		groupID: m.groupID, dlqSource: m.dlqSource, receives: m.receives,
		sentAt: m.sentAt, firstReceive: m.firstReceiveAt,
	}
}

// adopt takes in a message dead-lettered from another queue.
func (q *queue) adopt(m *message) {
	q.nextSeq++
	m.seq = q.nextSeq
	m.heapIndex = -1
	q.byID[m.id] = m
	q.pushReady(m)
}

// deleteReceived deletes the message a receipt handle names, if the handle
// comes from the message's latest receive. An older handle deletes
// nothing, as in SQS.
func (q *queue) deleteReceived(id string, receive int) {
	if m := q.byID[id]; m != nil && m.receives == receive {
		q.remove(m)
	}
}

// changeVisibility sets when a received message becomes visible again,
// counted from now. Zero makes it visible at once.
func (q *queue) changeVisibility(id string, receive int, visibility time.Duration,
	now time.Time) *apiError {
	q.releaseDue(now)
	m := q.byID[id]
	if m == nil || m.receives != receive || !m.inFlight {
		return errNotInflight()
	}
	// Whole seconds count, so that 12 hours set right after a receive pass.
	left := maxVisibilityExtension - now.Sub(m.receivedAt).Truncate(time.Second)
	if visibility > left {
		return kindInvalidParameterValue.errorf("Value %d for parameter VisibilityTimeout is "+
			"invalid. Reason: Total VisibilityTimeout for the message is beyond the limit "+
			"[43200 seconds]", int(visibility/time.Second))
	}
	if visibility == 0 {
		q.unlink(m)
		q.pushReady(m)
		return nil
	}
	m.visibleAt = now.Add(visibility)
	heap.Fix(&q.pending, m.heapIndex)
	if m.heapIndex == 0 {
		q.signal()
	}
	return nil
}

// purge deletes every message.
func (q *queue) purge() {
	for _, m := range q.byID {
		m.elem, m.heapIndex, m.inFlight = nil, -1, false
	}
	q.byID = map[string]*message{}
	q.ready.Init()
	q.pending = nil
	q.inFlight = 0
}

// counts returns how many messages are visible, in flight and delayed.
func (q *queue) counts(now time.Time) (visible, inFlight, delayed int) {
	q.releaseDue(now)
	return q.ready.Len(), q.inFlight, len(q.pending) - q.inFlight
}

// pendingHeap orders pending messages by when they become visible, then by
// arrival.
type pendingHeap []*message

func (h pendingHeap) Len() int { return len(h) }

func (h pendingHeap) Less(i, j int) bool {
	if h[i].visibleAt.Equal(h[j].visibleAt) {
		return h[i].seq < h[j].seq
	}
	return h[i].visibleAt.Before(h[j].visibleAt)
}

func (h pendingHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIndex = i
	h[j].heapIndex = j
}

func (h *pendingHeap) Push(x any) {
	m := x.(*message)
	m.heapIndex = len(*h)
	*h = append(*h, m)
}

func (h *pendingHeap) Pop() any {
	old := *h
	m := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	m.heapIndex = -1
	return m
}
