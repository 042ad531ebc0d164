package worker_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/rs/zerolog"

	"github.com/callsummary/connector/salesforce"
	"github.com/callsummary/connector/salesforce/sftest"
	"github.com/callsummary/connector/worker"
)

const (
	testClientID     = "connector-test-client"
	testClientSecret = "s3cr3t-value-that-must-not-leak"
)

// setup is what one end-to-end case changes from the defaults.
type setup struct {
	mode        salesforce.WriteMode
	target      string
	lookup      string
	external    salesforce.ExternalIDMode
	origin      string
	secret      string
	grace       time.Duration
	visibility  int
	concurrency int
	linger      time.Duration // salesforce batch linger; 0 sends at once
	object      string
}

// harness wires one fake org, one pair of queues on a target and one pool.
type harness struct {
	t        *testing.T
	tg       sqsTarget
	org      *sftest.Org
	queueURL string
	dlqURL   string
	pool     *worker.Pool
	object   string
	stop     context.CancelFunc
	stopped  chan struct{}
	logs     *lockedBuffer
}

func newHarness(t *testing.T, tg sqsTarget, s setup) *harness {
	t.Helper()
	s = s.withDefaults()
	org := sftest.NewOrg()
	org.AddClient(testClientID, testClientSecret)
	srv, err := org.Start()
	if err != nil {
		t.Fatalf("start fake org: %v", err)
	}
	t.Cleanup(srv.Close)

	h := &harness{t: t, tg: tg, org: org, logs: new(lockedBuffer), object: s.object}
	h.queueURL, h.dlqURL = tg.newQueues(t, s.visibility)
	sf, err := salesforce.New(salesforce.Config{
		Domain: srv.Domain, ClientID: testClientID, ClientSecret: s.secret,
		APIVersion: "66.0", Object: s.object, LookupField: s.lookup,
		LookupExternalID: s.external, OriginField: s.origin,
		TargetField: s.target, WriteMode: s.mode, BatchLinger: s.linger,
	})
	if err != nil {
		t.Fatalf("salesforce.New: %v", err)
	}
	h.pool, err = worker.New(worker.Config{
		QueueURL: h.queueURL, DLQURL: h.dlqURL,
		Concurrency: s.concurrency, WaitTime: time.Second,
		NotFoundGrace: s.grace, RetryMaxElapsed: 2 * time.Second, APIUsageCeiling: 0.9,
		RetryInitial: 10 * time.Millisecond, ProbeInitial: 20 * time.Millisecond,
		ProbeMax: 200 * time.Millisecond, DrainTimeout: 10 * time.Second,
		Logger: zerolog.New(h.logs),
	}, tg.client, sf)
	if err != nil {
		t.Fatalf("worker.New: %v", err)
	}
	return h
}

func (s setup) withDefaults() setup {
	if s.mode == "" {
		s.mode = salesforce.Overwrite
	}
	if s.object == "" {
		s.object = "Task"
	}
	if s.target == "" {
		s.target = "Summary__c"
	}
	if s.lookup == "" {
		s.lookup = "Call_Id__c"
	}
	if s.external == "" {
		s.external = salesforce.ExternalIDAuto
	}
	if s.secret == "" {
		s.secret = testClientSecret
	}
	if s.visibility == 0 {
		s.visibility = 30
	}
	return s
}

func (h *harness) start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.stop, h.stopped = cancel, make(chan struct{})
	go func() {
		defer close(h.stopped)
		if err := h.pool.Run(ctx); err != nil {
			h.t.Errorf("pool.Run: %v", err)
		}
	}()
	h.t.Cleanup(h.shutdown)
}

func (h *harness) shutdown() {
	if h.stop == nil {
		return
	}
	h.stop()
	select {
	case <-h.stopped:
	case <-time.After(30 * time.Second):
		h.t.Errorf("pool did not stop within 30s")
	}
	h.stop = nil
	if h.t.Failed() {
		h.t.Logf("worker log:\n%s", h.logs.String())
	}
}

func (h *harness) send(bodies ...string) {
	h.t.Helper()
	for _, b := range bodies {
		_, err := h.tg.client.SendMessage(context.Background(), &sqs.SendMessageInput{
			QueueUrl: aws.String(h.queueURL), MessageBody: aws.String(b),
			MessageAttributes: map[string]types.MessageAttributeValue{
				"upstream": {DataType: aws.String("String"), StringValue: aws.String("crm-7")},
			},
		})
		if err != nil {
			h.t.Fatalf("send: %v", err)
		}
	}
}

