package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/callsummary/connector/salesforce/sftest"
	"github.com/callsummary/connector/worker/sqstest"
)

// The SIGTERM test's workload: enough calls at the org's latency that
// the worker is mid-batch when it is signalled.
const (
	sigtermRecords  = 100
	sigtermMessages = 2 * sigtermRecords // two summaries per record
	sigtermLatency  = 300 * time.Millisecond
	sigtermDrain    = 3 * time.Second
	// sigtermMargin is what exiting may take beyond the drain deadline:
	// releasing messages, flushing deletes, stopping the process.
	sigtermMargin = 2 * time.Second
	// sigtermStartWrites is how many writes the worker has made before the
	// test signals it, as soon as a handler starts its next call.
	sigtermStartWrites = 20
)

// TestRunDrainsOnSIGTERM signals a real `connector run` process while
// batches are in flight, then checks that every summary is in its record
// once or its message is back in the queue, and that a second run
// finishes the rest with nothing written twice.
func TestRunDrainsOnSIGTERM(t *testing.T) {
	binary := buildConnectorBinary(t)
	bed := newSigtermBed(t)
	bed.sendAll()

	first := bed.startWorker(binary, "first")
	first.awaitCallInFlight(bed, 20*time.Second)
	atSignal := bed.queued()
	took := first.terminate()
	if took > sigtermDrain+sigtermMargin {
		t.Errorf("first run exited %s after SIGTERM, want within %s",
			took, sigtermDrain+sigtermMargin)
	}
	queued := bed.checkAfterStop()
	if queued >= atSignal {
		t.Errorf("queue held %d messages at SIGTERM and %d after exit: want the messages "+
			"in work finished and deleted during the drain", atSignal, queued)
	}
	if queued == 0 {
		t.Errorf("every message was handled before SIGTERM took effect; the test " +
			"needs work left in the queue")
	}
	if t.Failed() {
		t.Fatalf("first run log:\n%s", first.log())
	}
	t.Logf("first run: stopped %s after SIGTERM; %d messages in the queue then, %d after",
		took.Round(time.Millisecond), atSignal, queued)

	second := bed.startWorker(binary, "second")
	eventuallyCmd(t, 20*time.Second, "the queue empty", func() bool {
		return bed.queued() == 0
	}, second.log)
	second.terminate()
	if queued := bed.checkAfterStop(); queued != 0 {
		t.Errorf("second run left %d messages in the queue", queued)
	}
	if v, f, d := bed.sqs.Counts(bed.dlqURL); v+f+d != 0 {
		t.Errorf("dead-letter queue: got %d messages, want none", v+f+d)
	}
	if t.Failed() {
		t.Logf("second run log:\n%s", second.log())
	}
}

// buildConnectorBinary builds this command into a temporary directory, or
// skips the test when it cannot be built.
func buildConnectorBinary(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "connector")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", path, ".").CombinedOutput()
	if err != nil {
		t.Skipf("cannot build the connector binary, so no process to signal: %v\n%s", err, out)
	}
	return path
}

// sigtermBed is the fakes of the SIGTERM test: the in-process SQS server
// with a source queue and a dead-letter queue, and a slow fake org whose
// records each expect two summaries.
type sigtermBed struct {
	t        *testing.T
	sqs      *sqstest.Server
	sqsURL   string
	client   *sqs.Client
	queueURL string
	dlqURL   string

	org    *sftest.Org
	orgSrv *sftest.Server
	writes atomic.Int64
	// callInFlight is closed when a call starts after sigtermStartWrites
	// writes: a handler is then in work for at least the org's latency.
	callInFlight chan struct{}
	midBatch     atomic.Bool
	records      map[string]string // record id by call id
	texts        map[string]string // call id by summary text
}

