package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/callsummary/connector/salesforce"
	"github.com/callsummary/connector/tools/internal/pipeline"
)

// TestBenchEndToEnd builds the worker and runs one small backlog and one
// short trickle through it. It checks that they complete with every
// record right and sane figures, not how fast they are.
func TestBenchEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the connector and runs it as a subprocess")
	}
	dir := t.TempDir()
	binary, err := pipeline.BuildConnector(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	args := []string{
		"--connector", binary, "--out", dir,
		"--scenario", "backlog-overwrite-0ms,trickle-append-0ms",
		"--messages", "200", "--trickle-messages", "5", "--trickle-interval", "50ms",
		"--deadline", "40s",
	}
	if code := execute(t.Context(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit code %d, want 0; stderr:\n%s", code, stderr.String())
	}

	results := jsonLines(t, stdout.String())
	var names []string
	for _, r := range results {
		names = append(names, r.Scenario)
	}
	if diff := cmp.Diff([]string{"backlog-overwrite-0ms", "trickle-append-0ms"}, names); diff != "" {
		t.Fatalf("scenarios mismatch (-want +got):\n%s", diff)
	}
	for _, r := range results {
		t.Run(r.Scenario, func(t *testing.T) { checkResult(t, r) })
	}
}

// jsonLines decodes the lines of out that start with "{".
func jsonLines(t *testing.T, out string) []result {
	t.Helper()
	var results []result
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if !strings.HasPrefix(sc.Text(), "{") {
			continue
		}
		var r result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("decode %q: %v", sc.Text(), err)
		}
		results = append(results, r)
	}
	return results
}

func checkResult(t *testing.T, r result) {
	t.Helper()
	if r.Error != "" || r.Mismatches != 0 || r.DeadLetters != 0 {
		t.Errorf("error %q, %d mismatches, %d dead letters; want none",
			r.Error, r.Mismatches, r.DeadLetters)
	}
	if r.Messages <= 0 || r.Seconds <= 0 || r.MessagesPerSecond <= 0 {
		t.Errorf("messages %d, seconds %v, messages/s %v; want all above 0",
			r.Messages, r.Seconds, r.MessagesPerSecond)
	}
	if r.APICallsPerMessage <= 0 || r.P50ms <= 0 || r.P99ms < r.P50ms || r.MaxMs < r.P99ms {
		t.Errorf("api calls/message %v, p50 %v ms, p99 %v ms, max %v ms; "+
			"want calls, 0 < p50 <= p99 <= max", r.APICallsPerMessage, r.P50ms, r.P99ms, r.MaxMs)
	}
	if r.PeakRSSMiB <= 0 && runtime.GOOS == "linux" || r.WorkerCPUSeconds <= 0 {
		t.Errorf("peak rss %v MiB, cpu %v s; want both above 0",
			r.PeakRSSMiB, r.WorkerCPUSeconds)
	}
}

func TestSelectScenarios(t *testing.T) {
	tests := []struct {
		name   string
		filter string
		want   []string
	}{
		{"empty-selects-all", "", names(allScenarios())},
		{"substring", "trickle-append", []string{"trickle-append-0ms", "trickle-append-100ms"}},
		{"comma-list", "backlog-overwrite-0ms, trickle-append-100ms",
			[]string{"backlog-overwrite-0ms", "trickle-append-100ms"}},
		{"no-match", "sideways", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := selectScenarios(tt.filter)
			if tt.want == nil {
				if err == nil {
					t.Fatalf("selected %v, want an error", names(got))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, names(got)); diff != "" {
				t.Errorf("scenarios mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func names(scenarios []scenario) []string {
	var out []string
	for _, sc := range scenarios {
		out = append(out, sc.name)
	}
	return out
}

func TestCheckTarget(t *testing.T) {
	appendCall := &newPlan(1, salesforce.Append).calls[0]
	block := salesforce.Block(appendCall.expected())
	overwriteCall := &newPlan(1, salesforce.Overwrite).calls[0]

	tests := []struct {
		name string
		mode salesforce.WriteMode
		c    *call
		got  string
		ok   bool
	}{
		{"overwritten", salesforce.Overwrite, overwriteCall, overwriteCall.summary, true},
		{"overwrite-missing", salesforce.Overwrite, overwriteCall, "", false},
		{"overwrite-extra", salesforce.Overwrite, overwriteCall, overwriteCall.summary + "x", false},
		{"appended", salesforce.Append, appendCall, appendCall.agentText + "\n\n" + block, true},
		{"append-agent-text-lost", salesforce.Append, appendCall, block, false},
		{"append-twice", salesforce.Append, appendCall,
			appendCall.agentText + "\n\n" + block + "\n\n" + block, false},
		{"append-missing", salesforce.Append, appendCall, appendCall.agentText, false},
		{"append-summary-alone", salesforce.Append, appendCall,
			appendCall.agentText + "\n\n" + appendCall.summary, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problem := checkTarget(tt.mode, tt.c, tt.got)
			if got := problem == ""; got != tt.ok {
				t.Errorf("checkTarget = %q; want ok %v", problem, tt.ok)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[len(hundred)-1-i] = time.Duration(i+1) * time.Millisecond // descending
	}
	tests := []struct {
		name string
		ds   []time.Duration
		q    float64
		want float64
	}{
		{"none", nil, 0.5, 0},
		{"one", []time.Duration{1500 * time.Microsecond}, 0.99, 1.5},
		{"median", hundred, 0.50, 50},
		{"p99", hundred, 0.99, 99},
		{"max", hundred, 1, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.ds, tt.q); got != tt.want {
				t.Errorf("percentile(%v) = %v ms, want %v ms", tt.q, got, tt.want)
			}
		})
	}
}