// waitHandled waits until n messages reached an outcome and the queue holds
// no more.
func (h *harness) waitHandled(n int) worker.Snapshot {
	h.t.Helper()
	eventually(h.t, 30*time.Second, fmt.Sprintf("%d outcomes and an empty queue", n), func() bool {
		if h.pool.Stats().Handled() < n {
			return false
		}
		visible, inFlight := queueCounts(h.t, h.tg.client, h.queueURL)
		return visible+inFlight == 0
	})
	return h.pool.Stats()
}

func summaryBody(callID, text string) string {
	return fmt.Sprintf(`{"clientCallId":%q,"summary":%q}`, callID, text)
}

func TestEndToEnd(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg sqsTarget) {
		t.Run("overwrite-lands-in-each-record", func(t *testing.T) { testOverwrite(t, tg) })
		t.Run("append-is-idempotent-under-redelivery", func(t *testing.T) { testAppendIdempotent(t, tg) })
		t.Run("backlog-shares-api-calls", func(t *testing.T) { testBacklogSharesCalls(t, tg) })
		t.Run("invalid-messages-dead-letter", func(t *testing.T) { testInvalidMessages(t, tg) })
		t.Run("unknown-and-ambiguous-dead-letter", func(t *testing.T) { testUnknownAndAmbiguous(t, tg) })
		t.Run("tricky-call-ids-find-their-record", func(t *testing.T) { testTrickyIDs(t, tg) })
		t.Run("transient-faults-are-retried", func(t *testing.T) { testTransientFaults(t, tg) })
		t.Run("wrong-credentials-pause-and-dead-letter-nothing", func(t *testing.T) {
			testWrongCredentials(t, tg)
		})
		t.Run("misnamed-field-pauses-and-dead-letters-nothing", func(t *testing.T) {
			testMisnamedField(t, tg)
		})
		t.Run("systemic-faults-pause-and-resume", func(t *testing.T) { testSystemicFaults(t, tg) })
	})
}

func testOverwrite(t *testing.T, tg sqsTarget) {
	h := newHarness(t, tg, setup{})
	ids := map[string]string{}
	for i := range 5 {
		call := fmt.Sprintf("call-%d", i)
		ids[call] = h.org.Insert("Task", map[string]any{"Call_Id__c": call, "Summary__c": "old"})
	}
	h.start()
	for call := range ids {
		h.send(summaryBody(call, "summary of "+call))
	}
	snap := h.waitHandled(len(ids))

	if got := snap.Outcomes[worker.Applied]; got != len(ids) {
		t.Errorf("applied: got %d, want %d (%+v)", got, len(ids), snap)
	}
	for call, id := range ids {
		rec, _ := h.org.Get("Task", id)
		if got, want := rec["Summary__c"], "summary of "+call; got != want {
			t.Errorf("record %s Summary__c: got %v, want %q", id, got, want)
		}
	}
	if dlq := drainQueue(t, tg.client, h.dlqURL); len(dlq) != 0 {
		t.Errorf("dead-letter queue: got %d messages, want none", len(dlq))
	}
}

// testBacklogSharesCalls preloads a backlog and checks that the pool's
// consumers pool their summaries into batches: a tenth of an API call per
// summary in overwrite mode and under a sixth in append mode, where one
// call per summary would be 2 or 3.
func testBacklogSharesCalls(t *testing.T, tg sqsTarget) {
	const backlog = 300
	for _, tt := range []struct {
		mode    salesforce.WriteMode
		perCall float64
	}{{salesforce.Overwrite, 0.1}, {salesforce.Append, 0.15}} {
		t.Run(string(tt.mode), func(t *testing.T) {
			h := newHarness(t, tg, setup{mode: tt.mode, linger: 50 * time.Millisecond})
			var bodies []string
			for i := range backlog {
				call := fmt.Sprintf("backlog-%d", i)
				h.org.Insert("Task", map[string]any{"Call_Id__c": call})
				bodies = append(bodies, summaryBody(call, "summary of "+call))
			}
			h.sendBatches(bodies)
			h.start()
			snap := h.waitHandled(backlog)
			if got := snap.Outcomes[worker.Applied]; got != backlog {
				t.Errorf("applied: got %d, want %d (%+v)", got, backlog, snap)
			}
			calls := h.org.Calls().API
			if limit := int64(tt.perCall * backlog); calls > limit {
				t.Errorf("API calls: got %d for %d summaries, want at most %d", calls, backlog, limit)
			}
			t.Logf("%d API calls for %d summaries", calls, backlog)
		})
	}
}

