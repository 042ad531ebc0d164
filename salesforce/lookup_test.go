package salesforce

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestEscapeSOQL(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"plain", "c-123", "c-123"},
		{"backslash", `a\b`, `a\\b`},
		{"quote", "O'Brien", `O\'Brien`},
		{"double-quote", `say "hi"`, `say \"hi\"`},
		{"escaped-quote-attempt", `\'`, `\\\'`},
		{"newline", "a\nb", `a\nb`},
		{"carriage-return", "a\rb", `a\rb`},
		{"tab", "a\tb", `a\tb`},
		{"backspace", "a\bb", `a\bb`},
		{"form-feed", "a\fb", `a\fb`},
		{"other-control", "a\x00b\x1fc\x7f", `a\u0000b\u001Fc\u007F`},
		{"unicode", "Zoë ☎ 𝄞", "Zoë ☎ 𝄞"},
		{"percent-and-underscore", "50%_off", "50%_off"},
		{"injection", "' OR Name != '", `\' OR Name != \'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := EscapeSOQL(tt.in)
			if got != tt.want {
				t.Errorf("EscapeSOQL(%q)\ngot  %q\nwant %q", tt.in, got, tt.want)
			}
			back, rest, err := unquoteSOQL("'" + got + "' LIMIT 2")
			if err != nil || back != tt.in || rest != " LIMIT 2" {
				t.Errorf("literal reads back as %q, rest %q, err %v", back, rest, err)
			}
		})
	}
}

// unquoteSOQL reads a single-quoted SOQL literal at the start of s as the
// server would, and returns its value and what follows it.
func unquoteSOQL(s string) (value, rest string, err error) {
	if !strings.HasPrefix(s, "'") {
		return "", "", errors.New("no opening quote")
	}
	var b strings.Builder
	unescape := map[byte]string{'\\': `\`, '\'': "'", '"': `"`, 'n': "\n", 'r': "\r",
		't': "\t", 'b': "\b", 'f': "\f"}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\'':
			return b.String(), s[i+1:], nil
		case '\\':
			i++
			if i >= len(s) {
				return "", "", errors.New("dangling backslash")
			}
			if s[i] == 'u' && i+4 < len(s) {
				n, err := strconv.ParseUint(s[i+1:i+5], 16, 32)
				if err != nil {
					return "", "", err
				}
				b.WriteRune(rune(n))
				i += 4
				continue
			}
			u, ok := unescape[s[i]]
			if !ok {
				return "", "", fmt.Errorf("bad escape \\%c", s[i])
			}
			b.WriteString(u)
		default:
			b.WriteByte(s[i])
		}
	}
	return "", "", errors.New("no closing quote")
}

func TestPathSafe(t *testing.T) {
	tests := []struct {
		value string
		want  bool
	}{
		{"c-123", true},
		{"a b+c%d?e#f&g=h", true},
		{`back\slash`, true},
		{"O'Brien", true},
		{"Zoë", true},
		{"", false},
		{"a/b", false},
		{"example@email.inc", false},
		{"call.json", false},
		{"v1.5", false},
		{"ends-with-dot.", false},
		{".", false},
		{"..", false},
		{"a.b-c", true},
	}
	for _, tt := range tests {
		t.Run(url.PathEscape(tt.value), func(t *testing.T) {
			if got := pathSafe(tt.value); got != tt.want {
				t.Errorf("pathSafe(%q) = %v, want %v", tt.value, got, tt.want)
			}
		})
	}
}

// wireLog records what lookups reached the data server.
type wireLog struct {
	mu      sync.Mutex
	paths   []string // decoded External ID values
	escaped []string // the same, as sent
	queries []string
}

