package config

import (
	"reflect"
	"slices"
	"strings"
)

// secretVar is the variable whose value must never be shown.
const secretVar = "SF_CLIENT_SECRET"

// Variable describes one environment variable the connector reads.
type Variable struct {
	// Name is the variable's name, such as SF_DOMAIN.
	Name string

	// Default is the value used when the variable is unset or empty, as it
	// would be written in the environment; "" when there is none.
	Default string

	// Meaning says in one line what the variable sets.
	Meaning string

	// Required is true when the variable has no default and must be set.
	Required bool
}

// meanings lists every variable with its one-line meaning, in the order of
// the README table. The defaults and whether a variable is required come from
// Config's struct tags, so they are stated once.
var meanings = []struct{ name, meaning string }{
	{"SF_DOMAIN", "My Domain URL for token requests, such as https://acme.my.salesforce.com; " +
		"http only for loopback hosts"},
	{"SF_CLIENT_ID", "consumer key of the connected app, for the client credentials flow"},
	{secretVar, "consumer secret of the connected app; never printed or logged"},
	{"SF_API_VERSION", "REST API version as NN.0, 42.0 or later"},
	{"SF_OBJECT", "API name of the object whose records receive summaries, such as Task or Case"},
	{"SF_LOOKUP_FIELD", "API name of the field that holds the call id"},
	{"SF_LOOKUP_EXTERNAL_ID", "whether the lookup field is an External ID: " +
		"auto (ask describe), true or false"},
	{"SF_ORIGIN_FIELD", "API name of a second field tried when the lookup field finds no record"},
	{"SF_TARGET_FIELD", "API name of the field that receives the summary"},
	{"SF_WRITE_MODE", "overwrite the target field or append to it: overwrite or append"},
	{"SF_TOO_LONG", "a summary that would not fit the target field: reject (dead-letter it), " +
		"truncate-oldest (drop the oldest appended summaries) or truncate-summary (cut it)"},
	{"SF_HTTP_TIMEOUT", "time limit of one HTTP request to Salesforce"},
	{"SF_BATCH_SIZE", "most summaries sharing one lookup query and one write call, 1 to 200"},
	{"SF_BATCH_LINGER", "how long the first summary of a batch waits for others, 0s to 1s"},
	{"SQS_QUEUE_URL", "URL of the queue the summaries arrive on"},
	{"SQS_DLQ_URL", "URL of the dead-letter queue, not the same as SQS_QUEUE_URL"},
	{"SQS_WAIT_TIME", "long-poll wait of one receive, whole seconds from 0s to 20s"},
	{"SQS_MAX_MESSAGES", "messages asked for by one receive, 1 to 10"},
	{"SQS_HTTP_TIMEOUT", "time limit of one HTTP request to SQS, longer than SQS_WAIT_TIME"},
	{"SQS_VISIBILITY_TIMEOUT", "visibility timeout asked for on receive; " +
		"0s keeps the queue's own, else whole seconds from 1s to 12h"},
	{"WORKER_CONCURRENCY", "messages handled at the same time, 1 to 10000; " +
		"enough to fill several batches"},
	{"WORKER_RECEIVERS", "goroutines receiving from the queue, 1 to WORKER_CONCURRENCY"},
	{"NOT_FOUND_GRACE", "how long a call id without a record is retried " +
		"before the message is dead-lettered as NOT_FOUND"},
	{"API_USAGE_CEILING", "fraction of the org's API limit, above 0 and at most 1, " +
		"beyond which the pool pauses"},
	{"RETRY_MAX_ELAPSED", "in-process backoff budget of one message " +
		"before it is left for SQS to redeliver"},
	{"DRAIN_TIMEOUT", "on shutdown, how long in-flight messages may take to finish"},
	{"MAX_PROCESSING_TIME", "how long one message may be worked on, its visibility " +
		"extended meanwhile, before it is given back to the queue"},
	{"LOG_LEVEL", "trace, debug, info, warn or error"},
	{"LOG_FORMAT", "auto (console on a terminal, else json), json or console"},
	{"METRICS_ADDR", "address serving /metrics, /healthz and /readyz: host:port, :port, " +
		"or a bare port for 127.0.0.1:port; empty turns it off"},
}

// Variables lists every variable the connector reads, with its default and
// meaning, in the order of the README table. The README and the help of
// `connector run` are generated from it. Each call returns a new slice.
func Variables() []Variable {
	tags := make(map[string]setting)
	for _, s := range settingsOf(&Config{}) {
		tags[s.name] = s
	}

	vars := make([]Variable, 0, len(meanings))
	for _, m := range meanings {
		s := tags[m.name]
		vars = append(vars, Variable{
			Name:     m.name,
			Default:  s.def,
			Meaning:  m.meaning,
			Required: s.required,
		})
	}
	return vars
}

// meaningOf returns the meaning of the named variable, or "" if there is none.
func meaningOf(name string) string {
	i := slices.IndexFunc(meanings, func(m struct{ name, meaning string }) bool {
		return m.name == name
	})
	if i < 0 {
		return ""
	}
	return meanings[i].meaning
}

// setting is one field of Config that a variable sets.
type setting struct {
	name     string
	def      string
	required bool
	value    reflect.Value
}

// settingsOf walks cfg's fields depth first, in declaration order, and
// returns those that carry an env tag. The values are addressable through
// cfg.
func settingsOf(cfg *Config) []setting {
	return appendSettings(nil, reflect.ValueOf(cfg).Elem())
}

func appendSettings(list []setting, v reflect.Value) []setting {
	for i := range v.NumField() {
		field, value := v.Type().Field(i), v.Field(i)
		if field.Type.Kind() == reflect.Struct {
			list = appendSettings(list, value)
			continue
		}

		name, required := parseEnvTag(field.Tag)
		if name == "" || name == "-" {
			continue
		}
		list = append(list, setting{
			name:     name,
			def:      field.Tag.Get("envDefault"),
			required: required,
			value:    value,
		})
	}
	return list
}

// parseEnvTag returns the variable name in tag's env key and whether its
// options make the variable required.
func parseEnvTag(tag reflect.StructTag) (name string, required bool) {
	name, options, _ := strings.Cut(tag.Get("env"), ",")
	for option := range strings.SplitSeq(options, ",") {
		if option == "required" || option == "notEmpty" {
			required = true
		}
	}
	return name, required
}