// sendBatches sends bodies ten at a time.
func (h *harness) sendBatches(bodies []string) {
	h.t.Helper()
	for start := 0; start < len(bodies); start += 10 {
		var entries []types.SendMessageBatchRequestEntry
		for i, b := range bodies[start:min(start+10, len(bodies))] {
			entries = append(entries, types.SendMessageBatchRequestEntry{
				Id: aws.String(fmt.Sprint("m", i)), MessageBody: aws.String(b)})
		}
		out, err := h.tg.client.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{
			QueueUrl: aws.String(h.queueURL), Entries: entries})
		if err != nil {
			h.t.Fatalf("send batch: %v", err)
		}
		if len(out.Failed) > 0 {
			h.t.Fatalf("send batch: %d entries failed", len(out.Failed))
		}
	}
}

func testAppendIdempotent(t *testing.T, tg sqsTarget) {
	h := newHarness(t, tg, setup{mode: salesforce.Append})
	id := h.org.Insert("Task", map[string]any{"Call_Id__c": "call-a", "Summary__c": "agent notes"})
	h.start()
	body := `{"clientCallId":"call-a","summary":"the customer called","summaryId":"sum-1"}`
	h.send(body, body, body)
	snap := h.waitHandled(3)

	rec, _ := h.org.Get("Task", id)
	text, _ := rec["Summary__c"].(string)
	if n := strings.Count(text, salesforce.Marker("sum-1")); n != 1 {
		t.Errorf("marker count: got %d, want 1 in %q", n, text)
	}
	if !strings.HasPrefix(text, "agent notes") {
		t.Errorf("agent text lost: %q", text)
	}
	if snap.Outcomes[worker.Applied] != 1 || snap.Outcomes[worker.AlreadyApplied] != 2 {
		t.Errorf("outcomes: got %v, want 1 applied and 2 already-applied", snap.Outcomes)
	}
}

func testInvalidMessages(t *testing.T, tg sqsTarget) {
	h := newHarness(t, tg, setup{})
	h.start()
	bodies := []string{`not json at all`, `{"summary":"no id"}`, `{"clientCallId":"c-1"}`}
	h.send(bodies...)
	snap := h.waitHandled(len(bodies))

	if got := snap.DeadLetters[salesforce.ReasonInvalidMessage]; got != len(bodies) {
		t.Errorf("INVALID_MESSAGE dead letters: got %d, want %d", got, len(bodies))
	}
	dlq := drainQueue(t, tg.client, h.dlqURL)
	if len(dlq) != len(bodies) {
		t.Fatalf("dead-letter queue: got %d messages, want %d", len(dlq), len(bodies))
	}
	seen := map[string]bool{}
	for _, m := range dlq {
		seen[aws.ToString(m.Body)] = true
		checkDeadLetterAttributes(t, m, salesforce.ReasonInvalidMessage, h.queueURL)
	}
	for _, b := range bodies {
		if !seen[b] {
			t.Errorf("body %q missing from the dead-letter queue or changed", b)
		}
	}
}

func checkDeadLetterAttributes(t *testing.T, m types.Message, reason, source string) {
	t.Helper()
	attr := func(name string) string { return aws.ToString(m.MessageAttributes[name].StringValue) }
	if got := attr(worker.AttrReason); got != reason {
		t.Errorf("%s: got %q, want %q", worker.AttrReason, got, reason)
	}
	if got := attr(worker.AttrSourceQueue); got != source {
		t.Errorf("%s: got %q, want %q", worker.AttrSourceQueue, got, source)
	}
	if _, err := time.Parse(time.RFC3339, attr(worker.AttrFailedAt)); err != nil {
		t.Errorf("%s: %v", worker.AttrFailedAt, err)
	}
	if attr(worker.AttrDetail) == "" || attr(worker.AttrAttempts) == "" {
		t.Errorf("detail or attempts missing: %v", m.MessageAttributes)
	}
	if got := attr("upstream"); got != "crm-7" {
		t.Errorf("upstream attribute: got %q, want it kept", got)
	}
	for _, v := range m.MessageAttributes {
		if strings.Contains(aws.ToString(v.StringValue), testClientSecret) {
			t.Errorf("an attribute carries the client secret")
		}
	}
}

