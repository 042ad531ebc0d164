package salesforce

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// batchLog is a batcher's run function that records batch sizes and can
// hold batches until released.
type batchLog struct {
	mu      sync.Mutex
	sizes   []int
	started chan int      // the size of each batch as it starts
	hold    chan struct{} // nil: batches end at once
}

func newBatchLog(hold bool) *batchLog {
	l := &batchLog{started: make(chan int, 100)}
	if hold {
		l.hold = make(chan struct{})
	}
	return l
}

func (l *batchLog) run(jobs []*job) {
	l.mu.Lock()
	l.sizes = append(l.sizes, len(jobs))
	l.mu.Unlock()
	l.started <- len(jobs)
	if l.hold != nil {
		<-l.hold
	}
	for _, j := range jobs {
		j.answer <- answer{res: Result{RecordID: j.summary.CallID}}
	}
}

// waitStart returns the size of the next batch to start, failing the test
// after a deadline.
func (l *batchLog) waitStart(t *testing.T) int {
	t.Helper()
	select {
	case n := <-l.started:
		return n
	case <-time.After(5 * time.Second):
		t.Fatal("no batch started")
		return 0
	}
}

func submitN(b *batcher, n int) []*job {
	jobs := make([]*job, n)
	for i := range jobs {
		jobs[i] = newJob(context.Background(), Summary{CallID: "c"})
		b.submit(jobs[i])
	}
	return jobs
}

func TestBatcherLeavesWhenFull(t *testing.T) {
	log := newBatchLog(false)
	b := newBatcher(3, 1, time.Hour, log.run)
	jobs := submitN(b, 7)
	if got := []int{log.waitStart(t), log.waitStart(t)}; !slices.Equal(got, []int{3, 3}) {
		t.Errorf("batches = %v, want [3 3]", got)
	}
	for _, j := range jobs[:6] {
		if a := <-j.answer; a.err != nil {
			t.Errorf("answer: %v", a.err)
		}
	}
	select {
	case n := <-log.started:
		t.Errorf("a batch of %d left before its linger", n)
	default:
	}
}

func TestBatcherLeavesAfterLinger(t *testing.T) {
	log := newBatchLog(false)
	b := newBatcher(100, 1, 10*time.Millisecond, log.run)
	jobs := submitN(b, 2)
	if got := log.waitStart(t); got != 2 {
		t.Errorf("batch of %d, want 2", got)
	}
	for _, j := range jobs {
		<-j.answer
	}
	// The queue is empty again: a new job starts a new linger.
	j := submitN(b, 1)[0]
	if got := log.waitStart(t); got != 1 {
		t.Errorf("batch of %d, want 1", got)
	}
	<-j.answer
}

// TestBatcherGathersWhileBusy checks that jobs arriving while every batch
// slot is busy gather into full batches rather than many small ones.
func TestBatcherGathersWhileBusy(t *testing.T) {
	log := newBatchLog(true)
	b := newBatcher(4, 1, 0, log.run)
	submitN(b, 1)
	if got := log.waitStart(t); got != 1 {
		t.Fatalf("first batch of %d, want 1: without linger a lone job leaves at once", got)
	}
	submitN(b, 9) // all wait: the one slot is busy
	for range 3 {
		log.hold <- struct{}{}
	}
	got := []int{log.waitStart(t), log.waitStart(t), log.waitStart(t)}
	if !slices.Equal(got, []int{4, 4, 1}) {
		t.Errorf("batches = %v, want [4 4 1]", got)
	}
	log.hold <- struct{}{}
}

func TestBatcherRunsBatchesSideBySide(t *testing.T) {
	log := newBatchLog(true)
	b := newBatcher(2, 3, 0, log.run)
	submitN(b, 6)
	for range 3 {
		if got := log.waitStart(t); got < 1 {
			t.Errorf("batch of %d", got)
		}
	}
	b.mu.Lock()
	running := b.running
	b.mu.Unlock()
	if running != 3 {
		t.Errorf("running = %d, want 3", running)
	}
	close(log.hold)
}

func TestRunBatchDropsJobsWhoseCallerLeft(t *testing.T) {
	o := newTestOrg(t, okRoute)
	c := o.client(Overwrite, nil)
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	left := newJob(gone, Summary{CallID: "c-1", Text: "x"})
	stays := newJob(context.Background(), Summary{CallID: "c-1", Text: "y"})

	c.runBatch([]*job{left, stays})
	if a := <-left.answer; a.err != context.Canceled {
		t.Errorf("left: %v, want context.Canceled", a.err)
	}
	if a := <-stays.answer; a.err != nil || a.res.RecordID == "" {
		t.Errorf("stays: %+v, %v", a.res, a.err)
	}
	if got := o.dataRequests.Load(); got != 3 {
		t.Errorf("data requests = %d, want 3 (describe, lookup, one write)", got)
	}
}
