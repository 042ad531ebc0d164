package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/callsummary/connector/salesforce"
	"github.com/callsummary/connector/worker"
)

// demoTestMessages keeps every kind present and each run well under a second.
const demoTestMessages = 60

var (
	verifiedYes = regexp.MustCompile(
		`(?m)^Verified +yes: every record and dead-letter message is as expected$`)
	verifiedNo = regexp.MustCompile(`(?m)^Verified +NO: 2 mismatches$`)
)

// demoReportKeys are the keys `connector demo --json` promises.
var demoReportKeys = []string{
	"outcomes", "reasons", "api_calls", "token_requests", "messages", "seconds",
	"messages_per_second", "mode", "lookup", "verified", "mismatches",
}

func TestRunDemo(t *testing.T) {
	tests := []struct {
		name    string
		mode    salesforce.WriteMode
		lookup  string
		latency time.Duration
	}{
		{name: "append-external", mode: salesforce.Append, lookup: lookupExternal},
		{name: "append-soql", mode: salesforce.Append, lookup: lookupSOQL},
		{name: "overwrite-external", mode: salesforce.Overwrite, lookup: lookupExternal,
			latency: time.Millisecond},
		{name: "overwrite-soql", mode: salesforce.Overwrite, lookup: lookupSOQL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			o := demoOptions{messages: demoTestMessages, mode: string(tt.mode),
				lookup: tt.lookup, json: true, latency: tt.latency,
				tamper: checkLoopback(t)}
			report, err := runDemo(context.Background(), o, &stdout, &stderr)
			if err != nil {
				t.Fatalf("runDemo: %v\nstderr:\n%s", err, stderr.String())
			}
			if !report.Verified || len(report.Mismatches) > 0 {
				t.Fatalf("verified: got false, want true; mismatches:\n%s\nstderr:\n%s",
					strings.Join(report.Mismatches, "\n"), stderr.String())
			}

			plan := planDemo(demoTestMessages, tt.mode, tt.lookup)
			wantOutcomes := withMainOutcomes(stringKeys(plan.expectedOutcomes()))
			if diff := cmp.Diff(wantOutcomes, report.Outcomes); diff != "" {
				t.Errorf("outcomes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(plan.expectedReasons(), report.Reasons); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
			if report.APICalls <= 0 || report.TokenRequests != 1 {
				t.Errorf("api calls %d, token requests %d: want some calls and 1 token request",
					report.APICalls, report.TokenRequests)
			}
			checkReportJSON(t, stdout.Bytes(), report)
			checkTable(t, report)
		})
	}
}

// checkLoopback returns a tamper hook that changes nothing and checks that
// the queues live on 127.0.0.1.
func checkLoopback(t *testing.T) func(context.Context, *demoRun, *demoPlan) error {
	return func(_ context.Context, d *demoRun, _ *demoPlan) error {
		for _, u := range []string{d.queueURL, d.dlqURL} {
			if !strings.HasPrefix(u, "http://127.0.0.1:") {
				t.Errorf("queue URL %s: want it on 127.0.0.1", u)
			}
		}
		return nil
	}
}

func withMainOutcomes(counts map[string]int) map[string]int {
	for _, o := range mainOutcomes {
		counts[string(o)] += 0
	}
	return counts
}

// checkReportJSON wants one JSON object with every promised key, equal to
// the report returned.
func checkReportJSON(t *testing.T, out []byte, want demoReport) {
	t.Helper()
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(out, &keys); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	for _, k := range demoReportKeys {
		if _, ok := keys[k]; !ok {
			t.Errorf("JSON output lacks key %q: %s", k, out)
		}
	}
	if got := string(keys["mismatches"]); got != "[]" {
		t.Errorf("mismatches: got %s, want []", got)
	}
	var got demoReport
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("decode report: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("JSON report (-returned +printed):\n%s", diff)
	}
}

func checkTable(t *testing.T, r demoReport) {
	t.Helper()
	var b strings.Builder
	if err := renderDemo(&b, r, false); err != nil {
		t.Fatalf("render table: %v", err)
	}
	table := b.String()
	for _, want := range []string{
		fmt.Sprintf("Summary connector demo: %d messages, %s mode", r.Messages, r.Mode),
		"not-found grace 0s for the demo, 15m by default",
		"OUTCOME", "DEAD-LETTER REASON", "NOT_FOUND", "AMBIGUOUS_MATCH", "INVALID_MESSAGE",
		"Salesforce API calls", "messages/s",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if !verifiedYes.MatchString(table) {
		t.Errorf("table does not say verified:\n%s", table)
	}
}

func TestMixFor(t *testing.T) {
	for _, n := range []int{minDemoMessages, 40, 200, 1001} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			mix := mixFor(n)
			total := 0
			for _, k := range messageKinds {
				if mix[k] < 1 {
					t.Errorf("%s: got %d messages, want at least 1", k, mix[k])
				}
				total += mix[k]
			}
			if total != n {
				t.Errorf("total: got %d, want %d", total, n)
			}
			if mix[kindGood] < mix[kindDuplicate] {
				t.Errorf("good %d < duplicates %d: every duplicate needs a good body",
					mix[kindGood], mix[kindDuplicate])
			}
		})
	}
}

