package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"
)

// Defaults of repeatLimiter: a burst of identical errors shows this many
// lines per window, then one line saying how many were held back.
const (
	repeatBurst  = 5
	repeatWindow = time.Minute
)

// repeatLimiter is a log writer that holds back repeats of the same error:
// lines that carry an "error" field and share their level, message and
// error text. The first burst of them per window passes; the rest are
// counted, and the first line written after the window ends is preceded by
// one that says how many were held back. Lines without an error, such as
// the one line per message outcome, always pass.
type repeatLimiter struct {
	next   io.Writer
	burst  int
	window time.Duration
	now    func() time.Time

	mu   sync.Mutex
	seen map[repeatKey]*repeatCount
}

type repeatKey struct{ level, message, err string }

// errorKey is how zerolog writes the key of an error field.
var errorKey = []byte(`"error":`)

type repeatCount struct {
	start   time.Time
	passed  int
	dropped int
}

func newRepeatLimiter(next io.Writer) *repeatLimiter {
	return &repeatLimiter{next: next, burst: repeatBurst, window: repeatWindow, now: time.Now,
		seen: make(map[repeatKey]*repeatCount)}
}

// Write takes one log line, as zerolog writes them. Any line first lets
// out the counts of windows that have ended with lines held back.
func (l *repeatLimiter) Write(p []byte) (int, error) {
	for _, summary := range l.expired() {
		if _, err := l.next.Write(summary); err != nil {
			return 0, err
		}
	}
	// Most lines, the per-message outcome lines among them, carry no error;
	// they are passed on without being decoded.
	if !bytes.Contains(p, errorKey) {
		return l.next.Write(p)
	}
	var line struct {
		Level   string `json:"level"`
		Message string `json:"message"`
		Error   string `json:"error"`
	}
	if json.Unmarshal(p, &line) != nil || line.Error == "" {
		return l.next.Write(p)
	}
	if !l.admit(repeatKey{line.Level, line.Message, line.Error}) {
		return len(p), nil
	}
	return l.next.Write(p)
}

// admit reports whether a line of key passes.
func (l *repeatLimiter) admit(key repeatKey) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.seen[key]
	if c == nil {
		l.seen[key] = &repeatCount{start: l.now(), passed: 1}
		return true
	}
	if c.passed < l.burst {
		c.passed++
		return true
	}
	c.dropped++
	return false
}

// expired forgets the windows that have ended and returns a line for each
// that held lines back.
func (l *repeatLimiter) expired() [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var lines [][]byte
	for k, c := range l.seen {
		if now.Sub(c.start) < l.window {
			continue
		}
		if c.dropped > 0 {
			lines = append(lines, heldBackLine(k, c.dropped, l.window))
		}
		delete(l.seen, k)
	}
	return lines
}

func heldBackLine(key repeatKey, n int, window time.Duration) []byte {
	b, _ := json.Marshal(map[string]any{
		"level":     key.level,
		"message":   fmt.Sprintf("%d repeats of this error were not logged in the last %s", n, window),
		"repeated":  key.message,
		"error":     key.err,
		"held_back": n,
	})
	return append(b, '\n')
}
