package config

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// Config is every setting of the connector. Load and FromEnv return it
// validated; it holds plain values and may be copied and shared freely.
//
// Each field's env tag names its variable and envDefault gives its default.
// The sections are tagged "-" because Load reads them one at a time (see
// Load), not through this struct.
type Config struct {
	Salesforce Salesforce `env:"-"`
	SQS        SQS        `env:"-"`
	Worker     Worker     `env:"-"`
	Log        Log        `env:"-"`

	// MetricsAddr is where /metrics, /healthz and /readyz are served, as
	// host:port or :port; empty means not at all. A bare port is turned into
	// 127.0.0.1:port.
	MetricsAddr string `env:"METRICS_ADDR"`
}

// Salesforce is how to reach the org and which record field gets the summary.
type Salesforce struct {
	// Domain is the My Domain base URL that token requests go to, such as
	// https://acme.my.salesforce.com, without a trailing slash. It is https
	// unless the host is a loopback address.
	Domain string `env:"SF_DOMAIN,required"`

	// ClientID and ClientSecret are the connected app's consumer key and
	// secret, for the client credentials flow.
	ClientID     string `env:"SF_CLIENT_ID,required"`
	ClientSecret Secret `env:"SF_CLIENT_SECRET,required"`

	// APIVersion is the REST API version without the "v", such as "66.0".
	APIVersion string `env:"SF_API_VERSION" envDefault:"66.0"`

	// Object is the API name of the object whose records receive summaries.
	Object string `env:"SF_OBJECT,required"`

	// LookupField is the API name of the field that holds the call id.
	LookupField string `env:"SF_LOOKUP_FIELD,required"`

	// LookupExternalID says whether LookupField is an External ID field:
	// "auto" (ask describe), "true" or "false".
	LookupExternalID string `env:"SF_LOOKUP_EXTERNAL_ID" envDefault:"auto"`

	// OriginField, when not empty, is a second field tried when LookupField
	// finds no record.
	OriginField string `env:"SF_ORIGIN_FIELD"`

	// TargetField is the API name of the field that receives the summary.
	TargetField string `env:"SF_TARGET_FIELD,required"`

	// WriteMode is "overwrite" or "append".
	WriteMode string `env:"SF_WRITE_MODE,required"`

	// TooLong is what happens when a summary would not fit the target
	// field: "reject" (dead-letter it as STRING_TOO_LONG),
	// "truncate-oldest" (drop the oldest appended summary blocks) or
	// "truncate-summary" (cut the new summary to fit).
	TooLong string `env:"SF_TOO_LONG" envDefault:"reject"`

	// HTTPTimeout bounds one HTTP request to Salesforce.
	HTTPTimeout time.Duration `env:"SF_HTTP_TIMEOUT" envDefault:"30s"`

	// BatchSize is the most summaries that share one lookup query and one
	// write call.
	BatchSize int `env:"SF_BATCH_SIZE" envDefault:"200"`

	// BatchLinger is how long the first summary of a batch waits for
	// others to join it.
	BatchLinger time.Duration `env:"SF_BATCH_LINGER" envDefault:"50ms"`
}

// SQS is which queues to use and how to receive from them.
type SQS struct {
	// QueueURL is the queue the summaries arrive on.
	QueueURL string `env:"SQS_QUEUE_URL,required"`

	// DLQURL is the dead-letter queue; it is never the same as QueueURL.
	DLQURL string `env:"SQS_DLQ_URL,required"`

	// WaitTime is the long-poll wait of one receive, whole seconds up to 20s.
	WaitTime time.Duration `env:"SQS_WAIT_TIME" envDefault:"20s"`

	// MaxMessages is how many messages one receive asks for, 1 to 10.
	MaxMessages int `env:"SQS_MAX_MESSAGES" envDefault:"10"`

	// HTTPTimeout bounds one HTTP request to SQS; it is longer than WaitTime.
	HTTPTimeout time.Duration `env:"SQS_HTTP_TIMEOUT" envDefault:"30s"`

	// VisibilityTimeout is asked for on receive; zero keeps the queue's own.
	VisibilityTimeout time.Duration `env:"SQS_VISIBILITY_TIMEOUT" envDefault:"0s"`
}