func newSigtermBed(t *testing.T) *sigtermBed {
	t.Helper()
	b := &sigtermBed{t: t, sqs: sqstest.New(), records: map[string]string{},
		texts: map[string]string{}, callInFlight: make(chan struct{})}
	var err error
	if b.sqsURL, err = b.sqs.Start(); err != nil {
		t.Fatalf("start sqstest: %v", err)
	}
	t.Cleanup(b.sqs.Close)
	if b.queueURL, err = b.sqs.CreateQueue("summaries", nil); err != nil {
		t.Fatal(err)
	}
	if b.dlqURL, err = b.sqs.CreateQueue("summaries-dlq", nil); err != nil {
		t.Fatal(err)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(transport.CloseIdleConnections)
	b.client = sqs.New(sqs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(b.sqsURL),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:   &http.Client{Timeout: 30 * time.Second, Transport: transport},
	})

	b.org = sftest.NewOrg()
	b.org.AddClient("sigterm-client", "sigterm-secret")
	b.org.SetLatency(sigtermLatency)
	b.org.SetWriteObserver(func(string, string, time.Time) { b.writes.Add(1) })
	b.org.SetHook(func(*http.Request) {
		if b.writes.Load() >= sigtermStartWrites && b.midBatch.CompareAndSwap(false, true) {
			close(b.callInFlight)
		}
	})
	if b.orgSrv, err = b.org.Start(); err != nil {
		t.Fatalf("start fake org: %v", err)
	}
	t.Cleanup(b.orgSrv.Close)
	for i := range sigtermRecords {
		call := fmt.Sprintf("sigterm-%03d", i)
		b.records[call] = b.org.Insert("Task", map[string]any{
			"Call_Id__c": call, "Summary__c": "agent notes"})
	}
	return b
}

// sendAll sends two summaries for each record, ten to a call.
func (b *sigtermBed) sendAll() {
	b.t.Helper()
	var entries []types.SendMessageBatchRequestEntry
	for i := range sigtermMessages {
		call := fmt.Sprintf("sigterm-%03d", i%sigtermRecords)
		text := fmt.Sprintf("summary %03d for %s.", i, call)
		b.texts[text] = call
		entries = append(entries, types.SendMessageBatchRequestEntry{
			Id:          aws.String(fmt.Sprint(len(entries))),
			MessageBody: aws.String(fmt.Sprintf(`{"clientCallId":%q,"summary":%q}`, call, text)),
		})
		if len(entries) < 10 && i < sigtermMessages-1 {
			continue
		}
		out, err := b.client.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{
			QueueUrl: aws.String(b.queueURL), Entries: entries})
		if err != nil || len(out.Failed) > 0 {
			b.t.Fatalf("send batch: %v (%d failed)", err, len(out.Failed))
		}
		entries = nil
	}
}

// env is the worker's whole environment; nothing is inherited from the
// test's own.
func (b *sigtermBed) env() []string {
	return []string{
		"SF_DOMAIN=" + b.orgSrv.Domain,
		"SF_CLIENT_ID=sigterm-client",
		"SF_CLIENT_SECRET=sigterm-secret",
		"SF_OBJECT=Task",
		"SF_LOOKUP_FIELD=Call_Id__c",
		"SF_TARGET_FIELD=Summary__c",
		"SF_WRITE_MODE=append",
		"SQS_QUEUE_URL=" + b.queueURL,
		"SQS_DLQ_URL=" + b.dlqURL,
		"SQS_WAIT_TIME=1s",
		"AWS_ENDPOINT_URL_SQS=" + b.sqsURL,
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"WORKER_CONCURRENCY=40",
		"DRAIN_TIMEOUT=" + sigtermDrain.String(),
		"LOG_FORMAT=json",
	}
}

// queued counts the messages in the source queue, in any state.
func (b *sigtermBed) queued() int {
	v, f, d := b.sqs.Counts(b.queueURL)
	return v + f + d
}

func (b *sigtermBed) recordText(call string) string {
	rec, _ := b.org.Get("Task", b.records[call])
	text, _ := rec["Summary__c"].(string)
	return text
}

