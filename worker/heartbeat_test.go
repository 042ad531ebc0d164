package worker_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/rs/zerolog"

	"github.com/callsummary/connector/salesforce"
	"github.com/callsummary/connector/salesforce/sftest"
	"github.com/callsummary/connector/worker"
	"github.com/callsummary/connector/worker/sqstest"
)

// slowWrite is how long the fake org takes over every write in the
// heartbeat test: well past a one-second visibility timeout.
const slowWrite = 2500 * time.Millisecond

func TestHeartbeatKeepsSlowMessageInvisible(t *testing.T) {
	tests := []struct {
		name       string
		queue      int           // the queue's visibility timeout, seconds
		configured time.Duration // Config.VisibilityTimeout
	}{
		{name: "queue-visibility-read-at-start", queue: 1},
		{name: "configured-visibility-wins", queue: 30, configured: time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newSlowOrgHarness(t, tt.queue, worker.Config{VisibilityTimeout: tt.configured})
			id := h.org.Insert("Task", map[string]any{"Call_Id__c": "call-slow"})
			h.start()
			h.send(summaryBody("call-slow", "a summary that takes long to write"))

			h.waitOutcome()
			h.waitDeleted()
			h.stop()

			if got := h.writes.Load(); got != 1 {
				t.Errorf("writes: got %d, want 1", got)
			}
			rec, _ := h.org.Get("Task", id)
			if got, want := rec["Summary__c"], "a summary that takes long to write"; got != want {
				t.Errorf("Summary__c: got %v, want %q", got, want)
			}
			snap := h.pool.Stats()
			if snap.Handled() != 1 || snap.Outcomes[worker.Applied] != 1 {
				t.Errorf("outcomes: got %v, want one applied", snap.Outcomes)
			}
			calls := h.srv.Calls()
			if got := calls["DeleteMessageBatch"] + calls["DeleteMessage"]; got != 1 {
				t.Errorf("delete calls: got %d, want 1", got)
			}
			if calls["ChangeMessageVisibilityBatch"] < 2 {
				t.Errorf("visibility extensions: got %d calls, want at least 2 in %s",
					calls["ChangeMessageVisibilityBatch"], slowWrite)
			}
			if got := maxAttempt(t, h.logs.String()); got != 1 {
				t.Errorf("receive count in the outcome line: got %d, want 1", got)
			}
		})
	}
}

func TestMaxProcessingTimeReleasesMessage(t *testing.T) {
	h := newSlowOrgHarness(t, 1, worker.Config{MaxProcessingTime: 1500 * time.Millisecond})
	h.org.SetHook(func(r *http.Request) {
		if r.Method != http.MethodGet {
			<-r.Context().Done() // a write that never ends
		}
	})
	h.org.Insert("Task", map[string]any{"Call_Id__c": "call-stuck"})
	h.start()
	h.send(summaryBody("call-stuck", "never written"))

	snap := h.waitOutcome()
	if snap.Outcomes[worker.Retry] != 1 {
		t.Fatalf("outcomes: got %v, want one retry", snap.Outcomes)
	}
	line := outcomeLine(t, h.logs.String())
	for key, want := range map[string]string{
		"level": "warn", "reason": worker.ReasonMaxProcessingTime, "call_id": "call-stuck",
	} {
		if got, _ := line[key].(string); got != want {
			t.Errorf("outcome line %s: got %q, want %q", key, got, want)
		}
	}
	if id, _ := line["message_id"].(string); id == "" {
		t.Error("outcome line has no message_id")
	}
	msgs := h.srv.Messages(h.queueURL)
	if len(msgs) != 1 || !msgs[0].InFlight || msgs[0].ReceiveCount != 1 {
		t.Fatalf("source queue: got %+v, want the message held back for its retry", msgs)
	}
	if got := h.writes.Load(); got != 0 {
		t.Errorf("writes: got %d, want 0", got)
	}
	if got := len(h.srv.Messages(h.dlqURL)); got != 0 {
		t.Errorf("dead-letter queue: got %d messages, want none", got)
	}
}

// slowOrgHarness is one pool in overwrite mode over a fake org whose writes
// take slowWrite, and an in-process queue pair.
type slowOrgHarness struct {
	*stubHarness
	org    *sftest.Org
	writes atomic.Int64
}

