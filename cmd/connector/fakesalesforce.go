package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/callsummary/connector/salesforce/sftest"
)

// fakeOrgOptions are the flags of `connector fake-salesforce`.
type fakeOrgOptions struct {
	addr        string
	instanceURL string
	seedPath    string
	latency     time.Duration
}

// fakeOrgShutdown bounds how long open requests may take to finish once the
// command is told to stop.
const fakeOrgShutdown = 5 * time.Second

func newFakeSalesforceCommand() *cobra.Command {
	var o fakeOrgOptions
	cmd := &cobra.Command{
		Use:   "fake-salesforce",
		Short: "Serve an in-memory Salesforce org on one port, for local runs",
		Long:  fakeSalesforceHelp(),
		Example: `  connector fake-salesforce --seed localstack/fake-org-seed.json
  connector fake-salesforce --addr 0.0.0.0:8080 --seed /seed/fake-org-seed.json   # in a container`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runFakeSalesforce(cmd.Context(), o, cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:8080",
		"address to listen on: host:port, or a bare port for 127.0.0.1:port")
	f.StringVar(&o.instanceURL, "instance-url", "",
		"instance_url handed out with tokens (default http:// and the listen address)")
	f.StringVar(&o.seedPath, "seed", "", "JSON file of clients and records to start with")
	f.DurationVar(&o.latency, "latency", 0, "latency added to every data call")
	return cmd
}

// fakeSalesforceHelp explains the command and the seed file format, listing
// the objects and fields of the org's schema as it is.
func fakeSalesforceHelp() string {
	var b strings.Builder
	b.WriteString(`Serve the fake Salesforce org that the tests and the demo use, on one port:
the OAuth token endpoint (POST /services/oauth2/token, client credentials) and
the REST data API under /services/data/. The org lives in memory and starts
from the seed file each time. Logs go to standard error (LOG_LEVEL,
LOG_FORMAT); SIGINT or SIGTERM stops it.

--addr takes host:port or a bare port (127.0.0.1:port). Every interface must be
asked for by name, as 0.0.0.0:8080 inside a container. When --instance-url is
not given, tokens carry http:// and the listen address, or, when listening on
every interface, the address the token request was sent to.

The seed file is one JSON object:

  {
    "comment": "free text, ignored",
    "clients": [{"client_id": "local-connector", "client_secret": "change-me"}],
    "records": [
      {"object": "Task", "fields": {"Subject": "Call", "Call_Id__c": "demo-1"}}
    ]
  }

"clients" are connected apps: their id and secret get a token. "records" are
inserted in order; the org makes their ids. Field values are JSON strings or
null, datetimes in RFC 3339. Unknown keys, objects or fields, a client without
an id or a secret, a duplicate client id, an Id field and a value longer than
its field are errors, reported all at once with exit code 2.

Objects and the fields a seed may set (Call_Id__c is an External ID):
`)
	for _, obj := range sftest.DefaultObjects() {
		var names []string
		for _, f := range obj.Fields {
			if f.Type != "id" {
				names = append(names, f.Name)
			}
		}
		b.WriteString(wrapList("  "+obj.Name+": ", names, 80))
	}
	return b.String()
}

// wrapList writes words after head, comma separated, in lines of at most
// width columns, the continuation lines indented.
func wrapList(head string, words []string, width int) string {
	var b strings.Builder
	line := head
	for i, w := range words {
		if i < len(words)-1 {
			w += ","
		}
		if len(line)+len(w) >= width && line != head {
			b.WriteString(strings.TrimRight(line, " ") + "\n")
			line = "    "
		}
		line += w + " "
	}
	b.WriteString(strings.TrimRight(line, " ") + "\n")
	return b.String()
}

// runFakeSalesforce seeds an org, listens and serves it until ctx ends.
func runFakeSalesforce(ctx context.Context, o fakeOrgOptions, stderr io.Writer) error {
	addr, err := fakeOrgAddr(o.addr)
	if err != nil {
		return &exitError{code: exitConfig, err: err}
	}
	org, seed, err := newSeededOrg(o)
	if err != nil {
		return &exitError{code: exitConfig, err: err}
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("fake-salesforce: %w", err)
	}
	instance := cmp.Or(strings.TrimRight(o.instanceURL, "/"), listenURL(ln.Addr()))
	if instance != "" {
		org.SetInstanceURL(instance)
	}

	log := newLogger(stderr, os.Getenv("LOG_LEVEL"), cmp.Or(os.Getenv("LOG_FORMAT"), "auto"))
	event := log.Info().Str("addr", ln.Addr().String()).
		Int("clients", len(seed.Clients)).Int("records", len(seed.Records))
	if instance != "" {
		event = event.Str("instance_url", instance)
	}
	event.Msg("fake salesforce org listening")
	if len(seed.Clients) == 0 {
		log.Warn().Msg("no clients seeded: every token request will be refused")
	}
	return serveFakeOrg(ctx, ln, org.Handler(), log)
}

// newSeededOrg checks the options other than the address and returns a new
// org with the seed file's clients and records.
func newSeededOrg(o fakeOrgOptions) (*sftest.Org, orgSeed, error) {
	if o.latency < 0 {
		return nil, orgSeed{}, errors.New("fake-salesforce: --latency must not be negative")
	}
	if o.instanceURL != "" {
		if err := checkInstanceURL(o.instanceURL); err != nil {
			return nil, orgSeed{}, err
		}
	}
	var seed orgSeed
	if o.seedPath != "" {
		var err error
		if seed, err = readSeed(o.seedPath); err != nil {
			return nil, orgSeed{}, err
		}
	}

	org := sftest.NewOrg()
	org.SetLatency(o.latency)
	if err := seed.plant(org); err != nil {
		return nil, orgSeed{}, fmt.Errorf("fake-salesforce: seed file %s: %w", o.seedPath, err)
	}
	return org, seed, nil
}

// serveFakeOrg serves h on ln until ctx ends, then lets open requests finish
// for a short while. Cancellation is a clean stop, not an error.
func serveFakeOrg(ctx context.Context, ln net.Listener, h http.Handler, log zerolog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          stdlog.New(log.With().Str("component", "http").Logger(), "", 0),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return fmt.Errorf("fake-salesforce: serve: %w", err)
	case <-ctx.Done():
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fakeOrgShutdown)
	defer cancel()
	err := srv.Shutdown(stopCtx)
	<-served
	if err != nil {
		return fmt.Errorf("fake-salesforce: shut down: %w", err)
	}
	log.Info().Msg("fake salesforce org stopped")
	return nil
}

