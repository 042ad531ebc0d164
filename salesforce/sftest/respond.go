package sftest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonType is the Content-Type of every JSON answer, spelled as Salesforce
// spells it.
const jsonType = "application/json;charset=UTF-8"

// apiError is one element of a REST error array. Fields is omitted when nil
// and written as a list otherwise, so both observed shapes can be produced.
type apiError struct {
	Message   string `json:"message"`
	ErrorCode string `json:"errorCode"`
	Fields    any    `json:"fields,omitempty"`
}

// failure is an error answer decided while serving a request.
type failure struct {
	status int
	errors []apiError
}

func fail(status int, code, message string) *failure {
	return &failure{status: status, errors: []apiError{{Message: message, ErrorCode: code}}}
}

// withFields returns f with the fields list set, empty when names is empty.
func (f *failure) withFields(names ...string) *failure {
	f.errors[0].Fields = append([]string{}, names...)
	return f
}

// Messages and failures that several resources share.
const (
	msgNotFound     = "The requested resource does not exist"
	msgBadIDSegment = "Provided external ID field does not exist or is not accessible: "
)

func notFound() *failure { return fail(http.StatusNotFound, "NOT_FOUND", msgNotFound) }

func badIDSegment(seg string) *failure {
	return fail(http.StatusNotFound, "NOT_FOUND", msgBadIDSegment+seg)
}

func entityDeleted() *failure {
	return fail(http.StatusNotFound, "ENTITY_IS_DELETED", "entity is deleted").withFields()
}

func methodNotAllowed(method, allowed string) *failure {
	return fail(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED",
		"HTTP Method '"+method+"' not allowed. Allowed are "+allowed)
}

// marshal encodes v as Salesforce does, without escaping <, > and &.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// writeJSON sends v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`[{"message":"encoding failed","errorCode":"UNKNOWN_EXCEPTION"}]`)
	}
	w.Header().Set("Content-Type", jsonType)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeFailure(w http.ResponseWriter, f *failure) {
	writeJSON(w, f.status, f.errors)
}

// row is a record as the API writes it: attributes first, then fields in a
// fixed order.
type row struct {
	attrs  attributes
	names  []string
	values []any
}

type attributes struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// MarshalJSON writes the row as an object with keys in order.
func (r row) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteString(`{"attributes":`)
	if err := appendJSON(&b, r.attrs); err != nil {
		return nil, err
	}
	for i, name := range r.names {
		b.WriteByte(',')
		if err := appendJSON(&b, name); err != nil {
			return nil, err
		}
		b.WriteByte(':')
		if err := appendJSON(&b, wireValue(r.values[i])); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

func appendJSON(b *strings.Builder, v any) error {
	data, err := marshal(v)
	if err != nil {
		return err
	}
	b.Write(data)
	return nil
}

// wireValue converts a stored value to its JSON form: datetimes as
// 2026-05-01T10:15:00.000+0000.
func wireValue(v any) any {
	if t, ok := v.(time.Time); ok {
		return formatTime(t)
	}
	return v
}

func formatTime(t time.Time) string { return t.UTC().Format(sfTimeLayout) }

// newRow builds the row of rec with the given fields.
func newRow(s *sobject, rec *record, url string, fields []*Field) row {
	r := row{
		attrs:  attributes{Type: s.def.Name, URL: url},
		names:  make([]string, len(fields)),
		values: make([]any, len(fields)),
	}
	for i, f := range fields {
		r.names[i] = f.Name
		r.values[i] = rec.values[f.Name]
	}
	return r
}

// allFields lists the fields of s in schema order.
func (s *sobject) allFields() []*Field {
	out := make([]*Field, len(s.def.Fields))
	for i := range s.def.Fields {
		out[i] = &s.def.Fields[i]
	}
	return out
}

// textLength counts s as Salesforce counts characters, in UTF-16 code
// units, or in UTF-8 bytes.
func textLength(s string, bytes bool) int {
	if bytes {
		return len(s)
	}
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// clip shortens s to at most n runes, marking the cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "..."
		}
		i++
	}
	return s
}
