package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// maxLiteral is the longest string literal SOQL accepts in a WHERE clause.
const maxLiteral = 4000

// soqlEscapes are the escape sequences SOQL defines for quoted strings.
var soqlEscapes = map[rune]string{
	'\\': `\\`,
	'\'': `\'`,
	'"':  `\"`,
	'\n': `\n`,
	'\r': `\r`,
	'\t': `\t`,
	'\b': `\b`,
	'\f': `\f`,
}

// EscapeSOQL returns s escaped for use inside a single-quoted SOQL string
// literal compared with "=". Backslash, quotes and control characters are
// escaped; % and _ are left alone since they are special only in LIKE.
// Escaping each character once, left to right, has the effect of escaping
// backslashes first.
func EscapeSOQL(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if esc, ok := soqlEscapes[r]; ok {
			b.WriteString(esc)
			continue
		}
		if isControl(r) {
			fmt.Fprintf(&b, `\u%04X`, r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isControl reports C0 and C1 control characters and DEL.
func isControl(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r <= 0x9f)
}

// selectQuery returns the SOQL that finds the records whose field equals
// value. LIMIT 2 is enough to tell one match from several.
func selectQuery(sch *schema, field, value string) string {
	return "SELECT Id, " + sch.target + ", LastModifiedDate FROM " + sch.object +
		" WHERE " + field + " = '" + EscapeSOQL(value) + "' LIMIT 2"
}

// queryResult is the answer of the query resource.
type queryResult struct {
	Records []json.RawMessage `json:"records"`
}

// findBySOQL finds the record through a query.
func (c *Client) findBySOQL(ctx context.Context, sch *schema, field, value string) (
	record, bool, error) {
	if n := Length(value); n > maxLiteral {
		return record{}, false, &InvalidSummaryError{
			Problem: fmt.Sprintf("call id has %d characters, more than a SOQL literal holds (%d)", n, maxLiteral)}
	}
	resp, err := c.do(ctx, request{
		method: http.MethodGet,
		path:   "query",
		query:  url.Values{"q": {selectQuery(sch, field, value)}},
	})
	if err != nil {
		return record{}, false, fmt.Errorf("query %s by %s: %w", sch.object, field, err)
	}
	if resp.status != http.StatusOK {
		err := resp.apiError()
		return record{}, false, fmt.Errorf("query %s by %s: %w", sch.object, field, err)
	}
	return matchOne(sch, field, value, resp.body)
}

// matchOne turns query rows into the single match, none, or an
// *AmbiguousMatchError.
func matchOne(sch *schema, field, value string, body []byte) (record, bool, error) {
	var qr queryResult
	if err := json.Unmarshal(body, &qr); err != nil {
		return record{}, false, fmt.Errorf("query %s: decode: %w", sch.object, err)
	}
	recs := make([]record, 0, len(qr.Records))
	for _, raw := range qr.Records {
		rec, err := parseRecord(raw, sch.target, "")
		if err != nil {
			return record{}, false, fmt.Errorf("query %s: %w", sch.object, err)
		}
		recs = append(recs, rec)
	}
	switch len(recs) {
	case 0:
		return record{}, false, nil
	case 1:
		return recs[0], true, nil
	}
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.id
	}
	return record{}, false, &AmbiguousMatchError{
		Object: sch.object, Field: field, CallID: value, RecordIDs: ids}
}
