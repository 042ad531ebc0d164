package main

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/callsummary/connector/salesforce"
	"github.com/callsummary/connector/salesforce/sftest"
	"github.com/callsummary/connector/tools/internal/pipeline"
	"github.com/callsummary/connector/worker"
	"github.com/callsummary/connector/worker/sqstest"
)

// TestChaosSmall runs the chaos run end to end with 1,000 messages: every
// disruption, every fault, and every message checked.
func TestChaosSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the connector and runs it as a subprocess for about half a minute")
	}
	dir := t.TempDir()
	binary, err := pipeline.BuildConnector(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	args := []string{
		"--connector", binary, "--out", dir, "--messages", "1000", "--rate", "60",
		"--limit-period", "1s", "--visibility", "4s", "--deadline", "70s",
	}
	code := execute(t.Context(), args, &stdout, &stderr)
	t.Logf("chaos output:\n%s%s", stdout.String(), stderr.String())

	var res result
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &res); err != nil {
		t.Fatalf("decode the JSON line: %v", err)
	}
	if res.Lost != 0 || res.Duplicated != 0 || res.WrongReason != 0 {
		t.Errorf("lost %d, duplicated %d, wrong reason %d; want none",
			res.Lost, res.Duplicated, res.WrongReason)
	}
	if code != 0 || res.Error != "" {
		t.Errorf("exit code %d, error %q; want 0 and none", code, res.Error)
	}
	if got, want := res.Applied+res.DeadLettered, res.Messages; got != want {
		t.Errorf("applied + dead-lettered = %d, want all %d messages", got, want)
	}
	if res.Kills != 3 || res.Terms != 1 || res.Restarts < 4 {
		t.Errorf("kills %d, terms %d, restarts %d; want 3, 1, at least 4",
			res.Kills, res.Terms, res.Restarts)
	}
	if res.limitPauses() == 0 {
		t.Errorf("pauses %v; want one for the request limit", res.Pauses)
	}
}

func TestPlanIsDrawnFromTheSeed(t *testing.T) {
	a, b, other := newPlan(500, 7), newPlan(500, 7), newPlan(500, 8)
	if !cmp.Equal(bodies(a), bodies(b)) {
		t.Error("two plans from seed 7 differ")
	}
	if cmp.Equal(bodies(a), bodies(other)) {
		t.Error("plans from seeds 7 and 8 are the same")
	}
}

func bodies(p *plan) []string {
	var out []string
	for _, m := range p.messages {
		out = append(out, m.body)
	}
	return out
}

// TestPlanMessagesParse checks the plan against the worker's own parser:
// valid messages parse to the summary the run expects, the others fail or
// name a call id no record has, and every body is unique.
func TestPlanMessagesParse(t *testing.T) {
	p := newPlan(2000, 3)
	seen := map[string]bool{}
	shared := 0
	for _, r := range p.records {
		if len(r.messages) > 1 {
			shared++
		}
	}
	if shared == 0 || p.count(kindUnknown) == 0 || p.count(kindInvalid) == 0 {
		t.Fatalf("records with several summaries %d, unknown %d, invalid %d; want all above 0",
			shared, p.count(kindUnknown), p.count(kindInvalid))
	}
	for i, m := range p.messages {
		if seen[m.body] {
			t.Fatalf("message %d: body %q sent twice", i, m.body)
		}
		seen[m.body] = true
		got, err := worker.ParseMessage([]byte(m.body))
		switch m.kind {
		case kindValid:
			if err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
			if diff := cmp.Diff(m.summary, got); diff != "" {
				t.Fatalf("message %d: summary mismatch (-want +got):\n%s", i, diff)
			}
		case kindUnknown:
			if err != nil || !strings.HasPrefix(got.CallID, "chaos-unknown-") {
				t.Fatalf("message %d: call id %q, error %v; want an unknown call id",
					i, got.CallID, err)
			}
		case kindInvalid:
			if err == nil {
				t.Fatalf("message %d: %q parses, want it invalid", i, m.body)
			}
		}
	}
}

