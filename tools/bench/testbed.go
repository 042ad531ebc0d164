package main

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/callsummary/connector/salesforce/sftest"
	"github.com/callsummary/connector/worker/sqstest"
)

// Names the bench gives the fakes.
const (
	benchClientID  = "connector-bench"
	benchObject    = "Task"
	benchTarget    = "Summary__c"
	benchQueue     = "bench-summaries"
	benchDLQ       = "bench-summaries-dlq"
	benchRegion    = "us-east-1"
	benchAWSSecret = "bench" // the in-process SQS server checks no signature
)

// testbed is the fakes of one scenario: an SQS server holding the source
// queue and the dead-letter queue, and a fake org whose writes are logged.
type testbed struct {
	sqs      *sqstest.Server
	sqsURL   string
	queueURL string
	dlqURL   string
	queue    *sqs.Client
	conns    *http.Transport // the queue client's, closed before the servers

	org      *sftest.Org
	orgSrv   *sftest.Server
	secret   string // the connected app's client secret
	writes   *writeLog
	shutdown []func()
}

// startTestbed starts the SQS server with both queues and the org with a
// client and the scenario's latency.
func startTestbed(sc scenario) (*testbed, error) {
	tb := &testbed{writes: newWriteLog()}
	if err := tb.startSQS(); err != nil {
		tb.close()
		return nil, err
	}
	if err := tb.startOrg(sc.latency); err != nil {
		tb.close()
		return nil, err
	}
	return tb, nil
}

func (tb *testbed) startSQS() error {
	tb.sqs = sqstest.New()
	tb.shutdown = append(tb.shutdown, tb.sqs.Close)
	var err error
	if tb.sqsURL, err = tb.sqs.Start(); err != nil {
		return fmt.Errorf("start sqs: %w", err)
	}
	if tb.queueURL, err = tb.sqs.CreateQueue(benchQueue, nil); err != nil {
		return err
	}
	if tb.dlqURL, err = tb.sqs.CreateQueue(benchDLQ, nil); err != nil {
		return err
	}
	tb.conns = http.DefaultTransport.(*http.Transport).Clone()
	tb.queue = sqs.New(sqs.Options{
		Region:       benchRegion,
		BaseEndpoint: aws.String(tb.sqsURL),
		Credentials:  credentials.NewStaticCredentialsProvider("bench", benchAWSSecret, ""),
		HTTPClient:   &http.Client{Timeout: 30 * time.Second, Transport: tb.conns},
	})
	return nil
}

func (tb *testbed) startOrg(latency time.Duration) error {
	tb.secret = rand.Text()
	tb.org = sftest.NewOrg()
	tb.org.AddClient(benchClientID, tb.secret)
	tb.org.SetLatency(latency)
	tb.org.SetWriteObserver(tb.writes.observe)
	srv, err := tb.org.Start()
	if err != nil {
		return fmt.Errorf("start fake org: %w", err)
	}
	tb.orgSrv = srv
	tb.shutdown = append(tb.shutdown, srv.Close)
	return nil
}

// deadLetters counts the messages in the dead-letter queue.
func (tb *testbed) deadLetters() int {
	visible, inFlight, delayed := tb.sqs.Counts(tb.dlqURL)
	return visible + inFlight + delayed
}

// queued counts the messages still in the source queue, in any state.
func (tb *testbed) queued() (visible, inFlight, delayed int) {
	return tb.sqs.Counts(tb.queueURL)
}

// close drops the queue client's idle connections and stops the servers,
// the last started first.
func (tb *testbed) close() {
	if tb.conns != nil {
		tb.conns.CloseIdleConnections()
	}
	for i := len(tb.shutdown) - 1; i >= 0; i-- {
		tb.shutdown[i]()
	}
}
