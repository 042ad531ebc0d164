package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/spf13/cobra"

	"github.com/callsummary/connector/salesforce"
	"github.com/callsummary/connector/salesforce/sftest"
	"github.com/callsummary/connector/worker"
	"github.com/callsummary/connector/worker/sqstest"
)

// Demo settings that are not flags.
const (
	defaultDemoMessages = 200
	minDemoMessages     = 10 // enough for at least one message of every kind
	demoDeadline        = 2 * time.Minute
	demoPollInterval    = 20 * time.Millisecond
	demoClientID        = "connector-demo"
	demoAPIVersion      = "66.0"
	demoObject          = "Task"
	demoTargetField     = "Summary__c"
	demoLogLines        = 40                    // worker log lines shown when verification fails
	demoBatchLinger     = 50 * time.Millisecond // SF_BATCH_LINGER's default
)

// Lookup modes of the demo: the External ID endpoint on Call_Id__c, or SOQL
// on CallObject, which is not an External ID.
const (
	lookupExternal = "external"
	lookupSOQL     = "soql"
)

// demoOptions are the settings of one demo run.
type demoOptions struct {
	messages int
	mode     string // overwrite or append
	lookup   string // external or soql
	json     bool
	latency  time.Duration // fake-org latency per call
	verbose  bool          // worker logs to stderr

	// deadline bounds the wait for every message to reach an outcome;
	// zero means demoDeadline.
	deadline time.Duration
	// tamper, when set, runs after the worker stopped and before the result
	// is checked. Tests use it to prove that verification can fail.
	tamper func(ctx context.Context, d *demoRun, p *demoPlan) error
}

