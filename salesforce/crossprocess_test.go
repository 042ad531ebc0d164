package salesforce

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestAppendsFromTwoProcesses has two clients, standing for two connector
// processes with nothing shared but the org, append to one record at the
// same time. Each write lands in a later second, so the conditional write
// sees every conflict: without If-Unmodified-Since, blocks would be lost.
func TestAppendsFromTwoProcesses(t *testing.T) {
	const perProcess = 8
	e := startOrg(t)
	var tick atomic.Int64
	base := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	e.org.SetClock(func() time.Time { return base.Add(time.Duration(tick.Add(1)) * time.Second) })
	id := e.org.Insert("Task", map[string]any{"Call_Id__c": "c-1", "Summary__c": "agent note"})

	var wg sync.WaitGroup
	for p := range 2 {
		// Unbatched: each summary is its own read and write, racing the others.
		c := e.client(Append, func(cfg *Config) { cfg.BatchSize, cfg.MaxBatches = 1, perProcess })
		for i := range perProcess {
			wg.Go(func() {
				s := Summary{CallID: "c-1", Text: fmt.Sprintf("from %d: %d", p, i),
					SummaryID: fmt.Sprintf("p%d-%d", p, i)}
				// Like the worker, try again while the failure is transient:
				// sixteen writers on one record do run out of rounds.
				err := errors.New("not tried")
				for try := 0; try < 20 && err != nil; try++ {
					if _, err = c.Apply(context.Background(), s); err != nil && ClassOf(err) != Transient {
						break
					}
				}
				if err != nil {
					t.Errorf("process %d, summary %d: %v", p, i, err)
				}
			})
		}
	}
	wg.Wait()
	got := e.summaryOf(id, "Summary__c")
	if !strings.HasPrefix(got, "agent note\n\n") {
		t.Errorf("agent note lost: %.60q", got)
	}
	for p := range 2 {
		for i := range perProcess {
			if n := strings.Count(got, Marker(fmt.Sprintf("p%d-%d", p, i))); n != 1 {
				t.Errorf("block p%d-%d appears %d times", p, i, n)
			}
		}
	}
}
