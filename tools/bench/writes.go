package main

import (
	"sync"
	"time"
)

// writeLog remembers when the fake org first saved each record. It is the
// org's write observer, so observe runs under the org's lock and stays
// short.
type writeLog struct {
	mu    sync.Mutex
	first map[string]time.Time // by 18-character record id
}

func newWriteLog() *writeLog {
	return &writeLog{first: make(map[string]time.Time)}
}

// observe notes a saved record. The time is taken here rather than from
// the org, whose LastModifiedDate has millisecond precision and no
// monotonic reading; the observer runs right after the write.
func (w *writeLog) observe(_, id string, _ time.Time) {
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, seen := w.first[id]; !seen {
		w.first[id] = now
	}
}

// written counts the records saved at least once.
func (w *writeLog) written() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.first)
}

// firstWrite returns when the record was first saved, if it was.
func (w *writeLog) firstWrite(id string) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	at, ok := w.first[id]
	return at, ok
}