func TestPlanDemoIsDeterministic(t *testing.T) {
	a := planDemo(200, salesforce.Append, lookupExternal)
	b := planDemo(200, salesforce.Append, lookupExternal)
	if len(a.messages) != 200 {
		t.Fatalf("messages: got %d, want 200", len(a.messages))
	}
	for i := range a.messages {
		if a.messages[i] != b.messages[i] {
			t.Fatalf("message %d differs between two plans:\n%+v\n%+v", i, a.messages[i],
				b.messages[i])
		}
	}
	callIDs := map[string]bool{}
	for _, rec := range a.records {
		if rec.role == roleTarget && callIDs[rec.callID] {
			t.Errorf("call id %q targets more than one record", rec.callID)
		}
		callIDs[rec.callID] = true
	}
	for _, tricky := range trickyCallIDs {
		if !callIDs[tricky.callID] || !callIDs[tricky.nearMiss] {
			t.Errorf("tricky id %q or its near-miss %q is not seeded", tricky.callID,
				tricky.nearMiss)
		}
	}
}

// TestVerifyDemo proves the check can fail: a faithful observation of the
// plan passes, and each tampered one yields a mismatch line.
func TestVerifyDemo(t *testing.T) {
	tests := []struct {
		name   string
		mode   salesforce.WriteMode
		tamper func(p *demoPlan, obs *demoObservation)
		want   string // in some mismatch line; "" for none
	}{
		{name: "faithful-append", mode: salesforce.Append},
		{name: "faithful-overwrite", mode: salesforce.Overwrite},
		{name: "summary-missing", mode: salesforce.Overwrite,
			tamper: func(p *demoPlan, obs *demoObservation) {
				rec := firstRecord(p, roleTarget)
				obs.records[rec.id][demoTargetField] = rec.agentText
			},
			want: "(target, call id"},
		{name: "agent-text-lost", mode: salesforce.Append,
			tamper: func(p *demoPlan, obs *demoObservation) {
				rec := firstRecord(p, roleTarget)
				obs.records[rec.id][demoTargetField] = salesforce.Block(*rec.summary)
			},
			want: "agent text lost"},
		{name: "block-appended-twice", mode: salesforce.Append,
			tamper: func(p *demoPlan, obs *demoObservation) {
				rec := firstRecord(p, roleTarget)
				obs.records[rec.id][demoTargetField] = appended(rec) + "\n\n" +
					salesforce.Block(*rec.summary)
			},
			want: "holds 2 blocks"},
		{name: "block-lost-text", mode: salesforce.Append,
			tamper: func(p *demoPlan, obs *demoObservation) {
				rec := firstRecord(p, roleTarget)
				obs.records[rec.id][demoTargetField] = strings.TrimSuffix(appended(rec), "\n"+
					strings.SplitN(rec.summary.Text, "\n", 2)[1])
			},
			want: "want only the block"},
		{name: "decoy-written", mode: salesforce.Append,
			tamper: func(p *demoPlan, obs *demoObservation) {
				rec := firstRecord(p, roleDecoy)
				obs.records[rec.id][demoTargetField] = "overwritten"
			},
			want: "(decoy, call id"},
		{name: "shared-record-touched", mode: salesforce.Overwrite,
			tamper: func(p *demoPlan, obs *demoObservation) {
				rec := firstRecord(p, roleShared)
				obs.records[rec.id]["LastModifiedDate"] = time.Now()
			},
			want: "LastModifiedDate changed"},
		{name: "record-gone", mode: salesforce.Append,
			tamper: func(p *demoPlan, obs *demoObservation) {
				delete(obs.records, firstRecord(p, roleTarget).id)
			},
			want: "not found in the org"},
		{name: "dead-letter-missing", mode: salesforce.Append,
			tamper: func(_ *demoPlan, obs *demoObservation) {
				obs.deadLetters = obs.deadLetters[1:]
			},
			want: "dead-letter queue: missing 1"},
		{name: "dead-letter-wrong-reason", mode: salesforce.Overwrite,
			tamper: func(_ *demoPlan, obs *demoObservation) {
				obs.deadLetters[0].reason = "STRING_TOO_LONG"
			},
			want: "unexpected message(s) with reason STRING_TOO_LONG"},
		{name: "dead-letter-extra", mode: salesforce.Append,
			tamper: func(_ *demoPlan, obs *demoObservation) {
				obs.deadLetters = append(obs.deadLetters, obs.deadLetters[0])
			},
			want: "dead-letter queue: 1 unexpected"},
		{name: "outcome-miscounted", mode: salesforce.Append,
			tamper: func(_ *demoPlan, obs *demoObservation) {
				obs.stats.Outcomes[worker.Applied]--
				obs.stats.Outcomes[worker.Retry]++
			},
			want: "outcome retry: counted 1, want 0"},
		{name: "reason-miscounted", mode: salesforce.Append,
			tamper: func(_ *demoPlan, obs *demoObservation) {
				obs.stats.DeadLetters[salesforce.ReasonNotFound]++
			},
			want: "dead-letter reason NOT_FOUND: counted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := planDemo(40, tt.mode, lookupExternal)
			obs := faithfulObservation(p)
			if tt.tamper != nil {
				tt.tamper(p, &obs)
			}
			got := verifyDemo(p, obs)
			if tt.want == "" {
				if len(got) > 0 {
					t.Fatalf("mismatches: got\n%s\nwant none", strings.Join(got, "\n"))
				}
				return
			}
			if !containsLine(got, tt.want) {
				t.Errorf("mismatches: got\n%s\nwant a line with %q", strings.Join(got, "\n"),
					tt.want)
			}
		})
	}
}

