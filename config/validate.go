package config

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// Limits that the settings are checked against.
const (
	oldestAPIVersion     = 42 // the first with sObject Collections; 21.0 to 30.0 are retired
	maxBatchSize         = 200
	maxBatchLinger       = time.Second
	maxWaitTime          = 20 * time.Second
	maxMessages          = 10
	maxVisibilityTimeout = 12 * time.Hour
	maxConcurrency       = 10000
	maxProcessingTime    = 12 * time.Hour // the longest visibility SQS grants
)

var (
	// apiNamePattern is what an object or field API name looks like. The
	// names go into SOQL and URLs, so nothing else may pass.
	apiNamePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

	// apiVersionPattern is a REST API version such as 66.0.
	apiVersionPattern = regexp.MustCompile(`^([1-9][0-9]{0,3})\.0$`)
)

// ValidationError lists every problem Load found in the settings.
type ValidationError struct {
	// Problems holds one line per problem, in the order of Variables. Each
	// starts with the variable's name and says what is wrong and what is
	// expected. None contains the client secret.
	Problems []string
}

// Error returns the problems one per line, under a line that counts them when
// there is more than one.
func (e *ValidationError) Error() string {
	if len(e.Problems) == 1 {
		return "config: " + e.Problems[0]
	}

	var b strings.Builder
	fmt.Fprintf(&b, "config: %d problems:", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p)
	}
	return b.String()
}

// checker collects the problems of one Load. It reports at most one problem
// per variable, the first found, and later checks that depend on a variable
// already reported skip it rather than pile up consequences of one mistake.
type checker struct {
	environ  map[string]string // the trimmed environment, to quote unparsable values
	secret   string            // scrubbed from every problem
	problems []problem
	reported map[string]bool
}

// problem is one thing wrong with the variable name.
type problem struct {
	name string
	text string
}

// fail records a problem with the variable name, unless it already has one.
func (c *checker) fail(name, format string, args ...any) {
	if c.reported[name] {
		return
	}
	if c.reported == nil {
		c.reported = make(map[string]bool)
	}
	c.reported[name] = true
	c.problems = append(c.problems, problem{name: name, text: c.scrub(fmt.Sprintf(format, args...))})
}

// valid reports whether the variable name has no problem so far.
func (c *checker) valid(name string) bool {
	return !c.reported[name]
}

// scrub replaces the client secret wherever it occurs in text, as typed or as
// strconv.Quote writes it, so that no message can show it even when the
// secret was pasted into another variable.
func (c *checker) scrub(text string) string {
	if c.secret == "" {
		return text
	}
	quoted := strconv.Quote(c.secret)
	text = strings.ReplaceAll(text, c.secret, redacted)
	return strings.ReplaceAll(text, quoted[1:len(quoted)-1], redacted)
}

// err returns the problems as a *ValidationError, or nil when there are none.
func (c *checker) err() error {
	if len(c.problems) == 0 {
		return nil
	}

	rank := func(p problem) int {
		i := slices.IndexFunc(meanings, func(m struct{ name, meaning string }) bool {
			return m.name == p.name
		})
		if i < 0 {
			return len(meanings)
		}
		return i
	}
	slices.SortStableFunc(c.problems, func(a, b problem) int {
		return cmp.Compare(rank(a), rank(b))
	})

	lines := make([]string, len(c.problems))
	for i, p := range c.problems {
		lines[i] = p.text
		if p.name != "" {
			lines[i] = p.name + ": " + p.text
		}
	}
	return &ValidationError{Problems: lines}
}

// foldEnvError turns what env returned for section, a pointer to a struct,
// into problems.
func (c *checker) foldEnvError(err error, section any) {
	if err == nil {
		return
	}
	var aggregate env.AggregateError
	if !errors.As(err, &aggregate) {
		aggregate.Errors = []error{err}
	}
	for _, e := range aggregate.Errors {
		c.foldOne(e, reflect.TypeOf(section).Elem())
	}
}

