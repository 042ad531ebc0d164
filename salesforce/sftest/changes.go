package sftest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// maxBody bounds a request body read into memory.
const maxBody = 32 << 20

// fieldValue is one member of a JSON object body, in the order sent.
type fieldValue struct {
	name string
	raw  json.RawMessage
}

// change is a validated new value for one field.
type change struct {
	field *Field
	value any
}

// readFields reads the request body as one JSON object, keeping member
// order so that errors name the first offending field as Salesforce does.
func readFields(r *http.Request) ([]fieldValue, *failure) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return nil, jsonError("could not read the request body")
	}
	return decodeObject(body)
}

func jsonError(message string) *failure {
	return fail(http.StatusBadRequest, "JSON_PARSER_ERROR", message)
}

func decodeObject(body []byte) ([]fieldValue, *failure) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, jsonError("No content to map due to end-of-input")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, parseError(body, dec, "was expecting a JSON object")
	}
	var out []fieldValue
	for dec.More() {
		tok, err := dec.Token()
		name, ok := tok.(string)
		if err != nil || !ok {
			return nil, parseError(body, dec, "was expecting a field name")
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, parseError(body, dec, "was expecting a value")
		}
		out = append(out, fieldValue{name: name, raw: raw})
	}
	if _, err := dec.Token(); err != nil {
		return nil, parseError(body, dec, "was expecting comma or end of object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, parseError(body, dec, "trailing content after the object")
	}
	return out, nil
}

// parseError words a JSON syntax error the way Salesforce's parser does,
// with the position of the problem.
func parseError(body []byte, dec *json.Decoder, what string) *failure {
	off := min(int(dec.InputOffset()), len(body))
	line := 1 + bytes.Count(body[:off], []byte("\n"))
	col := off - bytes.LastIndexByte(body[:off], '\n')
	return jsonError(fmt.Sprintf("Unexpected character at [line:%d, column:%d]: %s", line, col, what))
}

// validateChanges checks body members against the schema in the order
// Salesforce does: unknown fields, then fields not updateable, then values
// and lengths. The caller holds o.mu.
func validateChanges(s *sobject, members []fieldValue, set *settings) ([]change, *failure) {
	for _, m := range members {
		if m.name == "attributes" {
			continue
		}
		if _, ok := s.field(m.name); !ok {
			return nil, fail(http.StatusBadRequest, "INVALID_FIELD",
				fmt.Sprintf("No such column '%s' on sobject of type %s", m.name, s.def.Name))
		}
	}
	if f := readOnly(s, members); f != nil {
		return nil, f
	}
	var out []change
	for _, m := range members {
		if m.name == "attributes" {
			continue
		}
		f, _ := s.field(m.name)
		v, bad := decodeValue(f, m.raw, set)
		if bad != nil {
			return nil, bad
		}
		out = append(out, change{field: f, value: v})
	}
	return out, nil
}

// readOnly reports all members naming fields that cannot be written.
func readOnly(s *sobject, members []fieldValue) *failure {
	var names []string
	for _, m := range members {
		if f, ok := s.field(m.name); ok && m.name != "attributes" && !f.Updateable {
			names = append(names, f.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	msg := fmt.Sprintf("Unable to create/update fields: %s. Please check the security settings "+
		"of this field and verify that it is read/write for your profile or permission set.",
		strings.Join(names, ", "))
	return fail(http.StatusBadRequest, "INVALID_FIELD_FOR_INSERT_UPDATE", msg).withFields(names...)
}

// decodeValue turns one JSON value into the stored value of f, checking
// nillability and length.
func decodeValue(f *Field, raw json.RawMessage, set *settings) (any, *failure) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, jsonError(err.Error())
	}
	if v == nil || v == "" && textual(f) {
		if !f.Nillable {
			return nil, fail(http.StatusBadRequest, "REQUIRED_FIELD_MISSING",
				"Required fields are missing: ["+f.Name+"]").withFields(f.Name)
		}
		return nil, nil
	}
	switch {
	case f.Type == "datetime" || f.Type == "date":
		return decodeTime(f, v)
	case textual(f):
		return decodeText(f, v, raw, set)
	}
	return v, nil
}

func decodeText(f *Field, v any, raw json.RawMessage, set *settings) (any, *failure) {
	var text string
	switch x := v.(type) {
	case string:
		text = x
	case map[string]any, []any:
		return nil, jsonError(fmt.Sprintf(
			"Cannot deserialize instance of string from %s value", startToken(raw)))
	default:
		text = string(raw) // numbers and booleans arrive as their JSON text
	}
	if f.Length > 0 && textLength(text, set.countBytes) > f.Length {
		msg := fmt.Sprintf("%s: data value too large: %s (max length=%d)",
			f.Label, clip(text, 100), f.Length)
		return nil, fail(http.StatusBadRequest, "STRING_TOO_LONG", msg).withFields(f.Name)
	}
	return text, nil
}

func startToken(raw json.RawMessage) string {
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) {
		return "START_ARRAY"
	}
	return "START_OBJECT"
}

func decodeTime(f *Field, v any) (any, *failure) {
	t, err := normalizeTime(f, v)
	if err != nil {
		return nil, jsonError(fmt.Sprintf(
			"Cannot deserialize value of type datetime from %v for field %s", v, f.Name))
	}
	return t, nil
}

// ifUnmodifiedSince reads the conditional-write header; zero time when
// absent.
func ifUnmodifiedSince(r *http.Request) (time.Time, *failure) {
	h := r.Header.Get("If-Unmodified-Since")
	if h == "" {
		return time.Time{}, nil
	}
	t, err := http.ParseTime(h)
	if err != nil {
		return time.Time{}, fail(http.StatusBadRequest, "BAD_REQUEST",
			"Invalid If-Unmodified-Since header: "+clip(h, 100))
	}
	return t, nil
}

// modifiedSince says whether rec changed after t, at the one-second
// granularity of HTTP dates.
func modifiedSince(rec *record, t time.Time) bool {
	lm, _ := rec.values[fieldLastModified].(time.Time)
	return lm.Truncate(time.Second).After(t)
}

func preconditionFailed() *failure {
	return fail(http.StatusPreconditionFailed, "PRECONDITION_FAILED",
		"The requested resource has been modified since the If-Unmodified-Since date")
}

// checkUnique refuses a change that would give a unique field a value
// another live record holds.
func checkUnique(s *sobject, rec *record, changes []change) *failure {
	for _, ch := range changes {
		text, ok := ch.value.(string)
		if !ch.field.Unique || !ok {
			continue
		}
		for _, other := range s.match(ch.field, text, ch.field.CaseSensitive) {
			if rec == nil || other != rec {
				msg := fmt.Sprintf("duplicate value found: %s duplicates value on record with id: %s",
					ch.field.Name, other.id)
				return fail(http.StatusBadRequest, "DUPLICATE_VALUE", msg).withFields()
			}
		}
	}
	return nil
}

// apply writes changes and stamps LastModifiedDate. The caller holds o.mu
// for writing.
func (o *Org) apply(s *sobject, rec *record, changes []change) {
	for _, ch := range changes {
		s.set(rec, ch.field.Name, ch.value)
	}
	s.set(rec, fieldLastModified, o.now())
	o.observeWrite(s, rec)
}
