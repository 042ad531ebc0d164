package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/callsummary/connector/tools/internal/pipeline"
)

// result is what one scenario measured, printed as one JSON line.
type result struct {
	Scenario string `json:"scenario"`
	Lookup   string `json:"lookup"`
	Messages int    `json:"messages"`

	// Seconds runs from the worker's start (backlog) or the first send
	// (trickle) to the first write of the last record written.
	Seconds            float64 `json:"seconds"`
	MessagesPerSecond  float64 `json:"messages_per_second"`
	APICallsPerMessage float64 `json:"api_calls_per_message"` // charged calls, no tokens

	// P50ms, P99ms and MaxMs are per message, from its send returning to
	// the first write of its record. MaxMs shows a straggler that P99ms
	// hides, such as a message SQS redelivered after its visibility timeout.
	P50ms float64 `json:"p50_ms"`
	P99ms float64 `json:"p99_ms"`
	MaxMs float64 `json:"max_ms"`

	PeakRSSMiB       float64 `json:"peak_rss_mib"`
	WorkerCPUSeconds float64 `json:"worker_cpu_seconds"`
	DeadLetters      int     `json:"dead_letters"`
	Mismatches       int     `json:"mismatches"` // records not holding the expected text
	Error            string  `json:"error,omitempty"`
}

// measure fills res from the write log, the org, the queues and the
// worker's usage, and checks every record. It returns the records that do
// not hold what they should. The throughput of a scenario that did not
// complete counts the records written, not the messages.
func (r *run) measure(res result, complete bool) (result, []string) {
	latencies, last := r.latencies()
	if !r.began.IsZero() && !last.IsZero() {
		res.Seconds = pipeline.Round(last.Sub(r.began).Seconds(), 3)
	}
	done := res.Messages
	if !complete {
		done = r.tb.writes.written()
	}
	if res.Seconds > 0 {
		res.MessagesPerSecond = pipeline.Round(float64(done)/res.Seconds, 1)
	}
	res.APICallsPerMessage = pipeline.Round(float64(r.tb.Org.Calls().API)/float64(res.Messages), 3)
	res.P50ms = pipeline.Round(percentile(latencies, 0.50), 1)
	res.P99ms = pipeline.Round(percentile(latencies, 0.99), 1)
	res.MaxMs = pipeline.Round(percentile(latencies, 1), 1)
	if r.w != nil {
		u := r.w.usage()
		res.PeakRSSMiB = pipeline.Round(u.peakRSSMiB, 1)
		res.WorkerCPUSeconds = pipeline.Round(u.cpuSeconds, 2)
	}
	res.DeadLetters = r.tb.DeadLetters()

	problems := verifyRecords(r.tb.Org, r.p)
	res.Mismatches = len(problems)
	return res, problems
}

// latencies returns, per message whose record was written, the time from
// its send to that write, and the time of the last such write.
func (r *run) latencies() ([]time.Duration, time.Time) {
	var out []time.Duration
	var last time.Time
	for _, c := range r.p.calls {
		at, ok := r.tb.writes.firstWrite(c.recordID)
		if !ok {
			continue
		}
		if at.After(last) {
			last = at
		}
		if !c.sentAt.IsZero() {
			out = append(out, at.Sub(c.sentAt))
		}
	}
	return out, last
}

// percentile returns the nearest-rank percentile q (0 to 1) of ds in
// milliseconds, or 0 when there are none.
func percentile(ds []time.Duration, q float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	rank := int(math.Ceil(q*float64(len(sorted)))) - 1
	rank = max(0, min(rank, len(sorted)-1))
	return float64(sorted[rank]) / float64(time.Millisecond)
}

// writeTable prints the results as a table, numbers aligned right.
func writeTable(w io.Writer, results []result) error {
	width := len("scenario")
	for _, r := range results {
		width = max(width, len(r.Scenario))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-*s\tmessages\tseconds\tmsg/s\tapi/msg\tp50 ms\tp99 ms\tmax ms\t"+
		"rss MiB\tcpu s\tdlq\tmismatches\tstatus\t\n", width, "scenario")
	for _, r := range results {
		status := "ok"
		if r.Error != "" {
			status = "FAILED"
		}
		fmt.Fprintf(tw, "%-*s\t%d\t%.3f\t%.1f\t%.3f\t%.1f\t%.1f\t%.1f\t%.1f\t%.2f\t%d\t%d\t%s\t\n",
			width, r.Scenario, r.Messages, r.Seconds, r.MessagesPerSecond, r.APICallsPerMessage,
			r.P50ms, r.P99ms, r.MaxMs, r.PeakRSSMiB, r.WorkerCPUSeconds, r.DeadLetters, r.Mismatches,
			status)
	}
	return tw.Flush()
}

// failureLogLines is how many of the worker's last log lines a failure
// shows.
const failureLogLines = 30

// reportFailure explains a failed scenario, with the end of the worker's
// log.
func reportFailure(w io.Writer, sc scenario, err error, logPath string) {
	fmt.Fprintf(w, "bench: %s failed: %v\n", sc.name, err)
	lines, readErr := pipeline.Tail(logPath, failureLogLines)
	if readErr != nil {
		fmt.Fprintf(w, "bench: worker log %s: %v\n", logPath, readErr)
		return
	}
	fmt.Fprintf(w, "bench: worker log %s, last %d lines:\n", logPath, len(lines))
	for _, line := range lines {
		fmt.Fprintln(w, "  "+line)
	}
}