func (c *checker) foldOne(err error, section reflect.Type) {
	var parseErr env.ParseError
	var notSet env.VarIsNotSetError
	switch {
	case errors.As(err, &parseErr):
		field, _ := section.FieldByName(parseErr.Name)
		name, _ := parseEnvTag(field.Tag)
		c.unparsable(name, parseErr)
	case errors.As(err, &notSet):
		c.fail(notSet.Key, "required but not set (%s)", meaningOf(notSet.Key))
	default:
		// env reports misuse of itself here, such as an unknown tag option:
		// a fault of this package, not of the settings, but still a problem.
		c.problems = append(c.problems, problem{text: c.scrub(err.Error())})
	}
}

// unparsable reports a value env could not convert to its field's type.
func (c *checker) unparsable(name string, err env.ParseError) {
	value := strconv.Quote(c.environ[name])
	switch {
	case err.Type == reflect.TypeFor[time.Duration]():
		c.fail(name, "%s is not a duration; use a number with a unit, such as 30s or 15m", value)
	case errors.Is(err.Err, strconv.ErrRange):
		c.fail(name, "%s is out of range", value)
	case err.Type.Kind() == reflect.Int:
		c.fail(name, "%s is not a whole number", value)
	case err.Type.Kind() == reflect.Float64:
		c.fail(name, "%s is not a number; use a decimal such as 0.9", value)
	default:
		c.fail(name, "%s cannot be read as %s", value, err.Type)
	}
}

// config checks cfg and brings its values to their normal form.
func (c *checker) config(cfg *Config) {
	c.required(cfg)
	c.salesforce(&cfg.Salesforce)
	c.sqs(&cfg.SQS)
	c.worker(&cfg.Worker)
	c.processingBudget(cfg)
	c.log(&cfg.Log)
	cfg.MetricsAddr = c.listenAddr("METRICS_ADDR", cfg.MetricsAddr)
}

// required reports required variables that are set but empty or blank; env
// has already reported those not set at all.
func (c *checker) required(cfg *Config) {
	for _, s := range settingsOf(cfg) {
		if s.required && s.value.Kind() == reflect.String && s.value.String() == "" {
			c.fail(s.name, "required but empty (%s)", meaningOf(s.name))
		}
	}
}

func (c *checker) salesforce(s *Salesforce) {
	s.Domain = c.domain("SF_DOMAIN", s.Domain)
	c.apiVersion("SF_API_VERSION", s.APIVersion)

	c.apiName("SF_OBJECT", s.Object)
	c.apiName("SF_LOOKUP_FIELD", s.LookupField)
	c.apiName("SF_ORIGIN_FIELD", s.OriginField)
	c.apiName("SF_TARGET_FIELD", s.TargetField)
	c.otherField("SF_ORIGIN_FIELD", s.OriginField, "SF_LOOKUP_FIELD", s.LookupField)
	c.otherField("SF_TARGET_FIELD", s.TargetField, "SF_LOOKUP_FIELD", s.LookupField)

	s.LookupExternalID = c.keyword("SF_LOOKUP_EXTERNAL_ID", s.LookupExternalID,
		"lookup mode", "auto", "true", "false")
	s.WriteMode = c.keyword("SF_WRITE_MODE", s.WriteMode, "write mode", "overwrite", "append")
	s.TooLong = c.keyword("SF_TOO_LONG", s.TooLong, "too-long policy",
		"reject", "truncate-oldest", "truncate-summary")
	c.positive("SF_HTTP_TIMEOUT", s.HTTPTimeout)
	inRange(c, "SF_BATCH_SIZE", s.BatchSize, 1, maxBatchSize)
	inRange(c, "SF_BATCH_LINGER", s.BatchLinger, 0, maxBatchLinger)
}

// domain checks the Salesforce domain URL and returns it as scheme://host.
func (c *checker) domain(name, raw string) string {
	const want = "such as https://acme.my.salesforce.com"
	if raw == "" {
		return raw
	}

	u, err := url.Parse(raw)
	switch {
	case err != nil:
		c.fail(name, "%q is not a URL; use the My Domain URL, %s", raw, want)
	case u.User != nil:
		// The value is not quoted: user info may hold a password.
		c.fail(name, "has user info before the host; remove it and keep the URL, %s", want)
	case (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "":
		c.fail(name, "%q is not an absolute http(s) URL with a host; use one %s", raw, want)
	case u.Path != "" && u.Path != "/":
		c.fail(name, "%q has a path; use the domain only, %s", raw, want)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		// Not quoted: a query string may carry a token.
		c.fail(name, "has a query or fragment; use the domain only, %s", want)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		c.fail(name, "%q uses http; use https (http is allowed only for localhost, "+
			"127.0.0.0/8 and ::1)", raw)
	default:
		return u.Scheme + "://" + u.Host
	}
	return raw
}

// isLoopback reports whether host names this machine: localhost or a
// loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.IsLoopback()
}

