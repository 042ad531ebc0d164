package worker

import (
	"testing"
	"time"
)

func TestExtensionSecondsStaysWithinTwelveHours(t *testing.T) {
	tests := []struct {
		name       string
		visibility time.Duration
		elapsed    time.Duration
		want       int32
	}{
		{"fresh-message", 30 * time.Second, 20 * time.Second, 30},
		{"fraction-of-a-second-dropped", 30 * time.Second, 1500 * time.Millisecond, 30},
		{"near-the-limit", 30 * time.Second, 12*time.Hour - 10*time.Second, 9},
		{"at-the-limit", 30 * time.Second, 12*time.Hour - time.Second, 0},
		{"past-the-limit", 30 * time.Second, 13 * time.Hour, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := extensionSeconds(tt.visibility, tt.elapsed)
			if got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}