// faithfulObservation is what a correct run of p would leave behind.
func faithfulObservation(p *demoPlan) demoObservation {
	obs := demoObservation{
		records: map[string]map[string]any{},
		stats: worker.Snapshot{
			Outcomes:    p.expectedOutcomes(),
			DeadLetters: p.expectedReasons(),
		},
	}
	modified := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i, rec := range p.records {
		rec.id = fmt.Sprintf("00T000000000%03dAAA", i)
		rec.modified = modified
		value := rec.agentText
		switch {
		case rec.role == roleTarget && p.mode == salesforce.Overwrite:
			value = rec.summary.Text
		case rec.role == roleTarget:
			value = appended(rec)
		}
		obs.records[rec.id] = map[string]any{
			demoTargetField: value, "LastModifiedDate": modified}
	}
	for _, m := range p.messages {
		if m.outcome == worker.DeadLetter {
			obs.deadLetters = append(obs.deadLetters, deadLetter{body: m.body, reason: m.reason})
		}
	}
	return obs
}

func appended(rec *plannedRecord) string {
	return rec.agentText + "\n\n" + salesforce.Block(*rec.summary)
}

func firstRecord(p *demoPlan, role recordRole) *plannedRecord {
	for _, rec := range p.records {
		if rec.role == role {
			return rec
		}
	}
	panic("no record with role " + string(role))
}

func containsLine(lines []string, part string) bool {
	for _, l := range lines {
		if strings.Contains(l, part) {
			return true
		}
	}
	return false
}

