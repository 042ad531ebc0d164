// Package pipeline runs the whole connector pipeline on one machine for the
// tools that measure and stress it: an in-process SQS server with a source
// queue and a dead-letter queue, a fake Salesforce org, and the worker as a
// real `connector run` subprocess configured by its environment. Nothing
// listens beyond 127.0.0.1.
package pipeline

import (
	"crypto/rand"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/callsummary/connector/salesforce"
	"github.com/callsummary/connector/salesforce/sftest"
	"github.com/callsummary/connector/worker/sqstest"
)

// The object and target field every tool writes into, and the region the
// SQS clients name.
const (
	Object      = "Task"
	TargetField = "Summary__c"
	Region      = "us-east-1"
)

// TestbedConfig says how to set up the fakes.
type TestbedConfig struct {
	// Name prefixes the queue names and the connected app's client id,
	// such as "bench".
	Name string
	// Latency is the fake org's delay before it answers each call.
	Latency time.Duration
	// QueueAttributes are given to CreateQueue for the source queue, such
	// as "VisibilityTimeout"; nil keeps the defaults.
	QueueAttributes map[string]string
	// WrapData, when set, wraps the org's data API handler, for instance
	// to count its answers. The token endpoint is not wrapped.
	WrapData func(http.Handler) http.Handler
}

// Testbed is the fakes of one run: an SQS server holding the source queue
// and the dead-letter queue, a client for them, and a fake org with one
// connected app. Its fields are set by StartTestbed and read only after.
type Testbed struct {
	SQS      *sqstest.Server
	SQSURL   string // the SQS server's base URL
	QueueURL string
	DLQURL   string
	Queue    *sqs.Client // talks to SQS on behalf of the tool, not the worker

	Org      *sftest.Org
	Domain   string // base URL of the org's token endpoint
	ClientID string // the connected app's consumer key

	name     string
	secret   string          // the connected app's client secret
	conns    *http.Transport // the queue client's, closed before the servers
	shutdown []func()
}

// StartTestbed starts the SQS server with both queues and the org with a
// connected app. Close it when done.
func StartTestbed(cfg TestbedConfig) (*Testbed, error) {
	tb := &Testbed{name: cfg.Name, ClientID: "connector-" + cfg.Name}
	if err := tb.startSQS(cfg.QueueAttributes); err != nil {
		tb.Close()
		return nil, err
	}
	if err := tb.startOrg(cfg.Latency, cfg.WrapData); err != nil {
		tb.Close()
		return nil, err
	}
	return tb, nil
}

func (tb *Testbed) startSQS(attrs map[string]string) error {
	tb.SQS = sqstest.New()
	tb.shutdown = append(tb.shutdown, tb.SQS.Close)
	var err error
	if tb.SQSURL, err = tb.SQS.Start(); err != nil {
		return fmt.Errorf("start sqs: %w", err)
	}
	if tb.QueueURL, err = tb.SQS.CreateQueue(tb.name+"-summaries", attrs); err != nil {
		return fmt.Errorf("create source queue: %w", err)
	}
	if tb.DLQURL, err = tb.SQS.CreateQueue(tb.name+"-summaries-dlq", nil); err != nil {
		return fmt.Errorf("create dead-letter queue: %w", err)
	}
	tb.conns = http.DefaultTransport.(*http.Transport).Clone()
	tb.Queue = sqs.New(sqs.Options{
		Region:       Region,
		BaseEndpoint: aws.String(tb.SQSURL),
		Credentials:  credentials.NewStaticCredentialsProvider(tb.name, tb.name, ""),
		HTTPClient:   &http.Client{Timeout: 30 * time.Second, Transport: tb.conns},
	})
	return nil
}

// startOrg serves the token endpoint and the data API on two listeners,
// so that a worker which ignores instance_url fails.
func (tb *Testbed) startOrg(latency time.Duration, wrap func(http.Handler) http.Handler) error {
	tb.secret = rand.Text()
	tb.Org = sftest.NewOrg()
	tb.Org.AddClient(tb.ClientID, tb.secret)
	tb.Org.SetLatency(latency)

	data := tb.Org.DataHandler()
	if wrap != nil {
		data = wrap(data)
	}
	dataURL, err := tb.serve(data)
	if err != nil {
		return fmt.Errorf("start fake org: %w", err)
	}
	tb.Org.SetInstanceURL(dataURL)
	if tb.Domain, err = tb.serve(tb.Org.TokenHandler()); err != nil {
		return fmt.Errorf("start fake org: %w", err)
	}
	return nil
}

// serve serves h on a new loopback listener until Close and returns its
// base URL.
func (tb *Testbed) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln) // ends with ErrServerClosed once closed
	}()
	tb.shutdown = append(tb.shutdown, func() {
		srv.Close()
		<-done
	})
	return "http://" + ln.Addr().String(), nil
}

// WorkerEnv is what a worker needs to reach the testbed, looking the calls
// up in lookupField and writing in mode. Add tuning to it, then pass it
// through Environ.
func (tb *Testbed) WorkerEnv(lookupField string, mode salesforce.WriteMode) map[string]string {
	return map[string]string{
		"SF_DOMAIN":        tb.Domain,
		"SF_CLIENT_ID":     tb.ClientID,
		"SF_CLIENT_SECRET": tb.secret,
		"SF_OBJECT":        Object,
		"SF_LOOKUP_FIELD":  lookupField,
		"SF_TARGET_FIELD":  TargetField,
		"SF_WRITE_MODE":    string(mode),

		"SQS_QUEUE_URL":         tb.QueueURL,
		"SQS_DLQ_URL":           tb.DLQURL,
		"AWS_ENDPOINT_URL_SQS":  tb.SQSURL,
		"AWS_REGION":            Region,
		"AWS_ACCESS_KEY_ID":     tb.name,
		"AWS_SECRET_ACCESS_KEY": tb.name, // the SQS server checks no signature
		// A stopping worker waits out its long poll; two seconds keep stops
		// short and change nothing while messages are waiting.
		"SQS_WAIT_TIME": "2s",
	}
}

// DeadLetters counts the messages in the dead-letter queue.
func (tb *Testbed) DeadLetters() int {
	visible, inFlight, delayed := tb.SQS.Counts(tb.DLQURL)
	return visible + inFlight + delayed
}

// Queued counts the messages still in the source queue, in any state.
func (tb *Testbed) Queued() (visible, inFlight, delayed int) {
	return tb.SQS.Counts(tb.QueueURL)
}

// Close drops the queue client's idle connections and stops the servers,
// the last started first. The queues and the org stay readable.
func (tb *Testbed) Close() {
	if tb.conns != nil {
		tb.conns.CloseIdleConnections()
	}
	for i := len(tb.shutdown) - 1; i >= 0; i-- {
		tb.shutdown[i]()
	}
	tb.shutdown = nil
}