func TestScheduleSpreadsDisruptions(t *testing.T) {
	events := newSchedule(10000, rand.New(rand.NewPCG(1, 2)))
	counts := map[disruption]int{}
	for i, e := range events {
		counts[e.disruption]++
		if i > 0 && e.afterSent-events[i-1].afterSent < 300 {
			t.Errorf("%s only %d messages after %s", e, e.afterSent-events[i-1].afterSent,
				events[i-1])
		}
	}
	want := map[disruption]int{sigkill: 3, sigterm: 1, requestLimit: 1}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Errorf("disruptions mismatch (-want +got):\n%s", diff)
	}
	if events[0].disruption == requestLimit || events[1].disruption != requestLimit {
		t.Errorf("events %v; want the limit period second", events)
	}
}

// TestVerify feeds verify with records and dead letters for each verdict.
func TestVerify(t *testing.T) {
	one := salesforce.Summary{CallID: "call-1", Text: "first", SummaryID: "s-1"}
	two := salesforce.Summary{CallID: "call-1", Text: "second", SummaryID: "s-2"}
	p := &plan{
		records: []record{{callID: "call-1", agentText: "notes", messages: []int{0, 1}}},
		messages: []message{
			{kind: kindValid, body: "b0", summary: one},
			{kind: kindValid, body: "b1", summary: two},
			{kind: kindUnknown, body: "b2"},
			{kind: kindInvalid, body: "b3"},
		},
	}
	dead := func(body, reason string) sqstest.Message {
		return sqstest.Message{Body: body, Attributes: map[string]sqstest.MessageAttribute{
			worker.AttrReason: {DataType: "String", StringValue: reason}}}
	}
	block1, block2 := salesforce.Block(one), salesforce.Block(two)
	tests := []struct {
		name   string
		target string
		dlq    []sqstest.Message
		want   [5]int // applied, dead-lettered, lost, duplicated, wrong reason
	}{
		{"all-right", "notes\n\n" + block1 + "\n\n" + block2,
			[]sqstest.Message{dead("b2", "NOT_FOUND"), dead("b3", "INVALID_MESSAGE")},
			[5]int{2, 2, 0, 0, 0}},
		{"lost-and-doubled", "notes\n\n" + block1 + "\n\n" + block1,
			[]sqstest.Message{dead("b2", "NOT_FOUND")},
			[5]int{0, 1, 2, 1, 0}},
		{"wrong-reasons", "notes\n\n" + block1,
			[]sqstest.Message{dead("b1", "UNABLE_TO_LOCK_ROW"), dead("b2", "INVALID_MESSAGE"),
				dead("b3", "INVALID_MESSAGE")},
			[5]int{1, 1, 0, 0, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			org := sftest.NewOrg()
			p.records[0].id = org.Insert(pipeline.Object, map[string]any{
				lookupField: "call-1", pipeline.TargetField: tt.target})
			got := verify(p, org, tt.dlq)
			counts := [5]int{got.applied, got.deadLettered, got.lost, got.duplicated,
				got.wrongReason}
			if counts != tt.want {
				t.Errorf("verdicts %v, want %v; findings %+v", counts, tt.want, got.findings)
			}
		})
	}
}

func TestCheckRecord(t *testing.T) {
	s := salesforce.Summary{CallID: "call-1", Text: "text", SummaryID: "s-1"}
	p := &plan{messages: []message{{kind: kindValid, summary: s}}}
	r := &record{agentText: "notes", messages: []int{0}}
	tests := []struct {
		name   string
		target string
		ok     bool
	}{
		{"agent-text-and-block", "notes\n\n" + salesforce.Block(s), true},
		{"agent-text-alone", "notes", true}, // the missing block is the message's verdict
		{"agent-text-lost", salesforce.Block(s), false},
		{"foreign-text", "notes\n\n" + salesforce.Block(s) + "\n\nsomething else", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problem := checkRecord(p, r, tt.target)
			if got := problem == ""; got != tt.ok {
				t.Errorf("checkRecord = %q; want ok %v", problem, tt.ok)
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(o *options)
		ok     bool
	}{
		{"defaults", func(*options) {}, true},
		{"too-few-messages", func(o *options) { o.messages = 5 }, false},
		{"no-rate", func(o *options) { o.rate = 0 }, false},
		{"visibility-not-whole-seconds", func(o *options) { o.visibility = 1500 * time.Millisecond },
			false},
		{"env-not-key-value", func(o *options) { o.env = []string{"NOT_FOUND_GRACE"} }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := defaultOptions()
			tt.change(&o)
			if err := o.validate(); (err == nil) != tt.ok {
				t.Errorf("validate() = %v, want ok %v", err, tt.ok)
			}
		})
	}
}
