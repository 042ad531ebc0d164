package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func TestRepeatLimiter(t *testing.T) {
	var out bytes.Buffer
	now := time.Date(2026, 12, 4, 3, 0, 0, 0, time.UTC)
	l := newRepeatLimiter(&out)
	l.now = func() time.Time { return now }
	log := zerolog.New(l)

	for range 12 {
		log.Error().Str("message_id", "m").Err(errString("connection refused")).Msg("delete failed")
		log.Info().Str("outcome", "applied").Msg("message handled") // never held back
	}
	log.Warn().Err(errString("throttled")).Msg("delete failed") // another error: its own count

	count := func(s string) int { return strings.Count(out.String(), s) }
	if got := count(`"error":"connection refused"`); got != repeatBurst {
		t.Errorf("identical errors logged %d times, want %d", got, repeatBurst)
	}
	if got := count(`"message handled"`); got != 12 {
		t.Errorf("outcome lines logged %d times, want 12", got)
	}
	if got := count(`"throttled"`); got != 1 {
		t.Errorf("the other error logged %d times, want 1", got)
	}

	now = now.Add(repeatWindow)
	out.Reset()
	log.Info().Msg("later")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"held_back":7`) ||
		!strings.Contains(lines[0], `"repeated":"delete failed"`) || !strings.Contains(lines[1], "later") {
		t.Errorf("after the window got:\n%s\nwant the held-back count, then the line", out.String())
	}

	out.Reset()
	log.Error().Err(errString("connection refused")).Msg("delete failed")
	if !strings.Contains(out.String(), "connection refused") {
		t.Errorf("a new window does not let the error through: %q", out.String())
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestDevNullIsNotATerminal(t *testing.T) {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Error("/dev/null taken for a terminal: auto would pick the console format")
	}
}