// TestRunDemoReportsTampering changes the org and the DLQ behind the
// worker's back and wants the run reported as not verified.
func TestRunDemoReportsTampering(t *testing.T) {
	tamper := func(ctx context.Context, d *demoRun, p *demoPlan) error {
		decoy := firstRecord(p, roleDecoy)
		if err := d.org.Update(demoObject, decoy.id, map[string]any{
			demoTargetField: "written by someone else"}); err != nil {
			return err
		}
		_, err := d.queue.SendMessage(ctx, &sqs.SendMessageInput{
			QueueUrl:    aws.String(d.dlqURL),
			MessageBody: aws.String(`{"clientCallId":"never-sent","summary":"x"}`),
			MessageAttributes: map[string]types.MessageAttributeValue{worker.AttrReason: {
				DataType: aws.String("String"), StringValue: aws.String("NOT_FOUND")}},
		})
		return err
	}
	var stdout, stderr bytes.Buffer
	o := demoOptions{messages: 30, mode: string(salesforce.Append), lookup: lookupSOQL,
		tamper: tamper}
	report, err := runDemo(context.Background(), o, &stdout, &stderr)
	if err != nil {
		t.Fatalf("runDemo: %v", err)
	}
	if report.Verified {
		t.Fatalf("verified: got true, want false\n%s", stdout.String())
	}
	for _, want := range []string{"(decoy, call id", "dead-letter queue: 1 unexpected"} {
		if !containsLine(report.Mismatches, want) {
			t.Errorf("mismatches: got\n%s\nwant a line with %q",
				strings.Join(report.Mismatches, "\n"), want)
		}
	}
	if !verifiedNo.MatchString(stdout.String()) {
		t.Errorf("table does not say NO:\n%s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "worker log lines") {
		t.Errorf("stderr: got %q, want the worker's last log lines", stderr.String())
	}
}

func TestRunDemoTimesOut(t *testing.T) {
	var stdout, stderr bytes.Buffer
	o := demoOptions{messages: minDemoMessages, mode: string(salesforce.Overwrite),
		lookup: lookupExternal, json: true, latency: 200 * time.Millisecond,
		deadline: 50 * time.Millisecond}
	report, err := runDemo(context.Background(), o, &stdout, &stderr)
	if err != nil {
		t.Fatalf("runDemo: %v", err)
	}
	if report.Verified || !containsLine(report.Mismatches, "timed out after 50ms") {
		t.Errorf("got verified=%v mismatches %q, want a time-out mismatch",
			report.Verified, report.Mismatches)
	}
}

func TestDemoCommand(t *testing.T) {
	t.Run("execute-exits-0", func(t *testing.T) {
		got := execute(context.Background(), []string{"demo", "--messages", "40", "--json"})
		if got != 0 {
			t.Errorf("exit code: got %d, want 0", got)
		}
	})
	t.Run("prints-json-to-its-output", func(t *testing.T) {
		var out bytes.Buffer
		root := newRootCommand()
		root.SetOut(&out)
		root.SetArgs([]string{"demo", "--messages", "40", "--json", "--mode", "overwrite",
			"--lookup", "soql"})
		if err := root.ExecuteContext(context.Background()); err != nil {
			t.Fatalf("execute: %v", err)
		}
		var r demoReport
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatalf("output is not a JSON report: %v\n%s", err, out.String())
		}
		if !r.Verified || r.Messages != 40 || r.Mode != "overwrite" || r.Lookup != "soql" {
			t.Errorf("report: got %+v, want verified, 40 messages, overwrite, soql", r)
		}
	})
	for _, args := range [][]string{
		{"demo", "--messages", "3"},
		{"demo", "--mode", "sideways"},
		{"demo", "--lookup", "guess"},
		{"demo", "--latency", "-1s"},
	} {
		t.Run("refuses-"+strings.TrimPrefix(args[1], "--"), func(t *testing.T) {
			root := newRootCommand()
			root.SetOut(new(bytes.Buffer))
			root.SetArgs(args)
			if err := root.ExecuteContext(context.Background()); err == nil {
				t.Errorf("%v: got no error, want one", args)
			}
		})
	}
}
