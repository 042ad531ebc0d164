package sqstest

import (
	"testing"
	"time"
)

// These tests drive a queue with made-up times, for behaviour that real
// time would make slow to test.

func newTestQueue(t *testing.T, attrs map[string]string) *queue {
	t.Helper()
	p, err := parsePatch(attrs, func(string) bool { return true })
	if err != nil {
		t.Fatalf("attributes: %v", err)
	}
	s := defaultSettings()
	s.apply(p)
	return newQueue("q", s, time.Unix(0, 0))
}

func addMessage(q *queue, body string, delay time.Duration, now time.Time) *message {
	m := &message{id: newMessageID(), body: body, md5Body: md5Hex(body), sentAt: now}
	q.add(m, delay, now)
	return m
}

func TestQueueRetention(t *testing.T) {
	t0 := time.Unix(1000, 0)
	q := newTestQueue(t, map[string]string{"MessageRetentionPeriod": "60"})
	addMessage(q, "old", 0, t0)
	addMessage(q, "in flight", 0, t0)
	if got, _ := q.take(t0, 1, 30*time.Second, false); len(got) != 1 || got[0].body != "old" {
		t.Fatalf("take: %+v", got)
	}
	addMessage(q, "new", 0, t0.Add(30*time.Second))

	got, _ := q.take(t0.Add(61*time.Second), 10, time.Second, false)
	if len(got) != 1 || got[0].body != "new" {
		t.Fatalf("after retention: got %+v, want only the new message", got)
	}
	if len(q.byID) != 1 {
		t.Errorf("messages kept: %d, want 1", len(q.byID))
	}
}

func TestQueueVisibilityCeiling(t *testing.T) {
	t0 := time.Unix(1000, 0)
	q := newTestQueue(t, nil)
	m := addMessage(q, "x", 0, t0)
	q.take(t0, 1, 3*time.Hour, false)

	later := t0.Add(2 * time.Hour)
	if err := q.changeVisibility(m.id, 1, 10*time.Hour+time.Second, later); err == nil {
		t.Error("extending past 12 hours from the receive: got no error")
	}
	if err := q.changeVisibility(m.id, 1, 10*time.Hour, later); err != nil {
		t.Errorf("extending to exactly 12 hours: %v", err)
	}
	if got := q.nextDue(); !got.Equal(t0.Add(12 * time.Hour)) {
		t.Errorf("visible again at %v, want %v", got, t0.Add(12*time.Hour))
	}
}

func TestQueueStates(t *testing.T) {
	t0 := time.Unix(1000, 0)
	q := newTestQueue(t, map[string]string{"DelaySeconds": "5"})
	addMessage(q, "delayed by queue", 5*time.Second, t0)
	addMessage(q, "now", 0, t0)
	q.take(t0, 1, 10*time.Second, false)

	steps := []struct {
		at                         time.Duration
		visible, inFlight, delayed int
	}{
		{0, 0, 1, 1},
		{5 * time.Second, 1, 1, 0},
		{10 * time.Second, 2, 0, 0},
	}
	for _, st := range steps {
		v, f, d := q.counts(t0.Add(st.at))
		if v != st.visible || f != st.inFlight || d != st.delayed {
			t.Errorf("at +%v: got %d/%d/%d, want %d/%d/%d", st.at, v, f, d,
				st.visible, st.inFlight, st.delayed)
		}
	}
}
