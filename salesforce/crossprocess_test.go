package salesforce

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestAppendsFromTwoProcesses has two clients, standing for two connector
// processes with nothing shared but the org, append to one record at the
// same time, on the org's real clock, so many writes fall in the same
// second. If-Unmodified-Since has one-second granularity: without it, or
// without waiting for the org's clock to leave the second a record was
// last modified in, blocks are lost.
func TestAppendsFromTwoProcesses(t *testing.T) {
	const perProcess = 3
	e := startOrg(t)
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
				for try := 0; try < 40 && err != nil; try++ {
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
