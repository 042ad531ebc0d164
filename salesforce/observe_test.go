package salesforce

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// callLog is an Observer that records what it is told.
type callLog struct {
	mu      sync.Mutex
	calls   []string // "resource status"
	renewed []bool
}

func (l *callLog) Call(resource string, status int, took time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if took < 0 {
		resource += " negative-duration"
	}
	l.calls = append(l.calls, fmt.Sprint(resource, " ", status))
}

func (l *callLog) TokenFetched(renewed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.renewed = append(l.renewed, renewed)
}

func TestObserverSeesEveryCall(t *testing.T) {
	e := startOrg(t)
	e.org.Insert("Task", map[string]any{"Call_Id__c": "c-1"})
	log := &callLog{}
	ctx := context.Background()
	for _, tt := range []struct {
		mode WriteMode
		want []string
	}{
		{Overwrite, []string{"token 200", "describe 200", "external-id 200", "collections-update 200"}},
		{Append, []string{"token 200", "describe 200", "external-id 200", "composite 200"}},
	} {
		log.calls, log.renewed = nil, nil
		c := e.client(tt.mode, func(cfg *Config) { cfg.Observer = log })
		if _, err := c.Apply(ctx, Summary{CallID: "c-1", Text: "x", SummaryID: "s"}); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(log.calls, tt.want) || !slices.Equal(log.renewed, []bool{false}) {
			t.Errorf("%s: calls %q, renewals %v; want %q, [false]", tt.mode, log.calls, log.renewed, tt.want)
		}
	}

	log.calls, log.renewed = nil, nil
	c := e.client(Overwrite, func(cfg *Config) { cfg.Observer = log; cfg.LookupField = "CallObject" })
	if err := c.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	e.org.ExpireTokens()
	if _, err := c.Apply(ctx, Summary{CallID: "none", Text: "x", SummaryID: "s"}); err == nil {
		t.Fatal("Apply found a record for an unknown call id")
	}
	want := []string{"token 200", "describe 200", "query 401", "token 200", "query 200"}
	if !slices.Equal(log.calls, want) || !slices.Equal(log.renewed, []bool{false, true}) {
		t.Errorf("calls %q, renewals %v; want %q, [false true]", log.calls, log.renewed, want)
	}
}