// Worker is how the pool of consumers behaves.
type Worker struct {
	// Concurrency is how many messages are handled at the same time.
	Concurrency int `env:"WORKER_CONCURRENCY" envDefault:"1000"`

	// Receivers is how many goroutines receive from the queue, at most
	// Concurrency.
	Receivers int `env:"WORKER_RECEIVERS" envDefault:"4"`

	// NotFoundGrace is how long a call id without a record keeps being
	// retried before the message is dead-lettered as NOT_FOUND.
	NotFoundGrace time.Duration `env:"NOT_FOUND_GRACE" envDefault:"15m"`

	// APIUsageCeiling is the fraction of the org's API limit, above 0 and at
	// most 1, beyond which the pool pauses.
	APIUsageCeiling float64 `env:"API_USAGE_CEILING" envDefault:"0.9"`

	// RetryMaxElapsed is the in-process backoff budget of one message; after
	// it the message is left for SQS to redeliver.
	RetryMaxElapsed time.Duration `env:"RETRY_MAX_ELAPSED" envDefault:"30s"`

	// DrainTimeout is how long in-flight messages may take to finish on
	// shutdown.
	DrainTimeout time.Duration `env:"DRAIN_TIMEOUT" envDefault:"30s"`

	// MaxProcessingTime is how long one message may be worked on, its
	// visibility extended meanwhile, before it is given back to the queue.
	MaxProcessingTime time.Duration `env:"MAX_PROCESSING_TIME" envDefault:"10m"`
}

// Log is how the connector logs.
type Log struct {
	// Level is "trace", "debug", "info", "warn" or "error".
	Level string `env:"LOG_LEVEL" envDefault:"info"`

	// Format is "auto" (console on a terminal, else json), "json" or
	// "console".
	Format string `env:"LOG_FORMAT" envDefault:"auto"`
}

// FromEnv loads the configuration from the process environment, as Load does.
func FromEnv() (Config, error) {
	return Load(env.ToMap(os.Environ()))
}

// Load reads the configuration from environ, a map of variable names to
// values, fills in defaults and validates it. Surrounding whitespace is
// removed from every value, and a variable set to "" takes its default.
//
// When anything is wrong, Load returns the zero Config and a *ValidationError
// listing every problem found. No error carries the client secret.
func Load(environ map[string]string) (Config, error) {
	environ = trimValues(environ)
	c := &checker{environ: environ, secret: environ[secretVar]}

	// Each section is parsed on its own because env names a value it cannot
	// parse by its Go field, and Salesforce and SQS both have HTTPTimeout.
	var cfg Config
	sections := []any{&cfg, &cfg.Salesforce, &cfg.SQS, &cfg.Worker, &cfg.Log}
	for _, section := range sections {
		c.foldEnvError(env.ParseWithOptions(section, env.Options{Environment: environ}), section)
	}

	c.config(&cfg)
	if err := c.err(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// trimValues returns a copy of environ with surrounding whitespace removed
// from every value. The copy is never nil, which env would take as "use the
// process environment".
func trimValues(environ map[string]string) map[string]string {
	trimmed := make(map[string]string, len(environ))
	for name, value := range environ {
		trimmed[name] = strings.TrimSpace(value)
	}
	return trimmed
}

// Redacted returns every setting as variable name to value, with the secret
// shown as "[redacted]". Its keys are the names Variables lists; walk
// Variables to print them in order.
func (c Config) Redacted() map[string]string {
	values := make(map[string]string)
	for _, s := range settingsOf(&c) {
		// fmt prints a Secret as "[redacted]" and a Duration as 1m30s.
		values[s.name] = fmt.Sprint(s.value.Interface())
	}
	return values
}
