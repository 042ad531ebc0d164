package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/callsummary/connector/config"
	"github.com/google/go-cmp/cmp"
)

// testSecret is distinctive enough that finding it anywhere means a leak.
const testSecret = "Zq8-s3cr3t-vX1-must-not-print"

// unset, as a value in a change set, removes the variable.
const unset = "\x00unset"

// minimalEnv is the smallest valid environment: the required variables only.
func minimalEnv() map[string]string {
	return map[string]string{
		"SF_DOMAIN":        "https://acme.my.salesforce.com",
		"SF_CLIENT_ID":     "client-id",
		"SF_CLIENT_SECRET": testSecret,
		"SF_OBJECT":        "Task",
		"SF_LOOKUP_FIELD":  "Call_Id__c",
		"SF_TARGET_FIELD":  "Description",
		"SF_WRITE_MODE":    "append",
		"SQS_QUEUE_URL":    "https://sqs.eu-west-1.amazonaws.com/123456789012/summaries",
		"SQS_DLQ_URL":      "https://sqs.eu-west-1.amazonaws.com/123456789012/summaries-dlq",
	}
}

// withChanges returns minimalEnv with changes applied; a value of unset
// removes the variable.
func withChanges(changes map[string]string) map[string]string {
	environ := minimalEnv()
	for name, value := range changes {
		if value == unset {
			delete(environ, name)
			continue
		}
		environ[name] = value
	}
	return environ
}

// problemsOf returns the problems of a *ValidationError, failing the test
// when err is anything else.
func problemsOf(t *testing.T, err error) []string {
	t.Helper()
	var invalid *config.ValidationError
	if !errors.As(err, &invalid) {
		t.Fatalf("Load error = %v (%T), want a *config.ValidationError", err, err)
	}
	return invalid.Problems
}

// minimalConfig is what minimalEnv loads to, every default included.
func minimalConfig() config.Config {
	return config.Config{
		Salesforce: config.Salesforce{
			Domain:           "https://acme.my.salesforce.com",
			ClientID:         "client-id",
			ClientSecret:     testSecret,
			APIVersion:       "66.0",
			Object:           "Task",
			LookupField:      "Call_Id__c",
			LookupExternalID: "auto",
			OriginField:      "",
			TargetField:      "Description",
			WriteMode:        "append",
			TooLong:          "reject",
			HTTPTimeout:      30 * time.Second,
			BatchSize:        200,
			BatchLinger:      50 * time.Millisecond,
		},
		SQS: config.SQS{
			QueueURL:          "https://sqs.eu-west-1.amazonaws.com/123456789012/summaries",
			DLQURL:            "https://sqs.eu-west-1.amazonaws.com/123456789012/summaries-dlq",
			WaitTime:          20 * time.Second,
			MaxMessages:       10,
			HTTPTimeout:       30 * time.Second,
			VisibilityTimeout: 0,
		},
		Worker: config.Worker{
			Concurrency:       1000,
			Receivers:         4,
			NotFoundGrace:     15 * time.Minute,
			APIUsageCeiling:   0.9,
			RetryMaxElapsed:   30 * time.Second,
			DrainTimeout:      30 * time.Second,
			MaxProcessingTime: 10 * time.Minute,
		},
		Log:         config.Log{Level: "info", Format: "auto"},
		MetricsAddr: "",
	}
}

func TestLoadMinimalTakesDefaults(t *testing.T) {
	got, err := config.Load(minimalEnv())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	want := minimalConfig()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Load mismatch (-want +got):\n%s", diff)
	}
}

func TestLoadEmptyValueTakesDefault(t *testing.T) {
	environ := minimalEnv()
	for _, v := range config.Variables() {
		if !v.Required {
			environ[v.Name] = "  "
		}
	}

	got, err := config.Load(environ)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	want := minimalConfig()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Load mismatch (-want +got):\n%s", diff)
	}
}