func testUnknownAndAmbiguous(t *testing.T, tg sqsTarget) {
	h := newHarness(t, tg, setup{})
	h.org.Insert("Task", map[string]any{"Call_Id__c": "twin"})
	h.org.Insert("Task", map[string]any{"Call_Id__c": "TWIN"}) // equal for a case-insensitive field
	h.start()
	h.send(summaryBody("nobody-has-this", "x"), summaryBody("twin", "y"))
	snap := h.waitHandled(2)

	want := map[string]int{salesforce.ReasonNotFound: 1, salesforce.ReasonAmbiguousMatch: 1}
	for reason, n := range want {
		if snap.DeadLetters[reason] != n {
			t.Errorf("dead letters %s: got %d, want %d (%v)", reason, snap.DeadLetters[reason], n,
				snap.DeadLetters)
		}
	}
	got := map[string]int{}
	for _, m := range drainQueue(t, tg.client, h.dlqURL) {
		got[aws.ToString(m.MessageAttributes[worker.AttrReason].StringValue)]++
	}
	for reason, n := range want {
		if got[reason] != n {
			t.Errorf("DLQ messages with reason %s: got %d, want %d", reason, got[reason], n)
		}
	}
}

func testTrickyIDs(t *testing.T, tg sqsTarget) {
	for _, external := range []salesforce.ExternalIDMode{salesforce.ExternalIDYes, salesforce.ExternalIDNo} {
		t.Run("external-"+string(external), func(t *testing.T) {
			h := newHarness(t, tg, setup{external: external})
			calls := []string{`it's`, `back\slash`, `a/b`, `two words`, `straße-ß`, `50%_off`,
				`x.inc`, `q?a#b&c=d`, `plus+sign`}
			ids := map[string]string{}
			for _, call := range calls {
				ids[call] = h.org.Insert("Task", map[string]any{"Call_Id__c": call})
				h.org.Insert("Task", map[string]any{"Call_Id__c": call + "-decoy"})
			}
			h.start()
			for _, call := range calls {
				h.send(summaryBody(call, "for "+call))
			}
			snap := h.waitHandled(len(calls))
			if snap.Outcomes[worker.Applied] != len(calls) {
				t.Errorf("applied: got %v, want %d", snap, len(calls))
			}
			for call, id := range ids {
				rec, _ := h.org.Get("Task", id)
				if got := rec["Summary__c"]; got != "for "+call {
					t.Errorf("call id %q: record got %v", call, got)
				}
			}
		})
	}
}

func testTransientFaults(t *testing.T, tg sqsTarget) {
	h := newHarness(t, tg, setup{})
	id := h.org.Insert("Task", map[string]any{"Call_Id__c": "flaky"})
	h.org.FailNext(3, sftest.FaultUnavailable)
	h.start()
	h.send(summaryBody("flaky", "made it"))
	snap := h.waitHandled(1)
	rec, _ := h.org.Get("Task", id)
	if rec["Summary__c"] != "made it" || snap.Outcomes[worker.Applied] != 1 {
		t.Errorf("got record %v and outcomes %v, want the summary applied once", rec["Summary__c"],
			snap.Outcomes)
	}
}

func testWrongCredentials(t *testing.T, tg sqsTarget) {
	const wrong = "not-the-secret"
	h := newHarness(t, tg, setup{secret: wrong, visibility: 1})
	id := h.org.Insert("Task", map[string]any{"Call_Id__c": "held"})
	h.start()
	h.send(summaryBody("held", "waits for credentials"))

	eventually(t, 10*time.Second, "the pool to pause", func() bool {
		paused, _ := h.pool.Paused()
		return paused
	})
	eventually(t, 10*time.Second, "several failed probes", func() bool {
		return h.org.Calls().Token >= 4
	})
	if h.pool.Ready() {
		t.Error("pool reports ready while paused")
	}
	if n := len(drainQueue(t, tg.client, h.dlqURL)); n != 0 {
		t.Fatalf("dead-letter queue: got %d messages, want none", n)
	}
	if got := h.pool.Stats().Outcomes[worker.DeadLetter]; got != 0 {
		t.Fatalf("dead-letter outcomes: got %d, want 0", got)
	}

	// The customer fixes the connected app: the same secret now works.
	h.org.AddClient(testClientID, wrong)
	snap := h.waitHandled(1)
	rec, _ := h.org.Get("Task", id)
	if rec["Summary__c"] != "waits for credentials" || snap.Outcomes[worker.Applied] != 1 {
		t.Errorf("after the fix: record %v, outcomes %v", rec["Summary__c"], snap.Outcomes)
	}
}

