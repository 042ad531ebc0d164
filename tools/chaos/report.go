package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/callsummary/connector/worker"
)

// result is what a run did and found, printed as one JSON line.
type result struct {
	Seed     uint64 `json:"seed"`
	Messages int    `json:"messages"`
	Records  int    `json:"records"`
	Unknown  int    `json:"unknown"` // messages whose call id no record has
	Invalid  int    `json:"invalid"`

	Applied      int `json:"applied"`
	DeadLettered int `json:"dead_lettered"`
	Lost         int `json:"lost"`
	Duplicated   int `json:"duplicated"`
	WrongReason  int `json:"wrong_reason"`
	// CorruptRecords hold text that no message put there, or lost their
	// agent text; UnexpectedDeadLetters are DLQ messages the run never sent.
	CorruptRecords        int `json:"corrupt_records"`
	UnexpectedDeadLetters int `json:"unexpected_dead_letters"`
	// ExtraDeadLetters are further copies of a message in the DLQ, which a
	// crash between the DLQ send and the delete may leave; allowed.
	ExtraDeadLetters int `json:"extra_dead_letters"`

	// Seconds runs from the first worker's start to the source queue
	// being empty.
	Seconds         float64 `json:"seconds"`
	Replicas        int     `json:"replicas"` // workers sharing the queue at once
	Rolling         bool    `json:"rolling"`  // SIGTERM was a rolling restart
	Kills           int     `json:"kills"`
	Terms           int     `json:"terms"`
	Restarts        int     `json:"restarts"`
	UnexpectedExits int     `json:"unexpected_exits"`
	APICalls        int64   `json:"api_calls"`
	TokenCalls      int64   `json:"token_calls"`

	Faults   map[string]int64 `json:"faults"`   // injected faults seen, by kind
	Pauses   map[string]int   `json:"pauses"`   // the workers' pauses, by reason
	Outcomes map[string]int   `json:"outcomes"` // the workers' outcome lines, by outcome
	Error    string           `json:"error,omitempty"`
}

// failed reports whether the run must exit non-zero.
func (res result) failed() bool {
	return res.Lost+res.Duplicated+res.WrongReason+res.CorruptRecords+
		res.UnexpectedDeadLetters+res.UnexpectedExits > 0 || res.Error != ""
}

// limitPauses counts the pauses the limit period should have caused.
func (res result) limitPauses() int {
	return res.Pauses["REQUEST_LIMIT_EXCEEDED"] + res.Pauses[worker.ReasonUsageCeiling]
}

// logSummary is what the workers' logs say, counted.
type logSummary struct {
	outcomes map[string]int
	pauses   map[string]int
}

// readLogs counts the outcome lines and pauses in the workers' JSON logs.
// Lines that are not JSON are skipped.
func readLogs(paths []string) (logSummary, error) {
	s := logSummary{outcomes: map[string]int{}, pauses: map[string]int{}}
	for _, path := range paths {
		err := eachLogLine(path, func(line string) {
			var entry struct {
				Message string `json:"message"`
				Outcome string `json:"outcome"`
				Reason  string `json:"reason"`
			}
			if json.Unmarshal([]byte(line), &entry) != nil {
				return
			}
			if entry.Outcome != "" {
				s.outcomes[entry.Outcome]++
			}
			if strings.HasPrefix(entry.Message, "paused") {
				s.pauses[entry.Reason]++
			}
		})
		if err != nil {
			return s, err
		}
	}
	return s, nil
}

func eachLogLine(path string, fn func(line string)) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("worker log: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		fn(sc.Text())
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("worker log %s: %w", path, err)
	}
	return nil
}

// Limits of the explanation of a failed run.
const (
	findingsShown   = 8
	logLinesShown   = 25
	corruptionShown = 5
)

// explain describes the first findings, each with the worker log lines
// that name its message or call id, so that a failure can be traced.
func explain(w io.Writer, p *plan, t tally, logs []string) {
	for _, f := range t.findings[:min(len(t.findings), findingsShown)] {
		m := &p.messages[f.msg]
		fmt.Fprintf(w, "chaos: %s: message %d (%s, message id %s, call id %q",
			verdictName(f.verdict), f.msg, m.kind, m.messageID, m.callID)
		if m.kind == kindValid {
			fmt.Fprintf(w, ", summary id %s, record %s", m.summary.SummaryID,
				p.records[m.record].id)
		}
		fmt.Fprintf(w, "): %s\n", f.detail)
		for _, line := range mentions(logs, m) {
			fmt.Fprintln(w, "  "+line)
		}
	}
	if n := len(t.findings); n > findingsShown {
		fmt.Fprintf(w, "chaos: and %d more messages\n", n-findingsShown)
	}
	for _, c := range t.corruptions[:min(len(t.corruptions), corruptionShown)] {
		fmt.Fprintf(w, "chaos: corrupt %s\n", c)
	}
}

// mentions returns the log lines, prefixed with their file, that name the
// message's id or its call id.
func mentions(logs []string, m *message) []string {
	callID, _ := json.Marshal(m.callID)
	needles := []string{`"call_id":` + string(callID)}
	if m.messageID != "" {
		needles = append(needles, m.messageID)
	}
	var out []string
	for _, path := range logs {
		_ = eachLogLine(path, func(line string) {
			for _, needle := range needles {
				if strings.Contains(line, needle) && len(out) < logLinesShown {
					out = append(out, path+": "+line)
					return
				}
			}
		})
	}
	return out
}

func verdictName(v verdict) string {
	switch v {
	case lost:
		return "lost"
	case duplicated:
		return "duplicated"
	case wrongReason:
		return "wrong reason"
	case deadLettered:
		return "dead-lettered"
	}
	return "applied"
}