func (l *wireLog) route(w http.ResponseWriter, r *http.Request) {
	const extPrefix = dataPrefix + "sobjects/Task/Call_Id__c/"
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case strings.HasPrefix(r.URL.Path, extPrefix):
		l.paths = append(l.paths, strings.TrimPrefix(r.URL.Path, extPrefix))
		l.escaped = append(l.escaped, strings.TrimPrefix(r.URL.EscapedPath(), extPrefix))
		writeErrors(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
	case r.URL.Path == dataPrefix+"query":
		l.queries = append(l.queries, r.URL.Query().Get("q"))
		writeJSON(w, http.StatusOK, map[string]any{"totalSize": 0, "done": true, "records": []any{}})
	default:
		http.Error(w, "unexpected "+r.URL.Path, http.StatusBadRequest)
	}
}

func TestLookupWire(t *testing.T) {
	tests := []struct {
		name   string
		callID string
		path   bool // through the External ID endpoint
	}{
		{"plain", "c-123", true},
		{"space-and-plus", "a b+c", true},
		{"percent-query-fragment", "50%?x#y&z=1", true},
		{"quote-and-backslash", `O'Brien\'`, true},
		{"non-ascii", "Zoë-☎-𝄞", true},
		{"newline", "a\nb", true},
		{"slash", "a/b", false},
		{"extension", "example@email.inc", false},
		{"dot-dot", "..", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := &wireLog{}
			o := newTestOrg(t, log.route)
			c := o.client(Overwrite, nil)

			_, err := c.Apply(context.Background(), Summary{CallID: tt.callID, Text: "x", SummaryID: "s"})
			var nf *NotFoundError
			if !errors.As(err, &nf) {
				t.Fatalf("error = %v, want *NotFoundError", err)
			}
			if tt.path {
				checkExternalIDWire(t, log, tt.callID)
				return
			}
			checkQueryWire(t, log, "Call_Id__c", tt.callID)
		})
	}
}

func checkExternalIDWire(t *testing.T, log *wireLog, callID string) {
	t.Helper()
	if len(log.paths) != 1 || len(log.queries) != 0 {
		t.Fatalf("paths %q, queries %q; want one External ID GET", log.paths, log.queries)
	}
	if log.paths[0] != callID {
		t.Errorf("server read %q, want %q", log.paths[0], callID)
	}
	if strings.Contains(log.escaped[0], " ") || strings.Contains(log.escaped[0], "/") {
		t.Errorf("segment sent as %q", log.escaped[0])
	}
}

func checkQueryWire(t *testing.T, log *wireLog, field, callID string) {
	t.Helper()
	if len(log.paths) != 0 || len(log.queries) != 1 {
		t.Fatalf("paths %q, queries %q; want one query", log.paths, log.queries)
	}
	head := "SELECT Id, " + field + " FROM Task WHERE " + field + " = "
	q, ok := strings.CutPrefix(log.queries[0], head)
	if !ok {
		t.Fatalf("query %q does not start with %q", log.queries[0], head)
	}
	value, rest, err := unquoteSOQL(q)
	if err != nil || value != callID || rest != " LIMIT 2" {
		t.Errorf("query literal = %q, rest %q, err %v; want %q then \" LIMIT 2\"",
			value, rest, err, callID)
	}
}

func TestQueryWireCannotBeInjected(t *testing.T) {
	ids := []string{
		"x' OR CallObject != '",
		`x\' OR CallObject != \'`,
		"x'; DELETE",
		"50%_off",
		"tab\there\x00nul",
	}
	for _, id := range ids {
		t.Run(url.PathEscape(id), func(t *testing.T) {
			log := &wireLog{}
			o := newTestOrg(t, log.route)
			c := o.client(Overwrite, func(cfg *Config) { cfg.LookupField = "CallObject" })

			_, err := c.Apply(context.Background(), Summary{CallID: id, Text: "x", SummaryID: "s"})
			var nf *NotFoundError
			if !errors.As(err, &nf) {
				t.Fatalf("error = %v, want *NotFoundError", err)
			}
			checkQueryWire(t, log, "CallObject", id)
		})
	}
}

