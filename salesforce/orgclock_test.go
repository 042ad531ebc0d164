package salesforce

import (
	"net/http"
	"testing"
	"time"
)

func TestOrgClockKeepsALowerBound(t *testing.T) {
	local := time.Date(2026, 12, 4, 3, 0, 0, 0, time.UTC)
	date := func(d time.Duration) string { return local.Add(d).Format(http.TimeFormat) }
	var c orgClock
	if _, ok := c.lowerBound(local); ok {
		t.Fatal("a bound before any Date was seen")
	}
	steps := []struct {
		name    string
		date    string
		arrived time.Duration
		want    time.Duration // the offset kept
	}{
		{"first", date(10 * time.Second), 0, 10 * time.Second},
		{"slow-answer-keeps-bound", date(10 * time.Second), 2 * time.Second, 10 * time.Second},
		{"higher-raises-bound", date(12 * time.Second), time.Second, 11 * time.Second},
		{"org-clock-set-back", date(-time.Minute), 0, -time.Minute},
		{"unparsable-ignored", "yesterday", 0, -time.Minute},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			c.observe(s.date, local.Add(s.arrived))
			got, ok := c.lowerBound(local)
			if !ok || got.Sub(local) != s.want {
				t.Errorf("offset = %v, want %v", got.Sub(local), s.want)
			}
		})
	}
}