// checkAfterStop checks the state a stopped worker leaves: no message
// hidden, every summary in its record at most once, and every summary not
// in its record still in the queue. It returns how many messages the
// queue holds.
func (b *sigtermBed) checkAfterStop() int {
	b.t.Helper()
	queued := map[string]int{}
	msgs := b.sqs.Messages(b.queueURL)
	for _, m := range msgs {
		if m.InFlight {
			b.t.Errorf("message %s still hidden after the worker stopped; want it released",
				m.ID)
		}
		for text := range b.texts {
			if strings.Contains(m.Body, fmt.Sprintf("%q", text)) {
				queued[text]++
			}
		}
	}
	for text, call := range b.texts {
		switch n := strings.Count(b.recordText(call), text); {
		case n > 1:
			b.t.Errorf("%q written %d times into the record of %s", text, n, call)
		case n == 0 && queued[text] == 0:
			b.t.Errorf("%q lost: neither in the record of %s nor in the queue", text, call)
		}
	}
	return len(msgs)
}

// sigtermWorker is one `connector run` process of the test.
type sigtermWorker struct {
	t       *testing.T
	name    string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
	err     error // how it exited; read after exited is closed
}

func (b *sigtermBed) startWorker(binary, name string) *sigtermWorker {
	b.t.Helper()
	w := &sigtermWorker{t: b.t, name: name, exited: make(chan struct{}),
		logPath: filepath.Join(b.t.TempDir(), name+".log")}
	logFile, err := os.Create(w.logPath)
	if err != nil {
		b.t.Fatal(err)
	}
	w.cmd = exec.Command(binary, "run")
	w.cmd.Env = b.env()
	w.cmd.Stdout, w.cmd.Stderr = logFile, logFile
	if err := w.cmd.Start(); err != nil {
		logFile.Close()
		b.t.Fatalf("start %s run: %v", name, err)
	}
	go func() {
		w.err = w.cmd.Wait()
		logFile.Close()
		close(w.exited)
	}()
	b.t.Cleanup(func() {
		_ = w.cmd.Process.Kill() // it has exited unless the test failed early
		<-w.exited
	})
	return w
}

// awaitCallInFlight waits until a handler is in the middle of a call
// after the worker's first writes, failing the test if the worker exits or
// the time runs out first.
func (w *sigtermWorker) awaitCallInFlight(b *sigtermBed, within time.Duration) {
	w.t.Helper()
	limit := time.NewTimer(within)
	defer limit.Stop()
	select {
	case <-b.callInFlight:
	case <-w.exited:
		w.t.Fatalf("%s run exited early: %v\n%s", w.name, w.err, w.log())
	case <-limit.C:
		w.t.Fatalf("%s run made %d writes in %s, want a call after %d\n%s",
			w.name, b.writes.Load(), within, sigtermStartWrites, w.log())
	}
}

// terminate sends SIGTERM, waits for the process to exit with status 0 and
// returns how long it took.
func (w *sigtermWorker) terminate() time.Duration {
	w.t.Helper()
	begun := time.Now()
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil &&
		!errors.Is(err, os.ErrProcessDone) {
		w.t.Fatalf("signal %s run: %v", w.name, err)
	}
	limit := time.NewTimer(sigtermDrain + 3*sigtermMargin)
	defer limit.Stop()
	select {
	case <-w.exited:
	case <-limit.C:
		w.t.Fatalf("%s run still running %s after SIGTERM\n%s",
			w.name, sigtermDrain+3*sigtermMargin, w.log())
	}
	took := time.Since(begun)
	if w.err != nil {
		w.t.Fatalf("%s run exited with %v, want status 0\n%s", w.name, w.err, w.log())
	}
	return took
}

// log returns the process's output so far.
func (w *sigtermWorker) log() string {
	b, err := os.ReadFile(w.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	return string(b)
}

// eventuallyCmd polls cond until it holds, or fails the test with the
// given log after within.
func eventuallyCmd(t *testing.T, within time.Duration, what string, cond func() bool,
	log func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s\n%s", within, what, log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