// fakeOrgAddr checks an --addr value and returns it as host:port. A bare
// port means 127.0.0.1; an empty host is refused, so that listening on every
// interface is always asked for by name.
func fakeOrgAddr(addr string) (string, error) {
	const want = "use 127.0.0.1:8080, a bare port such as 8080, or 0.0.0.0:8080 in a container"
	if allDigits(addr) {
		addr = "127.0.0.1:" + addr
	}
	host, port, err := net.SplitHostPort(addr)
	switch {
	case err != nil:
		return "", fmt.Errorf("fake-salesforce: --addr %q is not host:port; %s", addr, want)
	case host == "":
		return "", fmt.Errorf("fake-salesforce: --addr %q names no host; "+
			"say 0.0.0.0%s for every interface or 127.0.0.1%s for this machine only",
			addr, addr, addr)
	}
	if n, err := strconv.Atoi(port); err != nil || !allDigits(port) || n > 65535 {
		return "", fmt.Errorf("fake-salesforce: --addr %q has no port from 0 to 65535; %s",
			addr, want)
	}
	return addr, nil
}

// allDigits reports whether s is one or more ASCII digits.
func allDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// listenURL is the base URL of a listener, or "" when it listens on every
// interface and so has no one address that clients use.
func listenURL(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || tcp.IP.IsUnspecified() {
		return ""
	}
	return "http://" + tcp.String()
}

// checkInstanceURL accepts an absolute http(s) URL with a host and nothing
// after it.
func checkInstanceURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("fake-salesforce: --instance-url %q is not a base URL "+
			"such as http://127.0.0.1:8080", raw)
	}
	return nil
}

// orgSeed is the content of a seed file: the connected-app clients and the
// records the fake org starts with.
type orgSeed struct {
	// Comment is free text for the reader of the file.
	Comment string       `json:"comment,omitempty"`
	Clients []seedClient `json:"clients"`
	Records []seedRecord `json:"records"`
}

// seedClient is one connected app's consumer key and secret.
type seedClient struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

// seedRecord is one record: its object's API name and its field values by
// field API name.
type seedRecord struct {
	Object string         `json:"object"`
	Fields map[string]any `json:"fields"`
}

// seedError lists every problem found in a seed file.
type seedError struct {
	path     string
	problems []string
}

func (e *seedError) Error() string {
	if len(e.problems) == 1 {
		return "fake-salesforce: seed file " + e.path + ": " + e.problems[0]
	}
	return fmt.Sprintf("fake-salesforce: seed file %s: %d problems:\n  %s",
		e.path, len(e.problems), strings.Join(e.problems, "\n  "))
}

// readSeed reads and checks the seed file at path against the fake org's
// schema. The error names every problem; none shows a client secret.
func readSeed(path string) (orgSeed, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return orgSeed{}, fmt.Errorf("fake-salesforce: seed file: %w", err)
	}
	seed, err := parseSeed(data)
	if err != nil {
		return orgSeed{}, &seedError{path: path, problems: []string{err.Error()}}
	}
	if problems := seed.check(sftest.DefaultObjects()); len(problems) > 0 {
		return orgSeed{}, &seedError{path: path, problems: problems}
	}
	return seed, nil
}