func TestLookupPathChoice(t *testing.T) {
	tests := []struct {
		name  string
		field string
		mode  ExternalIDMode
		want  bool
	}{
		{"auto-external", "Call_Id__c", ExternalIDAuto, true},
		{"auto-plain", "CallObject", ExternalIDAuto, false},
		{"forced-off", "Call_Id__c", ExternalIDNo, false},
		{"forced-on", "Call_Id__c", ExternalIDYes, true},
		{"name-case-differs", "call_id__C", ExternalIDAuto, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newTestOrg(t, okRoute)
			c := o.client(Overwrite, func(cfg *Config) {
				cfg.LookupField, cfg.LookupExternalID = tt.field, tt.mode
			})
			if c.UsesExternalID() {
				t.Fatal("UsesExternalID is true before Prepare")
			}
			if err := c.Prepare(context.Background()); err != nil {
				t.Fatalf("Prepare: %v", err)
			}
			if got := c.UsesExternalID(); got != tt.want {
				t.Errorf("UsesExternalID = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOriginFallback(t *testing.T) {
	log := &wireLog{}
	o := newTestOrg(t, log.route)
	c := o.client(Overwrite, func(cfg *Config) { cfg.OriginField = "CallObject" })

	_, err := c.Apply(context.Background(), Summary{CallID: "c-9", Text: "x", SummaryID: "s"})
	var nf *NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("error = %v, want *NotFoundError", err)
	}
	if got, want := strings.Join(nf.Fields, ","), "Call_Id__c,CallObject"; got != want {
		t.Errorf("Fields = %q, want %q", got, want)
	}
	if len(log.paths) != 1 || len(log.queries) != 1 ||
		!strings.Contains(log.queries[0], "WHERE CallObject = 'c-9'") {
		t.Errorf("paths %q, queries %q; want the lookup field, then the origin field", log.paths, log.queries)
	}
}

func TestQueryTwoRowsIsAmbiguous(t *testing.T) {
	o := newTestOrg(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"totalSize": 2, "done": true, "records": []any{
			recordJSON("00T000000000001AAA", nil, "2026-05-01T10:15:00.000+0000"),
			recordJSON("00T000000000002AAA", "old", "2026-05-01T10:15:00.000+0000"),
		}})
	})
	c := o.client(Overwrite, func(cfg *Config) { cfg.LookupField = "CallObject" })

	_, err := c.Apply(context.Background(), Summary{CallID: "dup", Text: "x", SummaryID: "s"})
	var ambig *AmbiguousMatchError
	if !errors.As(err, &ambig) {
		t.Fatalf("error = %v, want *AmbiguousMatchError", err)
	}
	if got := strings.Join(ambig.RecordIDs, ","); got != "00T000000000001AAA,00T000000000002AAA" {
		t.Errorf("RecordIDs = %q", got)
	}
}

func TestCallIDTooLongForSOQL(t *testing.T) {
	log := &wireLog{}
	o := newTestOrg(t, log.route)
	c := o.client(Overwrite, func(cfg *Config) { cfg.LookupField = "CallObject" })

	_, err := c.Apply(context.Background(), Summary{CallID: strings.Repeat("x", 4001), Text: "x",
		SummaryID: "s"})
	if got := ClassOf(err); got != Permanent {
		t.Errorf("class = %v (%v), want permanent", got, err)
	}
	if got := Reason(err); got != ReasonInvalidMessage {
		t.Errorf("Reason = %q", got)
	}
	if len(log.queries) != 0 {
		t.Errorf("a query was sent: %d bytes", len(log.queries[0]))
	}
}

// pagedQueryRoute answers a batched query with all its rows, split over
// pages of pageSize, and a single-id query with the rows whose value folds
// to its literal's; writes go to okRoute. It records the queries it saw.
type pagedQueryRoute struct {
	mu       sync.Mutex
	rows     map[string]string // record id → lookup value
	pageSize int
	queries  []string
}