func (c *checker) apiVersion(name, version string) {
	m := apiVersionPattern.FindStringSubmatch(version)
	if m == nil {
		c.fail(name, "%q is not an API version; use NN.0, such as 66.0", version)
		return
	}
	if n, _ := strconv.Atoi(m[1]); n < oldestAPIVersion {
		c.fail(name, "%q is too old; the connector needs %d.0 or later (sObject Collections), "+
			"such as 66.0", version, oldestAPIVersion)
	}
}

// apiName checks that an object or field name looks like a Salesforce API
// name. An empty value is left to the required check.
func (c *checker) apiName(name, value string) {
	if value != "" && !apiNamePattern.MatchString(value) {
		c.fail(name, "%q is not an API name; use letters, digits and underscores, "+
			"starting with a letter, such as Call_Id__c", value)
	}
}

// otherField reports a field that is the same as the field named otherName.
// API names ignore case, so the comparison does too.
func (c *checker) otherField(name, value, otherName, other string) {
	if value != "" && strings.EqualFold(value, other) {
		c.fail(name, "%q is the same field as %s; use a different field", value, otherName)
	}
}

// keyword returns value in lowercase, and reports it when it is not one of
// words. what names the kind of word, for the message.
func (c *checker) keyword(name, value, what string, words ...string) string {
	lower := strings.ToLower(value)
	if value != "" && !slices.Contains(words, lower) {
		c.fail(name, "%q is not a %s; use %s", value, what, orList(words))
	}
	return lower
}

// orList joins words as "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	last := len(words) - 1
	return strings.Join(words[:last], ", ") + " or " + words[last]
}

func (c *checker) sqs(q *SQS) {
	c.queueURL("SQS_QUEUE_URL", q.QueueURL)
	c.queueURL("SQS_DLQ_URL", q.DLQURL)
	if q.DLQURL != "" && q.DLQURL == q.QueueURL && c.valid("SQS_QUEUE_URL") {
		c.fail("SQS_DLQ_URL", "is the same as SQS_QUEUE_URL; "+
			"dead letters need a queue of their own")
	}

	inRange(c, "SQS_WAIT_TIME", q.WaitTime, 0, maxWaitTime)
	c.wholeSeconds("SQS_WAIT_TIME", q.WaitTime)
	inRange(c, "SQS_MAX_MESSAGES", q.MaxMessages, 1, maxMessages)
	if c.valid("SQS_WAIT_TIME") && q.HTTPTimeout <= q.WaitTime {
		c.fail("SQS_HTTP_TIMEOUT", "%v is not longer than SQS_WAIT_TIME (%v); "+
			"a receive would time out before its long poll ends", q.HTTPTimeout, q.WaitTime)
	}
	c.visibilityTimeout("SQS_VISIBILITY_TIMEOUT", q.VisibilityTimeout)
}

