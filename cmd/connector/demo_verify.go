package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/callsummary/connector/salesforce"
	"github.com/callsummary/connector/worker"
)

// demoObservation is what the demo found after the worker stopped.
type demoObservation struct {
	records     map[string]map[string]any // by record id; absent when not found
	deadLetters []deadLetter
	stats       worker.Snapshot
}

// deadLetter is one message read back from the dead-letter queue.
type deadLetter struct {
	body   string
	reason string
}

// observe reads every planned record from the org and every message from
// the dead-letter queue, and takes the pool's final counters.
func (d *demoRun) observe(ctx context.Context, p *demoPlan) (demoObservation, error) {
	obs := demoObservation{records: map[string]map[string]any{}, stats: d.pool.Stats()}
	for _, rec := range p.records {
		if values, ok := d.org.Get(demoObject, rec.id); ok {
			obs.records[rec.id] = values
		}
	}
	var err error
	obs.deadLetters, err = d.receiveDeadLetters(ctx)
	return obs, err
}

// receiveDeadLetters receives the whole DLQ through the SDK. Received
// messages stay hidden for a minute, so each is read once; the run ends
// long before they would show again.
func (d *demoRun) receiveDeadLetters(ctx context.Context) ([]deadLetter, error) {
	var all []deadLetter
	for {
		out, err := d.queue.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:              aws.String(d.dlqURL),
			MaxNumberOfMessages:   10,
			VisibilityTimeout:     60,
			MessageAttributeNames: []string{"All"},
		})
		if err != nil {
			return nil, fmt.Errorf("demo: receive dead letters: %w", err)
		}
		if len(out.Messages) == 0 {
			return all, nil
		}
		for _, m := range out.Messages {
			reason := m.MessageAttributes[worker.AttrReason]
			all = append(all, deadLetter{
				body: aws.ToString(m.Body), reason: aws.ToString(reason.StringValue)})
		}
	}
}

// verifyDemo compares what the demo found with its plan and returns one
// readable line per difference; none means verified.
func verifyDemo(p *demoPlan, obs demoObservation) []string {
	var mismatches []string
	for _, rec := range p.records {
		mismatches = append(mismatches, verifyRecord(p.mode, rec, obs.records[rec.id])...)
	}
	mismatches = append(mismatches, verifyDeadLetters(p, obs.deadLetters)...)
	mismatches = append(mismatches, compareCounts("outcome",
		stringKeys(p.expectedOutcomes()), stringKeys(obs.stats.Outcomes))...)
	mismatches = append(mismatches, compareCounts("dead-letter reason",
		p.expectedReasons(), obs.stats.DeadLetters)...)
	return mismatches
}

// verifyRecord checks one record: a target holds its summary as the mode
// says, a decoy or shared record is untouched.
func verifyRecord(mode salesforce.WriteMode, rec *plannedRecord, values map[string]any) []string {
	name := fmt.Sprintf("record %s (%s, call id %q)", rec.id, rec.role, rec.callID)
	if values == nil {
		return []string{name + ": not found in the org"}
	}
	got, _ := values[demoTargetField].(string)
	var problem string
	switch {
	case rec.role != roleTarget:
		problem = checkUntouched(rec, got, values["LastModifiedDate"])
	case mode == salesforce.Overwrite:
		problem = checkOverwritten(rec, got)
	default:
		problem = checkAppended(rec, got)
	}
	if problem == "" {
		return nil
	}
	return []string{name + ": " + problem}
}

func checkUntouched(rec *plannedRecord, got string, modified any) string {
	switch {
	case got != rec.agentText:
		return fmt.Sprintf("%s changed to %s, want it untouched", demoTargetField, excerpt(got))
	case modified != rec.modified:
		return fmt.Sprintf("LastModifiedDate changed from %v to %v, want it untouched",
			rec.modified, modified)
	}
	return ""
}

func checkOverwritten(rec *plannedRecord, got string) string {
	if got != rec.summary.Text {
		return fmt.Sprintf("%s is %s, want %s", demoTargetField, excerpt(got),
			excerpt(rec.summary.Text))
	}
	return ""
}

// checkAppended wants the agent text first, then only whitespace, then the
// summary's block, whose marker appears exactly once.
func checkAppended(rec *plannedRecord, got string) string {
	block := salesforce.Block(*rec.summary)
	marker := salesforce.Marker(rec.summary.SummaryID)
	switch n := strings.Count(got, marker); {
	case !strings.HasPrefix(got, rec.agentText):
		return fmt.Sprintf("agent text lost: %s is %s", demoTargetField, excerpt(got))
	case n != 1:
		return fmt.Sprintf("%s holds %d blocks with %s, want 1", demoTargetField, n, marker)
	}
	rest := got[len(rec.agentText):]
	gap, found := strings.CutSuffix(rest, block)
	if !found || strings.TrimSpace(gap) != "" {
		return fmt.Sprintf("%s after the agent text is %s, want only the block %s",
			demoTargetField, excerpt(rest), excerpt(block))
	}
	return ""
}

// verifyDeadLetters wants the DLQ to hold exactly the planned dead-letter
// bodies, each with its reason, as many times as planned.
func verifyDeadLetters(p *demoPlan, got []deadLetter) []string {
	want := map[deadLetter]int{}
	for _, m := range p.messages {
		if m.outcome == worker.DeadLetter {
			want[deadLetter{body: m.body, reason: m.reason}]++
		}
	}
	have := map[deadLetter]int{}
	for _, dl := range got {
		have[dl]++
	}
	var mismatches []string
	for _, dl := range sortedDeadLetters(want, have) {
		w, h := want[dl], have[dl]
		switch {
		case h < w:
			mismatches = append(mismatches, fmt.Sprintf(
				"dead-letter queue: missing %d message(s) with reason %s, body %s",
				w-h, dl.reason, excerpt(dl.body)))
		case h > w:
			mismatches = append(mismatches, fmt.Sprintf(
				"dead-letter queue: %d unexpected message(s) with reason %s, body %s",
				h-w, dl.reason, excerpt(dl.body)))
		}
	}
	return mismatches
}

func sortedDeadLetters(a, b map[deadLetter]int) []deadLetter {
	keys := slices.Collect(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(x, y deadLetter) int {
		if c := strings.Compare(x.reason, y.reason); c != 0 {
			return c
		}
		return strings.Compare(x.body, y.body)
	})
	return keys
}

// compareCounts reports every key whose count differs.
func compareCounts(what string, want, got map[string]int) []string {
	keys := map[string]bool{}
	for k := range want {
		keys[k] = true
	}
	for k := range got {
		keys[k] = true
	}
	var mismatches []string
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		if want[k] != got[k] {
			mismatches = append(mismatches, fmt.Sprintf("%s %s: counted %d, want %d",
				what, k, got[k], want[k]))
		}
	}
	return mismatches
}

func stringKeys(counts map[worker.Outcome]int) map[string]int {
	out := make(map[string]int, len(counts))
	for k, v := range counts {
		out[string(k)] = v
	}
	return out
}

// excerpt quotes s for a mismatch line, shortened to keep the line readable.
func excerpt(s string) string {
	const limit = 80
	if r := []rune(s); len(r) > limit {
		return fmt.Sprintf("%q…", string(r[:limit]))
	}
	return fmt.Sprintf("%q", s)
}
