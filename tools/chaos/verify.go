package main

import (
	"fmt"
	"strings"

	"github.com/callsummary/connector/salesforce"
	"github.com/callsummary/connector/salesforce/sftest"
	"github.com/callsummary/connector/tools/internal/pipeline"
	"github.com/callsummary/connector/worker"
	"github.com/callsummary/connector/worker/sqstest"
)

// verdict is how one message ended.
type verdict int

const (
	applied      verdict = iota // a valid message's block is in its record once
	deadLettered                // an unknown or invalid message is in the DLQ with its reason
	lost                        // neither
	duplicated                  // a valid message's block is in its record more than once
	wrongReason                 // in the DLQ with a reason it must not have, or at all
)

// finding is a message that did not end as it must.
type finding struct {
	msg     int // index into plan.messages
	verdict verdict
	detail  string
}

// tally is the verdicts of a run, with what else the check found.
type tally struct {
	applied, deadLettered, lost, duplicated, wrongReason int

	extraDeadLetters      int // further copies of a message in the DLQ; allowed
	unexpectedDeadLetters int // DLQ messages that are none of the plan's
	corruptRecords        int // records holding text no message put there
	findings              []finding
	corruptions           []string
}

func (t *tally) add(msg int, v verdict, detail string) {
	switch v {
	case applied:
		t.applied++
		return
	case deadLettered:
		t.deadLettered++
		return
	case lost:
		t.lost++
	case duplicated:
		t.duplicated++
	case wrongReason:
		t.wrongReason++
	}
	t.findings = append(t.findings, finding{msg: msg, verdict: v, detail: detail})
}

// verify checks every message of the plan against the records of the org
// and the dead-letter queue, and every record for text that no message
// put there.
func verify(p *plan, org *sftest.Org, dlq []sqstest.Message) tally {
	var t tally
	reasons, unexpected := deadLetterReasons(p, dlq)
	t.unexpectedDeadLetters = unexpected
	targets := make([]string, len(p.records))
	for i := range p.records {
		targets[i] = targetOf(org, p.records[i].id)
	}
	for i := range p.messages {
		m := &p.messages[i]
		got := reasons[m.body]
		t.extraDeadLetters += max(len(got)-1, 0)
		if m.kind == kindValid {
			v, detail := checkValid(m, targets[m.record], got)
			t.add(i, v, detail)
			continue
		}
		v, detail := checkRefused(m, got)
		t.add(i, v, detail)
	}
	for i := range p.records {
		if problem := checkRecord(p, &p.records[i], targets[i]); problem != "" {
			t.corruptRecords++
			t.corruptions = append(t.corruptions,
				fmt.Sprintf("record %s (%s): %s", p.records[i].id, p.records[i].callID, problem))
		}
	}
	return t
}

// deadLetterReasons maps each body in the DLQ to the connector.reason of
// each copy, and counts the DLQ messages whose body the plan does not have.
func deadLetterReasons(p *plan, dlq []sqstest.Message) (map[string][]string, int) {
	bodies := make(map[string]bool, len(p.messages))
	for i := range p.messages {
		bodies[p.messages[i].body] = true
	}
	reasons := make(map[string][]string)
	unexpected := 0
	for _, m := range dlq {
		if !bodies[m.Body] {
			unexpected++
			continue
		}
		reasons[m.Body] = append(reasons[m.Body], m.Attributes[worker.AttrReason].StringValue)
	}
	return reasons, unexpected
}

func targetOf(org *sftest.Org, id string) string {
	values, ok := org.Get(pipeline.Object, id)
	if !ok {
		return ""
	}
	got, _ := values[pipeline.TargetField].(string)
	return got
}

// checkValid judges a valid message by its record's target field and the
// reasons of its copies in the DLQ, if any.
func checkValid(m *message, target string, reasons []string) (verdict, string) {
	n := strings.Count(target, salesforce.Marker(m.summary.SummaryID))
	switch {
	case n > 1:
		return duplicated, fmt.Sprintf("its block is in the record %d times", n)
	case len(reasons) > 0:
		return wrongReason, fmt.Sprintf("dead-lettered as %s, %d blocks in the record",
			strings.Join(reasons, ", "), n)
	case n == 0:
		return lost, "its block is not in the record and it is not in the DLQ"
	case !strings.Contains(target, salesforce.Block(m.summary)):
		return lost, "its marker is in the record but the block around it is not its own"
	}
	return applied, ""
}

// checkRefused judges an unknown or invalid message by the reasons of its
// copies in the DLQ.
func checkRefused(m *message, reasons []string) (verdict, string) {
	if len(reasons) == 0 {
		return lost, fmt.Sprintf("not in the DLQ, want it there as %s", m.wantReason())
	}
	for _, r := range reasons {
		if r != m.wantReason() {
			return wrongReason, fmt.Sprintf("dead-lettered as %s, want %s",
				strings.Join(reasons, ", "), m.wantReason())
		}
	}
	return deadLettered, ""
}

// checkRecord says what is wrong with a record's target field beyond its
// own messages' verdicts: the agent text must open it unchanged, and
// besides the blocks of its messages only blank separators may follow.
func checkRecord(p *plan, r *record, target string) string {
	rest, ok := strings.CutPrefix(target, r.agentText)
	if !ok {
		return fmt.Sprintf("agent text lost, holds %s", clip(target))
	}
	for _, i := range r.messages {
		rest = strings.Replace(rest, salesforce.Block(p.messages[i].summary), "", 1)
	}
	if strings.TrimSpace(rest) != "" {
		return fmt.Sprintf("holds more than its blocks: %s", clip(strings.TrimSpace(rest)))
	}
	return ""
}

// clip quotes s, shortened to keep a line readable.
func clip(s string) string {
	const limit = 80
	if r := []rune(s); len(r) > limit {
		return fmt.Sprintf("%q…", string(r[:limit]))
	}
	return fmt.Sprintf("%q", s)
}