func testMisnamedField(t *testing.T, tg sqsTarget) {
	h := newHarness(t, tg, setup{target: "Sumary__c", visibility: 1})
	h.org.Insert("Task", map[string]any{"Call_Id__c": "c-1"})
	h.start()
	h.send(summaryBody("c-1", "x"), summaryBody("c-2", "y"))

	eventually(t, 10*time.Second, "the pool to pause", func() bool {
		paused, _ := h.pool.Paused()
		return paused
	})
	eventually(t, 10*time.Second, "several failed probes", func() bool {
		return h.org.Calls().ByEndpoint["describe"] >= 4
	})
	visible, inFlight := queueCounts(t, tg.client, h.queueURL)
	if visible+inFlight != 2 {
		t.Errorf("source queue: got %d messages, want both kept", visible+inFlight)
	}
	if n := len(drainQueue(t, tg.client, h.dlqURL)); n != 0 {
		t.Errorf("dead-letter queue: got %d messages, want none", n)
	}
	if _, reason := h.pool.Paused(); reason == "" {
		t.Error("pause has no reason")
	}
}

// testSystemicFaults meets each systemic fault the fake org can show: the
// pool pauses, reports not ready, keeps every message out of the
// dead-letter queue, and resumes by itself once the fault is gone.
func testSystemicFaults(t *testing.T, tg sqsTarget) {
	cases := []struct {
		name   string
		setup  setup
		break_ func(org *sftest.Org)
		fix    func(org *sftest.Org)
		reason string
	}{
		{"request-limit-exceeded", setup{},
			func(org *sftest.Org) { org.SetEnforceLimit(true); org.SetUsage(15000, 15000) },
			func(org *sftest.Org) { org.SetUsage(100, 15000) },
			"REQUEST_LIMIT_EXCEEDED"},
		{"api-usage-above-ceiling", setup{},
			func(org *sftest.Org) { org.SetUsage(14000, 15000) },
			func(org *sftest.Org) { org.SetUsage(100, 15000) },
			worker.ReasonUsageCeiling},
		{"object-missing", setup{object: "Call_Log__c"},
			func(*sftest.Org) {},
			func(org *sftest.Org) {
				org.DefineObject(sftest.Object{Name: "Call_Log__c", Fields: []sftest.Field{
					{Name: "Call_Id__c", Type: "string", Length: 255, ExternalID: true,
						IDLookup: true, Filterable: true, Updateable: true},
					{Name: "Summary__c", Type: "textarea", Length: 32000, Updateable: true,
						Nillable: true},
				}})
			},
			salesforce.ReasonSetup},
		{"field-not-writable", setup{target: "Read_Only_Notes__c"},
			func(*sftest.Org) {},
			func(org *sftest.Org) {
				for _, obj := range sftest.DefaultObjects() {
					if obj.Name == "Task" {
						for i := range obj.Fields {
							obj.Fields[i].Updateable = true
						}
						org.DefineObject(obj)
					}
				}
			},
			salesforce.ReasonSetup},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.setup
			s.visibility = 1
			h := newHarness(t, tg, s)
			insert := func() {
				h.org.Insert(h.object, map[string]any{"Call_Id__c": "c-1"})
				h.org.Insert(h.object, map[string]any{"Call_Id__c": "c-2"})
			}
			if s.object == "" { // the records can exist before the fault
				insert()
			}
			tc.break_(h.org)
			h.start()
			h.send(summaryBody("c-1", "first"), summaryBody("c-2", "second"))

			eventually(t, 10*time.Second, "the pool to pause", func() bool {
				paused, _ := h.pool.Paused()
				return paused
			})
			if _, reason := h.pool.Paused(); reason != tc.reason {
				t.Errorf("pause reason = %q, want %q", reason, tc.reason)
			}
			if h.pool.Ready() {
				t.Error("pool reports ready while paused")
			}
			if n := len(drainQueue(t, tg.client, h.dlqURL)); n != 0 {
				t.Fatalf("dead-letter queue: got %d messages, want none", n)
			}

			tc.fix(h.org)
			if s.object != "" { // records of a missing object appear with it
				insert()
			}
			snap := h.waitHandled(2)
			if snap.Outcomes[worker.DeadLetter] != 0 || snap.Outcomes[worker.Applied] < 1 {
				t.Errorf("after the fix: outcomes %v, want applied and none dead-lettered", snap.Outcomes)
			}
			eventually(t, 10*time.Second, "the pool to resume and be ready", func() bool {
				paused, _ := h.pool.Paused()
				return !paused && h.pool.Ready()
			})
		})
	}
}
