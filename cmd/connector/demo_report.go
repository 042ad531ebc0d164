package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/callsummary/connector/config"
	"github.com/callsummary/connector/salesforce/sftest"
	"github.com/callsummary/connector/worker"
)

// demoReport is the result of one demo run, printed as a table or as JSON.
type demoReport struct {
	Outcomes          map[string]int `json:"outcomes"` // by outcome
	Reasons           map[string]int `json:"reasons"`  // dead letters by reason
	Sent              map[string]int `json:"sent"`     // by message kind
	APICalls          int64          `json:"api_calls"`
	TokenRequests     int64          `json:"token_requests"`
	Messages          int            `json:"messages"`
	Seconds           float64        `json:"seconds"`
	MessagesPerSecond float64        `json:"messages_per_second"`
	Mode              string         `json:"mode"`
	Lookup            string         `json:"lookup"`
	LatencyMS         float64        `json:"latency_ms"` // fake-org latency per call
	Verified          bool           `json:"verified"`
	Mismatches        []string       `json:"mismatches"`
}

// mainOutcomes are always in a report, counted or not.
var mainOutcomes = []worker.Outcome{worker.Applied, worker.AlreadyApplied, worker.DeadLetter}

func newDemoReport(p *demoPlan, stats worker.Snapshot, calls sftest.Calls,
	elapsed time.Duration, latency time.Duration, mismatches []string) demoReport {
	r := demoReport{
		Outcomes:      map[string]int{},
		Reasons:       map[string]int{},
		Sent:          map[string]int{},
		APICalls:      calls.API,
		TokenRequests: calls.Token,
		Messages:      len(p.messages),
		Seconds:       round3(elapsed.Seconds()),
		Mode:          string(p.mode),
		Lookup:        p.lookup,
		LatencyMS:     round3(float64(latency) / float64(time.Millisecond)),
		Verified:      len(mismatches) == 0,
		Mismatches:    append([]string{}, mismatches...),
	}
	for _, o := range mainOutcomes {
		r.Outcomes[string(o)] = 0
	}
	maps.Copy(r.Outcomes, stringKeys(stats.Outcomes))
	maps.Copy(r.Reasons, stats.DeadLetters)
	for kind, n := range p.sentByKind() {
		r.Sent[string(kind)] = n
	}
	if elapsed > 0 {
		r.MessagesPerSecond = round3(float64(r.Messages) / elapsed.Seconds())
	}
	return r
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// renderDemo prints the report as a table, or as one JSON object.
func renderDemo(w io.Writer, r demoReport, asJSON bool) error {
	if asJSON {
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("demo: encode report: %w", err)
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	return renderTable(w, r)
}

// labelWidth fits the longest label, "DEAD-LETTER REASON", and a space.
const labelWidth = 19

func renderTable(w io.Writer, r demoReport) error {
	tw := tabwriter.NewWriter(w, labelWidth, 0, 1, ' ', 0)
	writeHeader(tw, r)
	digits := max(5, len(fmt.Sprint(r.Messages)))
	writeCounts(tw, "MESSAGE KIND", "SENT", digits, kindOrder(r.Sent), r.Sent)
	writeCounts(tw, "OUTCOME", "COUNT", digits, outcomeOrder(r.Outcomes), r.Outcomes)
	if len(r.Reasons) > 0 {
		reasons := slices.Sorted(maps.Keys(r.Reasons))
		writeCounts(tw, "DEAD-LETTER REASON", "COUNT", digits, reasons, r.Reasons)
	}
	writeTotals(tw, r, digits)
	return tw.Flush()
}

func writeHeader(w io.Writer, r demoReport) {
	lookup := "external-id lookup"
	if r.Lookup == lookupSOQL {
		lookup = "SOQL lookup"
	}
	fmt.Fprintf(w, "Summary connector demo: %d messages, %s mode, %s\n", r.Messages, r.Mode, lookup)
	latency := ""
	if r.LatencyMS > 0 {
		latency = fmt.Sprintf(", %g ms latency per call", r.LatencyMS)
	}
	fmt.Fprintf(w, "(in-process SQS, fake Salesforce org%s; "+
		"not-found grace 0s for the demo, %s by default)\n\n", latency, defaultGrace())
}

// defaultGrace is the NOT_FOUND_GRACE a real run uses unless told otherwise.
func defaultGrace() string {
	for _, v := range config.Variables() {
		if v.Name == "NOT_FOUND_GRACE" && v.Default != "" {
			return v.Default
		}
	}
	return "15m"
}

func writeCounts(w io.Writer, title, column string, digits int, keys []string,
	counts map[string]int) {
	fmt.Fprintf(w, "%s\t%*s\n", title, digits, column)
	for _, k := range keys {
		fmt.Fprintf(w, "%s\t%*d\n", k, digits, counts[k])
	}
	fmt.Fprintln(w)
}

func writeTotals(w io.Writer, r demoReport, digits int) {
	perMessage := 0.0
	if r.Messages > 0 {
		perMessage = float64(r.APICalls) / float64(r.Messages)
	}
	fmt.Fprintf(w, "Salesforce API calls\t%*d (%.2f per message; %s)\n", digits, r.APICalls,
		perMessage, plural(r.TokenRequests, "token request"))
	fmt.Fprintf(w, "Elapsed\t%*.1f s (%.0f messages/s)\n", digits, r.Seconds,
		r.MessagesPerSecond)
	if r.Verified {
		fmt.Fprintf(w, "Verified\tyes: every record and dead-letter message is as expected\n")
		return
	}
	fmt.Fprintf(w, "Verified\tNO: %s\n", plural(int64(len(r.Mismatches)), "mismatch"))
	for _, m := range r.Mismatches {
		fmt.Fprintf(w, "  - %s\n", m)
	}
}

func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "ch") {
		return fmt.Sprintf("%d %ses", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// kindOrder lists the kinds in the order of messageKinds.
func kindOrder(sent map[string]int) []string {
	var keys []string
	for _, k := range messageKinds {
		if _, ok := sent[string(k)]; ok {
			keys = append(keys, string(k))
		}
	}
	return keys
}

// outcomeOrder lists the main outcomes first, then any others by name.
func outcomeOrder(outcomes map[string]int) []string {
	var keys, rest []string
	for _, o := range mainOutcomes {
		keys = append(keys, string(o))
	}
	for k := range outcomes {
		if !slices.Contains(keys, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(keys, rest...)
}

// logTail keeps the last lines written to it, for the worker's log. It is
// safe for concurrent writes.
type logTail struct {
	mu    sync.Mutex
	lines []string
	limit int
}

func newLogTail(limit int) *logTail { return &logTail{limit: limit} }

// Write keeps each line of p; zerolog writes one whole line per call.
func (t *logTail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for line := range bytes.Lines(p) {
		t.lines = append(t.lines, strings.TrimRight(string(line), "\n"))
	}
	if extra := len(t.lines) - t.limit; extra > 0 {
		t.lines = slices.Delete(t.lines, 0, extra)
	}
	return len(p), nil
}

// writeTo prints the kept lines under a heading.
func (t *logTail) writeTo(w io.Writer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == 0 {
		return
	}
	fmt.Fprintf(w, "last %d worker log lines:\n", len(t.lines))
	for _, line := range t.lines {
		fmt.Fprintln(w, line)
	}
}