// queueURL checks that a queue URL is an absolute http(s) URL.
func (c *checker) queueURL(name, raw string) {
	const want = "such as https://sqs.eu-west-1.amazonaws.com/123456789012/summaries"
	if raw == "" {
		return
	}

	u, err := url.Parse(raw)
	switch {
	case err != nil:
		c.fail(name, "%q is not a URL; use the queue URL, %s", raw, want)
	case u.User != nil:
		c.fail(name, "has user info before the host; remove it and keep the URL, %s", want)
	case (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "":
		c.fail(name, "%q is not an absolute http(s) URL with a host; use the queue URL, %s",
			raw, want)
	}
}

func (c *checker) visibilityTimeout(name string, d time.Duration) {
	if d != 0 && (d < time.Second || d > maxVisibilityTimeout) {
		c.fail(name, "%v is out of range; use 0s for the queue's own, or 1s to %v",
			d, maxVisibilityTimeout)
	}
	c.wholeSeconds(name, d)
}

func (c *checker) worker(w *Worker) {
	inRange(c, "WORKER_CONCURRENCY", w.Concurrency, 1, maxConcurrency)
	if c.valid("WORKER_CONCURRENCY") && w.Receivers > w.Concurrency {
		c.fail("WORKER_RECEIVERS", "%d is more than WORKER_CONCURRENCY (%d); use 1 to %d",
			w.Receivers, w.Concurrency, w.Concurrency)
	}
	inRange(c, "WORKER_RECEIVERS", w.Receivers, 1, maxConcurrency)

	if w.NotFoundGrace < 0 {
		c.fail("NOT_FOUND_GRACE", "%v is negative; use 0s or more, such as 15m", w.NotFoundGrace)
	}
	// Written so that NaN fails too.
	if !(w.APIUsageCeiling > 0 && w.APIUsageCeiling <= 1) {
		c.fail("API_USAGE_CEILING", "%v is out of range; use a fraction above 0 and "+
			"at most 1, such as 0.9", w.APIUsageCeiling)
	}
	c.positive("RETRY_MAX_ELAPSED", w.RetryMaxElapsed)
	c.positive("DRAIN_TIMEOUT", w.DrainTimeout)
	inRange(c, "MAX_PROCESSING_TIME", w.MaxProcessingTime, time.Minute, maxProcessingTime)
}

// processingBudget checks that a message may be worked on longer than its
// in-process retries and one more Salesforce call can take.
func (c *checker) processingBudget(cfg *Config) {
	need := cfg.Worker.RetryMaxElapsed + cfg.Salesforce.HTTPTimeout
	if c.valid("MAX_PROCESSING_TIME") && c.valid("RETRY_MAX_ELAPSED") &&
		c.valid("SF_HTTP_TIMEOUT") && cfg.Worker.MaxProcessingTime <= need {
		c.fail("MAX_PROCESSING_TIME", "%v is not more than RETRY_MAX_ELAPSED plus SF_HTTP_TIMEOUT "+
			"(%v): messages would be given back while still being retried", cfg.Worker.MaxProcessingTime, need)
	}
}

func (c *checker) log(l *Log) {
	l.Level = c.keyword("LOG_LEVEL", l.Level, "log level",
		"trace", "debug", "info", "warn", "error")
	l.Format = c.keyword("LOG_FORMAT", l.Format, "log format", "auto", "json", "console")
}

// listenAddr checks an address to listen on and returns it in host:port
// form: a bare port becomes 127.0.0.1:port. Empty stays empty.
func (c *checker) listenAddr(name, addr string) string {
	const want = "use :9090, 127.0.0.1:9090 or a bare port such as 9090"
	if addr == "" {
		return addr
	}

	full := addr
	if isDigits(addr) {
		full = "127.0.0.1:" + addr
	}
	_, port, err := net.SplitHostPort(full)
	if err != nil {
		c.fail(name, "%q is not host:port; %s", addr, want)
		return addr
	}
	if n, err := strconv.Atoi(port); err != nil || !isDigits(port) || n > 65535 {
		c.fail(name, "%q has no port number from 0 to 65535; %s", addr, want)
		return addr
	}
	return full
}

// isDigits reports whether s is one or more ASCII digits.
func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// positive reports a duration that is zero or negative.
func (c *checker) positive(name string, d time.Duration) {
	if d <= 0 {
		c.fail(name, "%v is not positive; use a duration such as 30s", d)
	}
}

// wholeSeconds reports a duration with a fraction of a second: SQS counts
// in seconds.
func (c *checker) wholeSeconds(name string, d time.Duration) {
	if d%time.Second != 0 {
		c.fail(name, "%v is not a whole number of seconds; SQS counts in seconds", d)
	}
}

// inRange reports v when it is outside lo to hi, both included.
func inRange[T int | time.Duration](c *checker, name string, v, lo, hi T) {
	if v < lo || v > hi {
		c.fail(name, "%v is out of range; use %v to %v", v, lo, hi)
	}
}