func TestLoadSetsAndNormalisesValues(t *testing.T) {
	tests := []struct {
		name    string
		changes map[string]string
		get     func(config.Config) any
		want    any
	}{
		{"domain-trailing-slash-removed",
			map[string]string{"SF_DOMAIN": "https://acme.my.salesforce.com/"},
			func(c config.Config) any { return c.Salesforce.Domain },
			"https://acme.my.salesforce.com"},
		{"domain-scheme-lowercased",
			map[string]string{"SF_DOMAIN": "HTTPS://acme.my.salesforce.com"},
			func(c config.Config) any { return c.Salesforce.Domain },
			"https://acme.my.salesforce.com"},
		{"domain-port-kept",
			map[string]string{"SF_DOMAIN": "https://acme.my.salesforce.com:8443/"},
			func(c config.Config) any { return c.Salesforce.Domain },
			"https://acme.my.salesforce.com:8443"},
		{"surrounding-whitespace-removed",
			map[string]string{"SF_OBJECT": "  Case\n"},
			func(c config.Config) any { return c.Salesforce.Object },
			"Case"},
		{"api-version-set",
			map[string]string{"SF_API_VERSION": "42.0"},
			func(c config.Config) any { return c.Salesforce.APIVersion },
			"42.0"},
		{"batch-size-set",
			map[string]string{"SF_BATCH_SIZE": "1"},
			func(c config.Config) any { return c.Salesforce.BatchSize },
			1},
		{"batch-linger-zero",
			map[string]string{"SF_BATCH_LINGER": "0s"},
			func(c config.Config) any { return c.Salesforce.BatchLinger },
			time.Duration(0)},
		{"namespaced-field-accepted",
			map[string]string{"SF_TARGET_FIELD": "ns__Summary__c"},
			func(c config.Config) any { return c.Salesforce.TargetField },
			"ns__Summary__c"},
		{"origin-field-set",
			map[string]string{"SF_ORIGIN_FIELD": "CallObject"},
			func(c config.Config) any { return c.Salesforce.OriginField },
			"CallObject"},
		{"write-mode-lowercased",
			map[string]string{"SF_WRITE_MODE": "OverWrite"},
			func(c config.Config) any { return c.Salesforce.WriteMode },
			"overwrite"},
		{"lookup-external-id-lowercased",
			map[string]string{"SF_LOOKUP_EXTERNAL_ID": "TRUE"},
			func(c config.Config) any { return c.Salesforce.LookupExternalID },
			"true"},
		{"sf-http-timeout-set",
			map[string]string{"SF_HTTP_TIMEOUT": "1m30s"},
			func(c config.Config) any { return c.Salesforce.HTTPTimeout },
			90 * time.Second},
		{"wait-time-zero-short-polls",
			map[string]string{"SQS_WAIT_TIME": "0s", "SQS_HTTP_TIMEOUT": "1s"},
			func(c config.Config) any { return c.SQS.WaitTime },
			time.Duration(0)},
		{"max-messages-set",
			map[string]string{"SQS_MAX_MESSAGES": "1"},
			func(c config.Config) any { return c.SQS.MaxMessages },
			1},
		{"visibility-timeout-set",
			map[string]string{"SQS_VISIBILITY_TIMEOUT": "12h"},
			func(c config.Config) any { return c.SQS.VisibilityTimeout },
			12 * time.Hour},
		{"local-queue-over-http",
			map[string]string{"SQS_QUEUE_URL": "http://127.0.0.1:4566/000000000000/q"},
			func(c config.Config) any { return c.SQS.QueueURL },
			"http://127.0.0.1:4566/000000000000/q"},
		{"receivers-equal-to-concurrency",
			map[string]string{"WORKER_CONCURRENCY": "4", "WORKER_RECEIVERS": "4"},
			func(c config.Config) any { return c.Worker.Receivers },
			4},
		{"grace-zero",
			map[string]string{"NOT_FOUND_GRACE": "0s"},
			func(c config.Config) any { return c.Worker.NotFoundGrace },
			time.Duration(0)},
		{"ceiling-one",
			map[string]string{"API_USAGE_CEILING": "1"},
			func(c config.Config) any { return c.Worker.APIUsageCeiling },
			1.0},
		{"log-level-lowercased",
			map[string]string{"LOG_LEVEL": " Debug "},
			func(c config.Config) any { return c.Log.Level },
			"debug"},
		{"log-format-lowercased",
			map[string]string{"LOG_FORMAT": "JSON"},
			func(c config.Config) any { return c.Log.Format },
			"json"},
		{"metrics-bare-port-on-loopback",
			map[string]string{"METRICS_ADDR": "9090"},
			func(c config.Config) any { return c.MetricsAddr },
			"127.0.0.1:9090"},
		{"metrics-port-only-kept",
			map[string]string{"METRICS_ADDR": ":9090"},
			func(c config.Config) any { return c.MetricsAddr },
			":9090"},
		{"metrics-host-port-kept",
			map[string]string{"METRICS_ADDR": "0.0.0.0:9100"},
			func(c config.Config) any { return c.MetricsAddr },
			"0.0.0.0:9100"},
		{"metrics-ipv6-kept",
			map[string]string{"METRICS_ADDR": "[::1]:9100"},
			func(c config.Config) any { return c.MetricsAddr },
			"[::1]:9100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Load(withChanges(tt.changes))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}

			got := tt.get(cfg)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("value mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadReportsProblem(t *testing.T) {
	tests := []struct {
		name    string
		changes map[string]string
		want    string // the start of the one problem expected
	}{
		// Required values.
		{"domain-unset", map[string]string{"SF_DOMAIN": unset},
			"SF_DOMAIN: required but not set (My Domain URL"},
		{"client-id-blank", map[string]string{"SF_CLIENT_ID": " \t "},
			"SF_CLIENT_ID: required but empty (consumer key"},
		{"secret-unset", map[string]string{"SF_CLIENT_SECRET": unset},
			"SF_CLIENT_SECRET: required but not set"},
		{"secret-blank", map[string]string{"SF_CLIENT_SECRET": "   "},
			"SF_CLIENT_SECRET: required but empty"},
		{"object-empty", map[string]string{"SF_OBJECT": ""},
			"SF_OBJECT: required but empty"},
		{"lookup-field-unset", map[string]string{"SF_LOOKUP_FIELD": unset},
			"SF_LOOKUP_FIELD: required but not set"},
		{"target-field-unset", map[string]string{"SF_TARGET_FIELD": unset},
			"SF_TARGET_FIELD: required but not set"},
		{"write-mode-unset", map[string]string{"SF_WRITE_MODE": unset},
			"SF_WRITE_MODE: required but not set"},
		{"queue-url-unset", map[string]string{"SQS_QUEUE_URL": unset},
			"SQS_QUEUE_URL: required but not set"},
		{"dlq-url-blank", map[string]string{"SQS_DLQ_URL": "\n"},
			"SQS_DLQ_URL: required but empty"},

		// Values env cannot parse, each under its own variable even where
		// two sections share a field name.
		{"wait-time-in-words", map[string]string{"SQS_WAIT_TIME": "5 minutes"},
			`SQS_WAIT_TIME: "5 minutes" is not a duration; use a number with a unit`},
		{"sf-http-timeout-unparsable", map[string]string{"SF_HTTP_TIMEOUT": "abc"},
			`SF_HTTP_TIMEOUT: "abc" is not a duration`},
		{"sqs-http-timeout-unparsable", map[string]string{"SQS_HTTP_TIMEOUT": "30"},
			`SQS_HTTP_TIMEOUT: "30" is not a duration`},
		{"max-messages-word", map[string]string{"SQS_MAX_MESSAGES": "ten"},
			`SQS_MAX_MESSAGES: "ten" is not a whole number`},
		{"concurrency-overflow", map[string]string{"WORKER_CONCURRENCY": "99999999999"},
			`WORKER_CONCURRENCY: "99999999999" is out of range`},
		{"ceiling-word", map[string]string{"API_USAGE_CEILING": "high"},
			`API_USAGE_CEILING: "high" is not a number`},

		// SF_DOMAIN.
		{"domain-without-scheme", map[string]string{"SF_DOMAIN": "acme.my.salesforce.com"},
			`SF_DOMAIN: "acme.my.salesforce.com" is not an absolute http(s) URL`},
		{"domain-without-host", map[string]string{"SF_DOMAIN": "https://"},
			`SF_DOMAIN: "https://" is not an absolute http(s) URL`},
		{"domain-other-scheme", map[string]string{"SF_DOMAIN": "ftp://acme.example.com"},
			`SF_DOMAIN: "ftp://acme.example.com" is not an absolute http(s) URL`},
		{"domain-bad-port", map[string]string{"SF_DOMAIN": "https://acme.example.com:x"},
			`SF_DOMAIN: "https://acme.example.com:x" is not a URL`},
		{"domain-with-path",
			map[string]string{"SF_DOMAIN": "https://acme.my.salesforce.com/services/oauth2"},
			`SF_DOMAIN: "https://acme.my.salesforce.com/services/oauth2" has a path`},
		{"domain-with-query", map[string]string{"SF_DOMAIN": "https://acme.example.com?a=1"},
			`SF_DOMAIN: has a query or fragment`},
		{"domain-with-fragment", map[string]string{"SF_DOMAIN": "https://acme.example.com#x"},
			`SF_DOMAIN: has a query or fragment`},
		{"domain-with-user-info",
			map[string]string{"SF_DOMAIN": "https://admin:hunter2@acme.example.com"},
			"SF_DOMAIN: has user info before the host; remove it"},
		{"domain-http-remote", map[string]string{"SF_DOMAIN": "http://acme.my.salesforce.com"},
			`SF_DOMAIN: "http://acme.my.salesforce.com" uses http; use https`},

		// SF_API_VERSION.
		{"api-version-without-minor", map[string]string{"SF_API_VERSION": "66"},
			`SF_API_VERSION: "66" is not an API version; use NN.0, such as 66.0`},
		{"api-version-with-v", map[string]string{"SF_API_VERSION": "v66.0"},
			`SF_API_VERSION: "v66.0" is not an API version`},
		{"api-version-minor", map[string]string{"SF_API_VERSION": "66.1"},
			`SF_API_VERSION: "66.1" is not an API version`},
		{"api-version-retired", map[string]string{"SF_API_VERSION": "30.0"},
			`SF_API_VERSION: "30.0" is too old; the connector needs 42.0 or later`},
		{"api-version-without-collections", map[string]string{"SF_API_VERSION": "41.0"},
			`SF_API_VERSION: "41.0" is too old`},
		{"too-long-unknown", map[string]string{"SF_TOO_LONG": "truncate"},
			`SF_TOO_LONG: "truncate" is not a too-long policy; use reject, truncate-oldest or truncate-summary`},
		{"max-processing-too-short", map[string]string{"MAX_PROCESSING_TIME": "30s"},
			"MAX_PROCESSING_TIME: 30s is out of range; use 1m0s to 12h0m0s"},
		{"max-processing-within-retry-budget",
			map[string]string{"MAX_PROCESSING_TIME": "1m", "RETRY_MAX_ELAPSED": "5m"},
			"MAX_PROCESSING_TIME: 1m0s is not more than RETRY_MAX_ELAPSED plus SF_HTTP_TIMEOUT"},
		{"batch-size-zero", map[string]string{"SF_BATCH_SIZE": "0"},
			"SF_BATCH_SIZE: 0 is out of range; use 1 to 200"},
		{"batch-size-too-big", map[string]string{"SF_BATCH_SIZE": "201"},
			"SF_BATCH_SIZE: 201 is out of range; use 1 to 200"},
		{"batch-linger-negative", map[string]string{"SF_BATCH_LINGER": "-1ms"},
			"SF_BATCH_LINGER: -1ms is out of range; use 0s to 1s"},
		{"batch-linger-too-long", map[string]string{"SF_BATCH_LINGER": "2s"},
			"SF_BATCH_LINGER: 2s is out of range; use 0s to 1s"},

		// API names.
		{"object-injection", map[string]string{"SF_OBJECT": "Task; DROP"},
			`SF_OBJECT: "Task; DROP" is not an API name; use letters, digits and underscores`},
		{"lookup-field-space", map[string]string{"SF_LOOKUP_FIELD": "a b"},
			`SF_LOOKUP_FIELD: "a b" is not an API name`},
		{"lookup-field-leading-digit", map[string]string{"SF_LOOKUP_FIELD": "1Call__c"},
			`SF_LOOKUP_FIELD: "1Call__c" is not an API name`},
		{"lookup-field-leading-underscore", map[string]string{"SF_LOOKUP_FIELD": "_Call"},
			`SF_LOOKUP_FIELD: "_Call" is not an API name`},
		{"origin-field-dash", map[string]string{"SF_ORIGIN_FIELD": "Call-Id"},
			`SF_ORIGIN_FIELD: "Call-Id" is not an API name`},
		{"target-field-quote", map[string]string{"SF_TARGET_FIELD": "Description'"},
			`SF_TARGET_FIELD: "Description'" is not an API name`},
		{"target-field-path", map[string]string{"SF_TARGET_FIELD": "../Id"},
			`SF_TARGET_FIELD: "../Id" is not an API name`},
		{"origin-same-as-lookup", map[string]string{"SF_ORIGIN_FIELD": "call_id__C"},
			`SF_ORIGIN_FIELD: "call_id__C" is the same field as SF_LOOKUP_FIELD`},
		{"target-same-as-lookup", map[string]string{"SF_TARGET_FIELD": "Call_Id__c"},
			`SF_TARGET_FIELD: "Call_Id__c" is the same field as SF_LOOKUP_FIELD`},

		// Keywords.
		{"write-mode-typo", map[string]string{"SF_WRITE_MODE": "apend"},
			`SF_WRITE_MODE: "apend" is not a write mode; use overwrite or append`},
		{"lookup-external-id-yes", map[string]string{"SF_LOOKUP_EXTERNAL_ID": "yes"},
			`SF_LOOKUP_EXTERNAL_ID: "yes" is not a lookup mode; use auto, true or false`},
		{"log-level-verbose", map[string]string{"LOG_LEVEL": "Verbose"},
			`LOG_LEVEL: "Verbose" is not a log level; use trace, debug, info, warn or error`},
		{"log-format-xml", map[string]string{"LOG_FORMAT": "xml"},
			`LOG_FORMAT: "xml" is not a log format; use auto, json or console`},

		// Salesforce timeout.
		{"sf-http-timeout-zero", map[string]string{"SF_HTTP_TIMEOUT": "0s"},
			"SF_HTTP_TIMEOUT: 0s is not positive"},

		// Queues.
		{"queue-url-relative", map[string]string{"SQS_QUEUE_URL": "/000000000000/q"},
			`SQS_QUEUE_URL: "/000000000000/q" is not an absolute http(s) URL`},
		{"queue-url-name-only", map[string]string{"SQS_QUEUE_URL": "summaries"},
			`SQS_QUEUE_URL: "summaries" is not an absolute http(s) URL`},
		{"dlq-url-other-scheme", map[string]string{"SQS_DLQ_URL": "arn:aws:sqs:eu-west-1:1:q"},
			`SQS_DLQ_URL: "arn:aws:sqs:eu-west-1:1:q" is not an absolute http(s) URL`},
		{"dlq-same-as-queue",
			map[string]string{"SQS_DLQ_URL": minimalEnv()["SQS_QUEUE_URL"]},
			"SQS_DLQ_URL: is the same as SQS_QUEUE_URL"},

		// SQS receive settings.
		{"wait-time-too-long", map[string]string{"SQS_WAIT_TIME": "21s"},
			"SQS_WAIT_TIME: 21s is out of range; use 0s to 20s"},
		{"wait-time-negative", map[string]string{"SQS_WAIT_TIME": "-1s"},
			"SQS_WAIT_TIME: -1s is out of range; use 0s to 20s"},
		{"wait-time-fraction", map[string]string{"SQS_WAIT_TIME": "1500ms"},
			"SQS_WAIT_TIME: 1.5s is not a whole number of seconds"},
		{"max-messages-zero", map[string]string{"SQS_MAX_MESSAGES": "0"},
			"SQS_MAX_MESSAGES: 0 is out of range; use 1 to 10"},
		{"max-messages-eleven", map[string]string{"SQS_MAX_MESSAGES": "11"},
			"SQS_MAX_MESSAGES: 11 is out of range; use 1 to 10"},
		{"sqs-http-timeout-equals-wait", map[string]string{"SQS_HTTP_TIMEOUT": "20s"},
			"SQS_HTTP_TIMEOUT: 20s is not longer than SQS_WAIT_TIME (20s)"},
		{"sqs-http-timeout-below-wait",
			map[string]string{"SQS_WAIT_TIME": "10s", "SQS_HTTP_TIMEOUT": "5s"},
			"SQS_HTTP_TIMEOUT: 5s is not longer than SQS_WAIT_TIME (10s)"},
		{"sqs-http-timeout-not-compared-to-bad-wait",
			map[string]string{"SQS_WAIT_TIME": "forever", "SQS_HTTP_TIMEOUT": "5s"},
			`SQS_WAIT_TIME: "forever" is not a duration`},
		{"visibility-too-long", map[string]string{"SQS_VISIBILITY_TIMEOUT": "13h"},
			"SQS_VISIBILITY_TIMEOUT: 13h0m0s is out of range; use 0s for the queue's own, " +
				"or 1s to 12h0m0s"},
		{"visibility-below-a-second", map[string]string{"SQS_VISIBILITY_TIMEOUT": "500ms"},
			"SQS_VISIBILITY_TIMEOUT: 500ms is out of range"},
		{"visibility-negative", map[string]string{"SQS_VISIBILITY_TIMEOUT": "-1s"},
			"SQS_VISIBILITY_TIMEOUT: -1s is out of range"},
		{"visibility-fraction", map[string]string{"SQS_VISIBILITY_TIMEOUT": "1.5s"},
			"SQS_VISIBILITY_TIMEOUT: 1.5s is not a whole number of seconds"},

		// Worker.
		{"concurrency-zero", map[string]string{"WORKER_CONCURRENCY": "0"},
			"WORKER_CONCURRENCY: 0 is out of range; use 1 to 10000"},
		{"concurrency-too-high", map[string]string{"WORKER_CONCURRENCY": "10001"},
			"WORKER_CONCURRENCY: 10001 is out of range; use 1 to 10000"},
		{"receivers-zero", map[string]string{"WORKER_RECEIVERS": "0"},
			"WORKER_RECEIVERS: 0 is out of range; use 1 to 10000"},
		{"receivers-above-concurrency",
			map[string]string{"WORKER_CONCURRENCY": "4", "WORKER_RECEIVERS": "5"},
			"WORKER_RECEIVERS: 5 is more than WORKER_CONCURRENCY (4); use 1 to 4"},
		{"receivers-not-compared-to-bad-concurrency",
			map[string]string{"WORKER_CONCURRENCY": "many", "WORKER_RECEIVERS": "5"},
			`WORKER_CONCURRENCY: "many" is not a whole number`},
		{"grace-negative", map[string]string{"NOT_FOUND_GRACE": "-1m"},
			"NOT_FOUND_GRACE: -1m0s is negative"},
		{"ceiling-zero", map[string]string{"API_USAGE_CEILING": "0"},
			"API_USAGE_CEILING: 0 is out of range; use a fraction above 0 and at most 1"},
		{"ceiling-above-one", map[string]string{"API_USAGE_CEILING": "1.5"},
			"API_USAGE_CEILING: 1.5 is out of range"},
		{"ceiling-percent", map[string]string{"API_USAGE_CEILING": "90"},
			"API_USAGE_CEILING: 90 is out of range"},
		{"ceiling-nan", map[string]string{"API_USAGE_CEILING": "NaN"},
			"API_USAGE_CEILING: NaN is out of range"},
		{"retry-budget-zero", map[string]string{"RETRY_MAX_ELAPSED": "0s"},
			"RETRY_MAX_ELAPSED: 0s is not positive"},
		{"drain-timeout-negative", map[string]string{"DRAIN_TIMEOUT": "-5s"},
			"DRAIN_TIMEOUT: -5s is not positive"},

		// METRICS_ADDR.
		{"metrics-host-without-port", map[string]string{"METRICS_ADDR": "localhost"},
			`METRICS_ADDR: "localhost" is not host:port`},
		{"metrics-port-too-big", map[string]string{"METRICS_ADDR": ":99999"},
			`METRICS_ADDR: ":99999" has no port number from 0 to 65535`},
		{"metrics-bare-port-too-big", map[string]string{"METRICS_ADDR": "70000"},
			`METRICS_ADDR: "70000" has no port number from 0 to 65535`},
		{"metrics-port-name", map[string]string{"METRICS_ADDR": ":http"},
			`METRICS_ADDR: ":http" has no port number`},
		{"metrics-bare-ipv6", map[string]string{"METRICS_ADDR": "::1"},
			`METRICS_ADDR: "::1" is not host:port`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load(withChanges(tt.changes))

			got := problemsOf(t, err)
			if len(got) != 1 || !strings.HasPrefix(got[0], tt.want) {
				t.Errorf("problems:\n%s\nwant one starting with:\n%s",
					strings.Join(got, "\n"), tt.want)
			}
		})
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	environ := withChanges(map[string]string{
		"LOG_LEVEL":          "loud",
		"SQS_WAIT_TIME":      "5 minutes",
		"SF_DOMAIN":          unset,
		"METRICS_ADDR":       "nowhere",
		"WORKER_CONCURRENCY": "0",
		"SF_WRITE_MODE":      "apend",
	})

	cfg, err := config.Load(environ)

	// In the order of Variables, whatever order they were found in.
	want := []string{"SF_DOMAIN", "SF_WRITE_MODE", "SQS_WAIT_TIME", "WORKER_CONCURRENCY",
		"LOG_LEVEL", "METRICS_ADDR"}
	var got []string
	for _, p := range problemsOf(t, err) {
		name, _, _ := strings.Cut(p, ":")
		got = append(got, name)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("variables with problems (-want +got):\n%s\nerror:\n%v", diff, err)
	}
	if diff := cmp.Diff(config.Config{}, cfg); diff != "" {
		t.Errorf("Config returned with an error is not zero (-want +got):\n%s", diff)
	}
}

func TestLoadNilReadsNoProcessEnvironment(t *testing.T) {
	for name, value := range minimalEnv() {
		t.Setenv(name, value)
	}

	_, err := config.Load(nil)

	got := problemsOf(t, err)
	if len(got) != len(minimalEnv()) {
		t.Errorf("got %d problems, want one per required variable (%d):\n%s",
			len(got), len(minimalEnv()), strings.Join(got, "\n"))
	}
}

func TestLoadDomainLoopback(t *testing.T) {
	tests := []struct {
		name   string
		domain string
		wantOK bool
	}{
		{"ipv4-loopback", "http://127.0.0.1:8080", true},
		{"ipv4-loopback-range", "http://127.1.2.3:8080/", true},
		{"localhost", "http://localhost:8080", true},
		{"localhost-uppercase", "http://LOCALHOST", true},
		{"ipv6-loopback", "http://[::1]:8080", true},
		{"https-anywhere", "https://acme.my.salesforce.com", true},
		{"public-host", "http://acme.my.salesforce.com", false},
		{"private-address", "http://10.0.0.1:8080", false},
		{"unspecified-address", "http://0.0.0.0:8080", false},
		{"localhost-lookalike", "http://localhost.example.com", false},
		{"other-ipv6", "http://[::2]:8080", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load(withChanges(map[string]string{"SF_DOMAIN": tt.domain}))

			gotOK := err == nil
			if gotOK != tt.wantOK {
				t.Errorf("Load with SF_DOMAIN=%s: error = %v, want accepted = %t",
					tt.domain, err, tt.wantOK)
			}
		})
	}
}

func TestFromEnv(t *testing.T) {
	// Blank every variable first, so the test's own environment cannot leak in.
	for _, v := range config.Variables() {
		t.Setenv(v.Name, "")
	}
	for name, value := range minimalEnv() {
		t.Setenv(name, value)
	}

	t.Run("valid", func(t *testing.T) {
		got, err := config.FromEnv()
		if err != nil {
			t.Fatalf("FromEnv: %v", err)
		}
		if diff := cmp.Diff(minimalConfig(), got); diff != "" {
			t.Errorf("FromEnv mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("invalid", func(t *testing.T) {
		t.Setenv("SF_WRITE_MODE", "apend")

		_, err := config.FromEnv()

		got := problemsOf(t, err)
		want := []string{`SF_WRITE_MODE: "apend" is not a write mode; use overwrite or append`}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("problems (-want +got):\n%s", diff)
		}
	})
}

func TestValidationErrorMessage(t *testing.T) {
	tests := []struct {
		name     string
		problems []string
		want     string
	}{
		{"one-problem", []string{"A: bad"}, "config: A: bad"},
		{"two-problems", []string{"A: bad", "B: worse"},
			"config: 2 problems:\n  A: bad\n  B: worse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := &config.ValidationError{Problems: tt.problems}

			got := err.Error()
			if got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRedacted(t *testing.T) {
	cfg, err := config.Load(withChanges(map[string]string{"METRICS_ADDR": "9090"}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	got := cfg.Redacted()

	want := map[string]string{
		"SF_DOMAIN":              "https://acme.my.salesforce.com",
		"SF_CLIENT_ID":           "client-id",
		"SF_CLIENT_SECRET":       "[redacted]",
		"SF_API_VERSION":         "66.0",
		"SF_BATCH_LINGER":        "50ms",
		"SF_BATCH_SIZE":          "200",
		"SF_OBJECT":              "Task",
		"SF_LOOKUP_FIELD":        "Call_Id__c",
		"SF_LOOKUP_EXTERNAL_ID":  "auto",
		"SF_ORIGIN_FIELD":        "",
		"SF_TARGET_FIELD":        "Description",
		"SF_WRITE_MODE":          "append",
		"SF_HTTP_TIMEOUT":        "30s",
		"SQS_QUEUE_URL":          "https://sqs.eu-west-1.amazonaws.com/123456789012/summaries",
		"SQS_DLQ_URL":            "https://sqs.eu-west-1.amazonaws.com/123456789012/summaries-dlq",
		"SQS_WAIT_TIME":          "20s",
		"SQS_MAX_MESSAGES":       "10",
		"SQS_HTTP_TIMEOUT":       "30s",
		"SQS_VISIBILITY_TIMEOUT": "0s",
		"WORKER_CONCURRENCY":     "1000",
		"SF_TOO_LONG":            "reject",
		"MAX_PROCESSING_TIME":    "10m0s",
		"WORKER_RECEIVERS":       "4",
		"NOT_FOUND_GRACE":        "15m0s",
		"API_USAGE_CEILING":      "0.9",
		"RETRY_MAX_ELAPSED":      "30s",
		"DRAIN_TIMEOUT":          "30s",
		"LOG_LEVEL":              "info",
		"LOG_FORMAT":             "auto",
		"METRICS_ADDR":           "127.0.0.1:9090",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Redacted mismatch (-want +got):\n%s", diff)
	}
	for _, v := range config.Variables() {
		if _, ok := got[v.Name]; !ok {
			t.Errorf("Redacted has no %s", v.Name)
		}
	}
}