func (p *pagedQueryRoute) route(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case r.URL.Path == dataPrefix+"query":
		q := r.URL.Query().Get("q")
		p.queries = append(p.queries, q)
		p.answer(w, q, 0)
	case strings.HasPrefix(r.URL.Path, dataPrefix+"query/"):
		_, offset, _ := strings.Cut(path.Base(r.URL.Path), "-")
		n, _ := strconv.Atoi(offset)
		p.answer(w, p.queries[len(p.queries)-1], n)
	default:
		okRoute(w, r)
	}
}

func (p *pagedQueryRoute) answer(w http.ResponseWriter, q string, offset int) {
	var recs []any
	_, literal, single := strings.Cut(strings.TrimSuffix(q, "' LIMIT 2"), " = '")
	for _, id := range slices.Sorted(maps.Keys(p.rows)) {
		value := p.rows[id]
		if !single || localeFold(value) == localeFold(literal) {
			recs = append(recs, map[string]any{"attributes": map[string]string{"type": "Task"},
				"Id": id, "CallObject": value})
		}
	}
	end := min(offset+p.pageSize, len(recs))
	page := map[string]any{"totalSize": len(recs), "done": end == len(recs), "records": recs[offset:end]}
	if end < len(recs) {
		page["nextRecordsUrl"] = fmt.Sprintf("%squery/01gXX0000000001-%d", dataPrefix, end)
	}
	writeJSON(w, http.StatusOK, page)
}

// localeFold folds case as a German locale might, which the client's
// comparison does not: "straße" and "STRASSE" are the same.
func localeFold(s string) string {
	return strings.ReplaceAll(strings.ToUpper(s), "ß", "SS")
}

func TestBatchedQueryFollowsPages(t *testing.T) {
	p := &pagedQueryRoute{pageSize: 2, rows: map[string]string{
		"00T000000000001AAA": "a", "00T000000000002AAA": "b", "00T000000000003AAA": "c",
	}}
	o := newTestOrg(t, p.route)
	c := o.client(Overwrite, func(cfg *Config) {
		cfg.LookupField, cfg.BatchSize, cfg.BatchLinger = "CallObject", 3, time.Minute
	})
	results, errs := applyAll(c, []Summary{{CallID: "a", Text: "x"}, {CallID: "b", Text: "x"},
		{CallID: "c", Text: "x"}})
	for i, want := range []string{"00T000000000001AAA", "00T000000000002AAA", "00T000000000003AAA"} {
		if errs[i] != nil || results[i].RecordID != want {
			t.Errorf("summary %d: %+v, %v; want %s", i, results[i], errs[i], want)
		}
	}
	if len(p.queries) != 1 {
		t.Errorf("queries %q, want one, read over two pages", p.queries)
	}
}

// TestRowsMatchingNoCallIDAreAskedAgain has the org fold case in a way
// the client does not ("straße" equals "STRASSE" in a German locale): the
// call id whose record came back unrecognised is asked again alone.
func TestRowsMatchingNoCallIDAreAskedAgain(t *testing.T) {
	p := &pagedQueryRoute{pageSize: 100, rows: map[string]string{"00T000000000001AAA": "straße"}}
	o := newTestOrg(t, p.route)
	c := o.client(Overwrite, func(cfg *Config) {
		cfg.LookupField, cfg.BatchSize, cfg.BatchLinger = "CallObject", 2, time.Minute
	})
	results, errs := applyAll(c, []Summary{{CallID: "STRASSE", Text: "x"}, {CallID: "other", Text: "x"}})
	p.mu.Lock()
	defer p.mu.Unlock()
	if errs[0] != nil || results[0].RecordID != "00T000000000001AAA" {
		t.Errorf("STRASSE: %+v, %v", results[0], errs[0])
	}
	var nf *NotFoundError
	if !errors.As(errs[1], &nf) {
		t.Errorf("other: %v, want *NotFoundError", errs[1])
	}
	if len(p.queries) != 3 {
		t.Errorf("queries %q, want the batched one, then one per call id", p.queries)
	}
}
