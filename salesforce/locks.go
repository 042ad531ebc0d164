package salesforce

import (
	"context"
	"slices"
	"sync"
)

// maxWrittenKept bounds the records whose last write is remembered; past
// it the memory is cleared and every earlier reading counts as stale.
const maxWrittenKept = 8192

// recordLocks serialises appends to the same record within the process,
// and remembers which records this process wrote lately, so that a batch
// can tell whether what its lookup read is still current. Lock entries
// exist only while someone holds or waits for them.
type recordLocks struct {
	mu   sync.Mutex
	byID map[string]*recordLock

	seq     uint64            // counts writes
	written map[string]uint64 // record id → seq of its last write
	floor   uint64            // writes up to here are forgotten
}

type recordLock struct {
	sem   chan struct{}
	users int // holders and waiters
}

// now returns a mark to compare later writes with.
func (l *recordLocks) now() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seq
}

// wrote notes a write, or an attempted one, to record id.
func (l *recordLocks) wrote(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	if l.written == nil || len(l.written) >= maxWrittenKept {
		l.written = make(map[string]uint64)
		l.floor = l.seq - 1
	}
	l.written[id] = l.seq
}

// writtenSince reports whether record id may have been written after mark.
func (l *recordLocks) writtenSince(id string, mark uint64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return mark < l.floor || l.written[id] > mark
}

// acquireAll takes the locks of ids in sorted order, so that two batches
// sharing records never wait for each other in a circle. It waits until
// all are held or ctx ends; the returned function releases them.
func (l *recordLocks) acquireAll(ctx context.Context, ids []string) (func(), error) {
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	var releases []func()
	releaseAll := func() {
		for _, r := range releases {
			r()
		}
	}
	for _, id := range sorted {
		release, err := l.acquire(ctx, id)
		if err != nil {
			releaseAll()
			return nil, err
		}
		releases = append(releases, release)
	}
	return releaseAll, nil
}

// acquire waits for the lock of record id, or for ctx to end. The returned
// function releases it.
func (l *recordLocks) acquire(ctx context.Context, id string) (func(), error) {
	l.mu.Lock()
	if l.byID == nil {
		l.byID = make(map[string]*recordLock)
	}
	lk := l.byID[id]
	if lk == nil {
		lk = &recordLock{sem: make(chan struct{}, 1)}
		l.byID[id] = lk
	}
	lk.users++
	l.mu.Unlock()

	select {
	case lk.sem <- struct{}{}:
		return func() { <-lk.sem; l.leave(id, lk) }, nil
	case <-ctx.Done():
		l.leave(id, lk)
		return nil, ctx.Err()
	}
}

func (l *recordLocks) leave(id string, lk *recordLock) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lk.users--
	if lk.users == 0 {
		delete(l.byID, id)
	}
}

// size returns the number of records locked or waited for.
func (l *recordLocks) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.byID)
}