func newDemoCommand() *cobra.Command {
	o := demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run everything in one process against local fakes and check the result",
		Long: "Start an in-process SQS server and a fake Salesforce org seeded with records,\n" +
			"run the worker with default settings, send a mix of good, unknown, shared,\n" +
			"invalid, duplicated and oddly spelled call ids, wait for every outcome, and\n" +
			"check the org and the dead-letter queue against what was sent. Nothing\n" +
			"listens beyond 127.0.0.1. Exits 1 when the check fails.",
		Example: `  connector demo
  connector demo --messages 1000 --mode overwrite --lookup soql
  connector demo --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			report, err := runDemo(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if !report.Verified {
				return &exitError{code: 1, err: fmt.Errorf(
					"demo: verification failed with %d mismatches", len(report.Mismatches))}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.messages, "messages", defaultDemoMessages,
		fmt.Sprintf("messages to send (at least %d)", minDemoMessages))
	f.StringVar(&o.mode, "mode", string(salesforce.Append), "write mode: overwrite or append")
	f.StringVar(&o.lookup, "lookup", lookupExternal,
		"lookup: external (External ID field Call_Id__c) or soql (CallObject)")
	f.BoolVar(&o.json, "json", false, "print the result as one JSON object")
	f.DurationVar(&o.latency, "latency", 0, "latency the fake org adds to every call")
	f.BoolVar(&o.verbose, "verbose", false, "show the worker's logs on standard error")
	return cmd
}

func (o demoOptions) validate() error {
	switch {
	case o.messages < minDemoMessages:
		return fmt.Errorf("demo: --messages must be at least %d", minDemoMessages)
	case o.mode != string(salesforce.Overwrite) && o.mode != string(salesforce.Append):
		return fmt.Errorf("demo: --mode %q is not overwrite or append", o.mode)
	case o.lookup != lookupExternal && o.lookup != lookupSOQL:
		return fmt.Errorf("demo: --lookup %q is not external or soql", o.lookup)
	case o.latency < 0:
		return errors.New("demo: --latency must not be negative")
	}
	return nil
}

// runDemo runs one demo: plan, start, seed, send, wait, verify, render. It
// writes the table (or JSON) to stdout. It returns an error only when the
// demo could not run; a failed check is a report with Verified false.
func runDemo(ctx context.Context, o demoOptions, stdout, stderr io.Writer) (demoReport, error) {
	if err := o.validate(); err != nil {
		return demoReport{}, err
	}
	if o.deadline <= 0 {
		o.deadline = demoDeadline
	}
	plan := planDemo(o.messages, salesforce.WriteMode(o.mode), o.lookup)

	d, err := startDemo(ctx, o, stderr)
	if err != nil {
		return demoReport{}, err
	}
	defer d.close()
	d.seed(plan)
	if err := d.sf.Prepare(ctx); err != nil {
		return demoReport{}, fmt.Errorf("demo: salesforce setup: %w", err)
	}

	elapsed, unfinished, err := d.process(ctx, plan)
	if err != nil {
		return demoReport{}, err
	}
	report, err := d.check(ctx, plan, elapsed, unfinished)
	if err != nil {
		return demoReport{}, err
	}
	if err := renderDemo(stdout, report, o.json); err != nil {
		return report, err
	}
	if !report.Verified && !o.verbose {
		d.logs.writeTo(stderr)
	}
	return report, nil
}

// process starts the pool, sends the plan, waits for every outcome and
// stops the pool. It returns the time from the first send to the last
// outcome and, when the wait timed out, what was left unfinished. An error
// means the demo cannot go on.
func (d *demoRun) process(ctx context.Context, plan *demoPlan) (time.Duration, string, error) {
	d.startPool(ctx)
	began := time.Now()
	unfinished, err := "", d.send(ctx, plan)
	if err == nil {
		unfinished, err = d.wait(ctx, len(plan.messages))
	}
	elapsed := time.Since(began)
	d.stopPool()
	if err == nil && d.runErr != nil {
		err = fmt.Errorf("demo: worker: %w", d.runErr)
	}
	return elapsed, unfinished, err
}

// check observes the org and the dead-letter queue, compares them with the
// plan and builds the report.
func (d *demoRun) check(ctx context.Context, plan *demoPlan, elapsed time.Duration,
	unfinished string) (demoReport, error) {
	if d.opts.tamper != nil {
		if err := d.opts.tamper(ctx, d, plan); err != nil {
			return demoReport{}, fmt.Errorf("demo: tamper: %w", err)
		}
	}
	obs, err := d.observe(ctx, plan)
	if err != nil {
		return demoReport{}, err
	}
	var mismatches []string
	if unfinished != "" {
		mismatches = append(mismatches, unfinished)
	}
	mismatches = append(mismatches, verifyDemo(plan, obs)...)
	return newDemoReport(plan, obs.stats, d.org.Calls(), elapsed, d.opts.latency, mismatches), nil
}

// demoRun is the running set of local fakes, clients and the worker pool.
type demoRun struct {
	opts     demoOptions
	sqs      *sqstest.Server
	queue    *sqs.Client
	queueURL string
	dlqURL   string
	org      *sftest.Org
	closeOrg func()
	sf       *salesforce.Client
	pool     *worker.Pool
	logs     *logTail
	clients  []*http.Client // closed before the servers, see close

	stop    context.CancelFunc
	stopped chan struct{}
	runErr  error
}

// startDemo starts the SQS server with a queue and a DLQ, the fake org and
// the clients, and builds the pool without starting it.
func startDemo(ctx context.Context, o demoOptions, stderr io.Writer) (*demoRun, error) {
	d := &demoRun{opts: o, logs: newLogTail(demoLogLines)}
	if err := d.startSQS(ctx); err != nil {
		d.close()
		return nil, err
	}
	if err := d.startOrg(); err != nil {
		d.close()
		return nil, err
	}
	if err := d.newPool(stderr); err != nil {
		d.close()
		return nil, err
	}
	return d, nil
}

func (d *demoRun) startSQS(ctx context.Context) error {
	d.sqs = sqstest.New()
	endpoint, err := d.sqs.Start()
	if err != nil {
		return fmt.Errorf("demo: start sqs: %w", err)
	}
	d.queue = sqs.New(sqs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("demo", "demo", ""),
		HTTPClient:   d.newHTTPClient(30 * time.Second), // outlasts the 20 s long poll
	})
	if d.dlqURL, err = d.createQueue(ctx, "demo-summaries-dlq"); err != nil {
		return err
	}
	d.queueURL, err = d.createQueue(ctx, "demo-summaries")
	return err
}

func (d *demoRun) createQueue(ctx context.Context, name string) (string, error) {
	out, err := d.queue.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		return "", fmt.Errorf("demo: create queue %s: %w", name, err)
	}
	return aws.ToString(out.QueueUrl), nil
}

func (d *demoRun) startOrg() error {
	secret := rand.Text()
	d.org = sftest.NewOrg()
	d.org.AddClient(demoClientID, secret)
	d.org.SetLatency(d.opts.latency)
	srv, err := d.org.Start()
	if err != nil {
		return fmt.Errorf("demo: start fake org: %w", err)
	}
	d.closeOrg = srv.Close

	lookupField, external := demoLookup(d.opts.lookup)
	d.sf, err = salesforce.New(salesforce.Config{
		Domain:           srv.Domain,
		ClientID:         demoClientID,
		ClientSecret:     secret,
		APIVersion:       demoAPIVersion,
		Object:           demoObject,
		LookupField:      lookupField,
		LookupExternalID: external,
		TargetField:      demoTargetField,
		WriteMode:        salesforce.WriteMode(d.opts.mode),
		HTTPClient:       d.newHTTPClient(30 * time.Second),
		BatchLinger:      demoBatchLinger,
	})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}

// demoLookup returns the lookup field and External ID mode of a lookup flag.
func demoLookup(lookup string) (string, salesforce.ExternalIDMode) {
	if lookup == lookupSOQL {
		return "CallObject", salesforce.ExternalIDNo
	}
	return "Call_Id__c", salesforce.ExternalIDYes
}

// newPool builds the worker with default settings, except that a record not
// found dead-letters at once instead of after the 15 minute grace.
func (d *demoRun) newPool(stderr io.Writer) error {
	log := newLogger(d.logs, "info", "json")
	if d.opts.verbose {
		log = newLogger(stderr, "info", "auto")
	}
	pool, err := worker.New(worker.Config{
		QueueURL:      d.queueURL,
		DLQURL:        d.dlqURL,
		WaitTime:      time.Second, // stopping waits out the long poll in flight
		NotFoundGrace: 0,
		Logger:        log,
	}, d.queue, d.sf)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	d.pool = pool
	return nil
}

// startPool runs the pool until stopPool. Cancelling ctx also stops it.
func (d *demoRun) startPool(ctx context.Context) {
	ctx, d.stop = context.WithCancel(ctx)
	d.stopped = make(chan struct{})
	go func() {
		defer close(d.stopped)
		d.runErr = d.pool.Run(ctx)
	}()
}

// stopPool cancels the pool and waits until Run has returned.
func (d *demoRun) stopPool() {
	if d.stop == nil {
		return
	}
	d.stop()
	<-d.stopped
	d.stop = nil
}

// newHTTPClient returns a client of the demo's own, so that close can drop
// its idle connections.
func (d *demoRun) newHTTPClient(timeout time.Duration) *http.Client {
	c := newHTTPClient(timeout)
	d.clients = append(d.clients, c)
	return c
}

// close stops the pool if it runs and shuts the servers down. Idle client
// connections go first: a server's graceful shutdown waits up to five
// seconds for a connection that was dialled but never carried a request.
func (d *demoRun) close() {
	d.stopPool()
	for _, c := range d.clients {
		c.CloseIdleConnections()
	}
	if d.closeOrg != nil {
		d.closeOrg()
	}
	if d.sqs != nil {
		d.sqs.Close()
	}
}

// send puts every planned body on the queue, ten to a SendMessageBatch.
func (d *demoRun) send(ctx context.Context, plan *demoPlan) error {
	bodies := make([]string, len(plan.messages))
	for i, m := range plan.messages {
		bodies[i] = m.body
	}
	sent, err := sendAll(ctx, d.queue, d.queueURL, bodies)
	if err != nil {
		return fmt.Errorf("demo: sent %d of %d messages: %w", sent, len(bodies), err)
	}
	return nil
}

// wait polls until the pool has an outcome for every message sent and the
// queue holds none. On the deadline it returns what is left unfinished; the
// end of ctx is an error.
func (d *demoRun) wait(ctx context.Context, sent int) (string, error) {
	deadline := time.NewTimer(d.opts.deadline)
	defer deadline.Stop()
	tick := time.NewTicker(demoPollInterval)
	defer tick.Stop()
	for {
		handled := d.pool.Stats().Handled()
		visible, inFlight, delayed := d.sqs.Counts(d.queueURL)
		if handled >= sent && visible+inFlight+delayed == 0 {
			return "", nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("demo: %w", ctx.Err())
		case <-deadline.C:
			return fmt.Sprintf("timed out after %s: %d of %d messages have an outcome; "+
				"the queue still holds %d visible, %d in flight, %d delayed",
				d.opts.deadline, handled, sent, visible, inFlight, delayed), nil
		case <-tick.C:
		}
	}
}