// parseSeed decodes one JSON object with no unknown keys and nothing after
// it, saying where a syntax error is.
func parseSeed(data []byte) (orgSeed, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var seed orgSeed
	err := dec.Decode(&seed)
	if err == nil && dec.More() {
		err = errors.New("more than one JSON value")
	}
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return orgSeed{}, fmt.Errorf("not JSON at %s: %w", jsonPosition(data, syntax.Offset), err)
	case errors.As(err, &typ):
		return orgSeed{}, fmt.Errorf("at %s: %s is a JSON %s, not a %s",
			jsonPosition(data, typ.Offset), cmp.Or(typ.Field, "the file"), typ.Value, typ.Type)
	case errors.Is(err, io.EOF):
		return orgSeed{}, errors.New("empty; want a JSON object of clients and records")
	case err != nil:
		return orgSeed{}, fmt.Errorf("not a seed: %w", err)
	}
	return seed, nil
}

// jsonPosition turns a byte offset into data into "line L, column C".
func jsonPosition(data []byte, offset int64) string {
	before := data[:min(max(offset, 0), int64(len(data)))]
	line := bytes.Count(before, []byte("\n")) + 1
	col := len(before) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}

// check returns one line per problem of the seed against the schema
// objects, in file order.
func (s orgSeed) check(objects []sftest.Object) []string {
	var problems []string
	seen := make(map[string]int)
	for i, c := range s.Clients {
		at := fmt.Sprintf("clients[%d]", i)
		if first, dup := seen[c.ClientID]; dup && c.ClientID != "" {
			problems = append(problems, fmt.Sprintf("%s: client_id %q is already clients[%d]'s",
				at, c.ClientID, first))
		}
		seen[c.ClientID] = i
		if c.ClientID == "" {
			problems = append(problems, at+": client_id is missing")
		}
		if c.ClientSecret == "" {
			problems = append(problems, fmt.Sprintf("%s (client_id %q): client_secret is missing",
				at, c.ClientID))
		}
	}
	for i, r := range s.Records {
		problems = append(problems, r.check(fmt.Sprintf("records[%d]", i), objects)...)
	}
	return problems
}

// check returns the problems of one record; at names it.
func (r seedRecord) check(at string, objects []sftest.Object) []string {
	i := slices.IndexFunc(objects, func(o sftest.Object) bool {
		return strings.EqualFold(o.Name, r.Object)
	})
	if i < 0 {
		return []string{fmt.Sprintf("%s: object %q is not in the fake org; use %s",
			at, r.Object, orWords(objectNames(objects)))}
	}
	obj := objects[i]

	var problems []string
	named := make(map[string]string) // field API name → key used for it
	for _, key := range sortedKeys(r.Fields) {
		f, ok := fieldOf(obj, key)
		if !ok {
			problems = append(problems, fmt.Sprintf("%s.fields: no field %q on %s",
				at, key, obj.Name))
			continue
		}
		if other, dup := named[f.Name]; dup {
			problems = append(problems, fmt.Sprintf("%s.fields: %q and %q name the same field",
				at, other, key))
		}
		named[f.Name] = key
		if p := checkSeedValue(f, r.Fields[key]); p != "" {
			problems = append(problems, at+".fields."+key+": "+p)
		}
	}
	return problems
}

// checkSeedValue returns what is wrong with v as a value of f, or "".
func checkSeedValue(f sftest.Field, v any) string {
	if f.Type == "id" {
		return "the org makes record ids; leave Id out"
	}
	if v == nil {
		return ""
	}
	s, ok := v.(string)
	switch {
	case !ok:
		return fmt.Sprintf("%s is not a JSON string or null", jsonKind(v))
	case f.Type == "datetime" || f.Type == "date":
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return fmt.Sprintf("%q is not an RFC 3339 time such as 2026-01-02T15:04:05Z", s)
		}
	case f.Length > 0 && utf8.RuneCountInString(s) > f.Length:
		return fmt.Sprintf("%d characters, more than the field's %d",
			utf8.RuneCountInString(s), f.Length)
	}
	return ""
}

// jsonKind names the JSON type of a decoded value.
func jsonKind(v any) string {
	switch v.(type) {
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func fieldOf(obj sftest.Object, name string) (sftest.Field, bool) {
	i := slices.IndexFunc(obj.Fields, func(f sftest.Field) bool {
		return strings.EqualFold(f.Name, name)
	})
	if i < 0 {
		return sftest.Field{}, false
	}
	return obj.Fields[i], true
}

func objectNames(objects []sftest.Object) []string {
	names := make([]string, len(objects))
	for i, o := range objects {
		names[i] = o.Name
	}
	return names
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// orWords joins words as "a, b or c".
func orWords(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	last := len(words) - 1
	return strings.Join(words[:last], ", ") + " or " + words[last]
}

// plant adds the seed's clients and records to org. The seed has been
// checked; a record the org still refuses is returned as an error rather
// than a panic.
func (s orgSeed) plant(org *sftest.Org) error {
	for _, c := range s.Clients {
		org.AddClient(c.ClientID, c.ClientSecret)
	}
	for i, r := range s.Records {
		if err := insertRecord(org, r); err != nil {
			return fmt.Errorf("records[%d]: %w", i, err)
		}
	}
	return nil
}

// insertRecord inserts r, turning the panic Insert raises on a record it
// cannot store into an error.
func insertRecord(org *sftest.Org, r seedRecord) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("refused: %v", p)
		}
	}()
	org.Insert(r.Object, r.Fields)
	return nil
}