func newSlowOrgHarness(t *testing.T, queueVisibility int, cfg worker.Config) *slowOrgHarness {
	t.Helper()
	h := &slowOrgHarness{stubHarness: &stubHarness{t: t, srv: sqstest.New(),
		logs: new(lockedBuffer)}}
	url, err := h.srv.Start()
	if err != nil {
		t.Fatalf("start sqstest: %v", err)
	}
	t.Cleanup(h.srv.Close)
	h.client = newSQSClient(url)
	if h.dlqURL, err = h.srv.CreateQueue("dlq", nil); err != nil {
		t.Fatal(err)
	}
	h.queueURL, err = h.srv.CreateQueue("source", map[string]string{
		"VisibilityTimeout": strconv.Itoa(queueVisibility)})
	if err != nil {
		t.Fatal(err)
	}

	h.org = sftest.NewOrg()
	h.org.AddClient(testClientID, testClientSecret)
	h.org.SetHook(func(r *http.Request) {
		if r.Method != http.MethodGet {
			time.Sleep(slowWrite)
		}
	})
	h.org.SetWriteObserver(func(string, string, time.Time) { h.writes.Add(1) })
	orgSrv, err := h.org.Start()
	if err != nil {
		t.Fatalf("start fake org: %v", err)
	}
	t.Cleanup(orgSrv.Close)
	sf, err := salesforce.New(salesforce.Config{
		Domain: orgSrv.Domain, ClientID: testClientID, ClientSecret: testClientSecret,
		APIVersion: "66.0", Object: "Task", LookupField: "Call_Id__c",
		TargetField: "Summary__c", WriteMode: salesforce.Overwrite,
	})
	if err != nil {
		t.Fatalf("salesforce.New: %v", err)
	}

	cfg.QueueURL, cfg.DLQURL = h.queueURL, h.dlqURL
	cfg.WaitTime = time.Second
	cfg.Logger = zerolog.New(h.logs)
	if h.pool, err = worker.New(cfg, h.client, sf); err != nil {
		t.Fatal(err)
	}
	return h
}

// waitOutcome waits for the first outcome.
func (h *slowOrgHarness) waitOutcome() worker.Snapshot {
	h.t.Helper()
	eventually(h.t, 10*time.Second, "an outcome", func() bool {
		return h.pool.Stats().Handled() >= 1
	})
	return h.pool.Stats()
}

// waitDeleted waits until the source queue is empty, and otherwise says
// how often its message was received and written.
func (h *slowOrgHarness) waitDeleted() {
	h.t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		msgs := h.srv.Messages(h.queueURL)
		if len(msgs) == 0 {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("message still in the queue after %d receives and %d writes",
				msgs[0].ReceiveCount, h.writes.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// outcomeLines returns the decoded "message handled" lines of a log.
func outcomeLines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, raw := range strings.Split(strings.TrimSpace(logs), "\n") {
		var line map[string]any
		if err := json.Unmarshal([]byte(raw), &line); err != nil {
			t.Fatalf("log line %q: %v", raw, err)
		}
		if line["message"] == "message handled" {
			out = append(out, line)
		}
	}
	return out
}

// outcomeLine returns the one "message handled" line of a log.
func outcomeLine(t *testing.T, logs string) map[string]any {
	t.Helper()
	lines := outcomeLines(t, logs)
	if len(lines) != 1 {
		t.Fatalf("outcome lines: got %d, want 1\n%s", len(lines), logs)
	}
	return lines[0]
}

// maxAttempt returns the highest receive count among the outcome lines.
func maxAttempt(t *testing.T, logs string) int {
	t.Helper()
	highest := 0
	for _, line := range outcomeLines(t, logs) {
		n, _ := line["attempt"].(float64)
		highest = max(highest, int(n))
	}
	return highest
}

// TestHeartbeatOffWithoutVisibility checks that a queue whose messages
// are never hidden is still served, with a warning that the heartbeat
// cannot help.
func TestHeartbeatOffWithoutVisibility(t *testing.T) {
	h := newStubHarness(t, worker.Config{})
	_, err := h.client.SetQueueAttributes(context.Background(), &sqs.SetQueueAttributesInput{
		QueueUrl: aws.String(h.queueURL), Attributes: map[string]string{"VisibilityTimeout": "0"}})
	if err != nil {
		t.Fatal(err)
	}
	h.start()
	h.send(`{"clientCallId":"c-1","summary":"s"}`)
	h.waitOutcomes(1)
	h.stop()
	if !strings.Contains(h.logs.String(), "visibility timeout too short to extend") {
		t.Errorf("no warning about the heartbeat being off:\n%s", h.logs.String())
	}
	if got := h.srv.Calls()["ChangeMessageVisibilityBatch"]; got != 0 {
		t.Errorf("visibility extensions: got %d, want none", got)
	}
}
