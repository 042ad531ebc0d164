package salesforce

import (
	"context"
	"sync"
	"time"
)

// job is one summary waiting for a batch, with where its answer goes.
type job struct {
	ctx     context.Context // the caller's; a job whose ctx ended is dropped
	summary Summary
	answer  chan answer // buffered: the batch never waits for the caller
}

// answer is what Apply returns for one job.
type answer struct {
	res Result
	err error
}

func newJob(ctx context.Context, s Summary) *job {
	return &job{ctx: ctx, summary: s, answer: make(chan answer, 1)}
}

// batcher gathers jobs from any number of callers into batches of at most
// size jobs. A batch leaves when it is full, or when its oldest job has
// waited linger, and only while fewer than running batches are at work:
// when Salesforce is slow, jobs keep gathering into fuller batches instead
// of queueing as many small ones.
type batcher struct {
	size, maxRunning int
	linger           time.Duration
	run              func([]*job) // answers every job it is given

	mu      sync.Mutex
	queue   []*job
	running int
	due     bool   // the oldest queued job has waited its linger
	gen     uint64 // tells a current linger timer from a stale one
	timer   *time.Timer
}

func newBatcher(size, maxRunning int, linger time.Duration, run func([]*job)) *batcher {
	return &batcher{size: size, maxRunning: maxRunning, linger: linger, run: run}
}

// submit queues j; run answers it later on another goroutine.
func (b *batcher) submit(j *job) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.queue = append(b.queue, j)
	if len(b.queue) == 1 {
		b.startLinger()
	}
	b.dispatch()
}

// startLinger marks the queue due after linger. The caller holds b.mu.
func (b *batcher) startLinger() {
	b.gen++
	b.due = b.linger <= 0
	if b.due {
		return
	}
	gen := b.gen
	b.timer = time.AfterFunc(b.linger, func() { b.lingered(gen) })
}

func (b *batcher) lingered(gen uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if gen == b.gen {
		b.due = true
		b.dispatch()
	}
}

// dispatch starts as many batches as the rules allow. The caller holds b.mu.
func (b *batcher) dispatch() {
	for b.running < b.maxRunning && len(b.queue) > 0 && (b.due || len(b.queue) >= b.size) {
		n := min(b.size, len(b.queue))
		batch := b.queue[:n:n]
		b.queue = append([]*job(nil), b.queue[n:]...)
		if len(b.queue) == 0 {
			b.stopLinger()
		}
		b.running++
		go b.execute(batch)
	}
}

// stopLinger forgets the timer of a queue that emptied. The caller holds
// b.mu.
func (b *batcher) stopLinger() {
	b.gen++
	b.due = false
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
}

func (b *batcher) execute(batch []*job) {
	b.run(batch)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.running--
	b.dispatch()
}
