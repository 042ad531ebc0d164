package main

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/callsummary/connector/worker"
)

// metrics holds the process's Prometheus metrics. It is the worker's and
// the Salesforce client's Observer; the gauges read the pool and the client
// when scraped.
type metrics struct {
	registry     *prometheus.Registry
	outcomes     *prometheus.CounterVec
	handling     *prometheus.HistogramVec
	calls        *prometheus.CounterVec
	callDuration *prometheus.HistogramVec
	tokens       *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connector_messages_total",
			Help: "Messages handled, by outcome and reason.",
		}, []string{"outcome", "reason"}),
		handling: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "connector_message_duration_seconds",
			Help:    "Time from a message's receive to its queue action, by outcome.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"outcome"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connector_salesforce_calls_total",
			Help: "HTTP calls to Salesforce, by resource and status (0: no answer).",
		}, []string{"resource", "status"}),
		callDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "connector_salesforce_call_duration_seconds",
			Help:    "Duration of HTTP calls to Salesforce, by resource.",
			Buckets: prometheus.DefBuckets,
		}, []string{"resource"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connector_salesforce_tokens_total",
			Help: "Access tokens granted: the first, then each renewal.",
		}, []string{"kind"}),
	}
	m.registry.MustRegister(m.outcomes, m.handling, m.calls, m.callDuration, m.tokens,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Outcome implements worker.Observer.
func (m *metrics) Outcome(outcome worker.Outcome, reason string, took time.Duration) {
	m.outcomes.WithLabelValues(string(outcome), reason).Inc()
	m.handling.WithLabelValues(string(outcome)).Observe(took.Seconds())
}

// Call implements salesforce.Observer.
func (m *metrics) Call(resource string, status int, took time.Duration) {
	m.calls.WithLabelValues(resource, strconv.Itoa(status)).Inc()
	m.callDuration.WithLabelValues(resource).Observe(took.Seconds())
}

// TokenFetched implements salesforce.Observer.
func (m *metrics) TokenFetched(renewed bool) {
	kind := "first"
	if renewed {
		kind = "renewal"
	}
	m.tokens.WithLabelValues(kind).Inc()
}

// apiUsage is what the gauges read of the Salesforce client.
type apiUsage interface {
	APIUsage() (used, limit int64)
}

// watch registers the gauges that read the pool and the client at scrape
// time.
func (m *metrics) watch(pool *worker.Pool, sf apiUsage) {
	gauge := func(name, help string, read func() float64) {
		m.registry.MustRegister(prometheus.NewGaugeFunc(
			prometheus.GaugeOpts{Name: name, Help: help}, read))
	}
	gauge("connector_inflight_messages", "Messages received and not yet done with.",
		func() float64 { return float64(pool.InFlight()) })
	gauge("connector_paused", "1 while the pool is paused by a systemic fault.",
		func() float64 { return boolValue(func() bool { p, _ := pool.Paused(); return p }()) })
	gauge("connector_ready", "1 while the pool receives: running, not paused, receives working.",
		func() float64 { return boolValue(pool.Ready()) })
	gauge("connector_salesforce_api_usage", "The org's API calls in the last 24 h, as last reported.",
		func() float64 { used, _ := sf.APIUsage(); return float64(used) })
	gauge("connector_salesforce_api_limit", "The org's daily API limit, as last reported.",
		func() float64 { _, limit := sf.APIUsage(); return float64(limit) })
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// handler serves the metrics in the Prometheus text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
