package sftest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// quote writes s as a SOQL string literal the way the connector must.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, `"`, `\"`, "\n", `\n`, "\r", `\r`,
		"\t", `\t`, "\b", `\b`, "\f", `\f`)
	return "'" + r.Replace(s) + "'"
}

func TestQueryLiteralRoundTrip(t *testing.T) {
	values := []struct{ name, value string }{
		{"single-quote", "it's"},
		{"double-quote", `say "hi"`},
		{"backslash", `back\slash\\twice`},
		{"backslash-before-quote", `end\'`},
		{"newline-and-return", "line\r\nbreak"},
		{"tab-backspace-formfeed", "a\tb\bc\fd"},
		{"unicode", "Zürich ☎ 😀 日本"},
		{"percent", "100%"},
		{"underscore", "a_b"},
		{"looks-like-escape", `\n literally`},
	}
	h := newHarness(t)
	for _, v := range values {
		h.org.Insert("Task", map[string]any{"Call_Id__c": v.value, "Subject": v.name})
	}
	h.org.Insert("Task", map[string]any{"Call_Id__c": "axb", "Subject": "wildcard-bait"})
	h.org.Insert("Task", map[string]any{"Call_Id__c": "1000", "Subject": "wildcard-bait"})

	for _, v := range values {
		t.Run(v.name, func(t *testing.T) {
			ans := h.queryOK("SELECT Subject, Call_Id__c FROM Task WHERE Call_Id__c = " + quote(v.value))
			if ans.TotalSize != 1 || len(ans.Records) != 1 {
				t.Fatalf("totalSize = %d, want 1: %+v", ans.TotalSize, ans.Records)
			}
			if got := ans.Records[0]["Call_Id__c"]; got != v.value {
				t.Errorf("Call_Id__c = %q, want %q", got, v.value)
			}
		})
	}
}

func TestQueryEscapeForms(t *testing.T) {
	h := newHarness(t)
	h.org.Insert("Task", map[string]any{"Call_Id__c": "ü\nx"})
	tests := []struct{ name, literal string }{
		{"unicode-escape", `'\u00fc\nx'`},
		{"unicode-escape-upper", `'\U00FC\Nx'`},
		{"upper-case-newline", `'ü\Nx'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ans := h.queryOK("SELECT Id FROM Task WHERE Call_Id__c = " + tt.literal)
			if ans.TotalSize != 1 {
				t.Errorf("totalSize = %d, want 1", ans.TotalSize)
			}
		})
	}
}

func TestQueryErrors(t *testing.T) {
	long := strings.Repeat("x", maxLiteral+1)
	tests := []struct {
		name, soql, code, contains string
	}{
		{"bad-escape-x", `SELECT Id FROM Task WHERE Call_Id__c = 'a\xb'`, "MALFORMED_QUERY", `'\x'`},
		{"like-escape-outside-like", `SELECT Id FROM Task WHERE Call_Id__c = '100\%'`, "MALFORMED_QUERY", ""},
		{"underscore-escape", `SELECT Id FROM Task WHERE Call_Id__c = 'a\_b'`, "MALFORMED_QUERY", ""},
		{"short-unicode-escape", `SELECT Id FROM Task WHERE Call_Id__c = '\u12'`, "MALFORMED_QUERY", ""},
		{"unterminated", `SELECT Id FROM Task WHERE Call_Id__c = 'abc`, "MALFORMED_QUERY", ""},
		{"syntax", `SELECT Id FORM Task`, "MALFORMED_QUERY", "unexpected token: 'FORM'"},
		{"and-or-without-parentheses",
			`SELECT Id FROM Task WHERE Subject = 'a' AND Subject = 'b' OR Subject = 'c'`,
			"MALFORMED_QUERY", "unexpected token: 'OR'"},
		{"unknown-field", `SELECT Id, Foo__c FROM Task`, "INVALID_FIELD",
			"\nSELECT Id, Foo__c FROM Task\n           ^\nERROR at Row:1:Column:12\n" +
				"No such column 'Foo__c' on entity 'Task'. If you are attempting to use a custom field"},
		{"unknown-where-field", `SELECT Id FROM Task WHERE Nope = 'x'`, "INVALID_FIELD", "No such column 'Nope'"},
		{"not-filterable", `SELECT Id FROM Task WHERE Description = 'x'`, "INVALID_FIELD",
			"field 'Description' can not be filtered in query call"},
		{"unknown-object", `SELECT Id FROM Nothing__c`, "INVALID_TYPE",
			"sObject type 'Nothing__c' is not supported"},
		{"literal-too-long", "SELECT Id FROM Task WHERE Call_Id__c = '" + long + "'",
			"MALFORMED_QUERY", "too long"},
		{"quoted-datetime", `SELECT Id FROM Task WHERE LastModifiedDate = '2026-01-01'`,
			"INVALID_QUERY_FILTER_OPERATOR", ""},
		{"bad-id-literal", `SELECT Id FROM Task WHERE Id = 'nope'`, "INVALID_QUERY_FILTER_OPERATOR", ""},
	}
	h := newHarness(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.query(tt.soql)
			if res.status != http.StatusBadRequest || res.errorCode() != tt.code {
				t.Fatalf("status %d code %q; want 400 %s: %.300s", res.status, res.errorCode(), tt.code, res.body)
			}
			if !strings.Contains(res.message(), tt.contains) {
				t.Errorf("message = %q, want it to contain %q", res.message(), tt.contains)
			}
		})
	}
}

func TestQueryMatching(t *testing.T) {
	h := newHarness(t)
	h.org.DefineObject(Object{Name: "Ticket__c", KeyPrefix: "a01", Fields: []Field{
		{Name: "Code__c", Type: "string", Length: 20, Filterable: true, CaseSensitive: true,
			ExternalID: true, Unique: true, Updateable: true, Nillable: true},
	}})
	a := h.org.Insert("Task", map[string]any{"Call_Id__c": "Call-A", "Origin_Call_Id__c": "o-1"})
	b := h.org.Insert("Task", map[string]any{"Call_Id__c": "call-b", "Origin_Call_Id__c": "o-2"})
	c := h.org.Insert("Task", map[string]any{"Call_Id__c": "call-c", "Subject": "s"})
	gone := h.org.Insert("Task", map[string]any{"Call_Id__c": "call-a"})
	h.org.Delete("Task", gone)
	ticket := h.org.Insert("Ticket__c", map[string]any{"Code__c": "AbC"})

	tests := []struct {
		name, soql string
		want       []string
	}{
		{"case-insensitive-equality", `SELECT Id FROM Task WHERE Call_Id__c = 'CALL-a'`, []string{a}},
		{"in-list", `SELECT Id FROM Task WHERE Call_Id__c IN ('call-b', 'CALL-C', 'none')`, []string{b, c}},
		{"or", `SELECT Id FROM Task WHERE Call_Id__c = 'call-b' OR Origin_Call_Id__c = 'o-1'`, []string{a, b}},
		{"and", `SELECT Id FROM Task WHERE Call_Id__c IN ('call-a','call-b') AND Origin_Call_Id__c = 'o-2'`,
			[]string{b}},
		{"parentheses", `SELECT Id FROM Task WHERE (Call_Id__c = 'call-a' OR Call_Id__c = 'call-c') ` +
			`AND Subject = 's'`, []string{c}},
		{"limit", `SELECT Id FROM Task WHERE Call_Id__c IN ('call-a','call-b','call-c') LIMIT 2`, []string{a, b}},
		{"null", `SELECT Id FROM Task WHERE Subject = null`, []string{a, b}},
		{"not-equal", `SELECT Id FROM Task WHERE Call_Id__c != 'call-b'`, []string{a, c}},
		{"by-id-18", `SELECT Id FROM Task WHERE Id = '` + strings.ToLower(b) + `'`, []string{b}},
		{"by-id-15", `SELECT Id FROM Task WHERE Id = '` + c[:15] + `'`, []string{c}},
		{"keywords-any-case", `select id from task where call_id__c = 'call-b' limit 5`, []string{b}},
		{"case-sensitive-field-exact", `SELECT Id FROM Ticket__c WHERE Code__c = 'AbC'`, []string{ticket}},
		{"case-sensitive-field-other-case", `SELECT Id FROM Ticket__c WHERE Code__c = 'abc'`, []string{}},
		{"no-where", `SELECT Id FROM Ticket__c`, []string{ticket}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ans := h.queryOK(tt.soql)
			got := ids(ans.Records)
			if !slices.Equal(got, tt.want) || ans.TotalSize != len(tt.want) || !ans.Done {
				t.Errorf("got %v (totalSize %d, done %v), want %v", got, ans.TotalSize, ans.Done, tt.want)
			}
		})
	}
}

func TestQueryRecordShape(t *testing.T) {
	h := newHarness(t)
	h.org.SetClock(func() time.Time { return time.Date(2026, 5, 1, 10, 15, 0, 0, time.UTC) })
	id := h.org.Insert("Task", map[string]any{"Call_Id__c": "c-1", "Subject": "Call"})

	res := h.query("SELECT Id, description, LastModifiedDate FROM Task WHERE Call_Id__c = 'c-1'")
	want := `{"totalSize":1,"done":true,"records":[{"attributes":{"type":"Task","url":` +
		`"/services/data/v67.0/sobjects/Task/` + id + `"},"Id":"` + id + `","Description":null,` +
		`"LastModifiedDate":"2026-05-01T10:15:00.000+0000"}]}`
	if got := string(res.body); got != want {
		t.Errorf("body =\n%s\nwant\n%s", got, want)
	}
	if got := res.header.Get("Content-Type"); got != jsonType {
		t.Errorf("Content-Type = %q, want %q", got, jsonType)
	}

	empty := h.query("SELECT Id FROM Task WHERE Call_Id__c = 'none'")
	if got, want := string(empty.body), `{"totalSize":0,"done":true,"records":[]}`; got != want {
		t.Errorf("empty body = %s, want %s", got, want)
	}
}

func TestQueryPaging(t *testing.T) {
	h := newHarness(t)
	for i := range 450 {
		h.org.Insert("Case", map[string]any{"Subject": fmt.Sprint(i)})
	}
	res := h.do(http.MethodGet, testVersion+"/query?q=SELECT+Subject+FROM+Case", "",
		"Sforce-Query-Options", "batchSize=200")
	var page queryAnswer
	res.decode(t, &page)
	var got []string
	for pages := 1; ; pages++ {
		if page.TotalSize != 450 {
			t.Fatalf("page %d: totalSize = %d, want 450", pages, page.TotalSize)
		}
		for _, r := range page.Records {
			got = append(got, r["Subject"].(string))
		}
		if page.Done {
			if pages != 3 {
				t.Errorf("pages = %d, want 3", pages)
			}
			break
		}
		next := h.do(http.MethodGet, page.NextRecordsURL, "")
		page = queryAnswer{}
		next.decode(t, &page)
	}
	if len(got) != 450 || got[0] != "0" || got[449] != "449" {
		t.Errorf("got %d records from %v to %v, want 450 in order", len(got), got[0], got[len(got)-1])
	}
}

func TestQueryURITooLong(t *testing.T) {
	h := newHarness(t)
	literals := make([]string, 700) // 700 quoted 20-character literals, encoded, pass 16 KiB
	for i := range literals {
		literals[i] = quote(fmt.Sprintf("call-%015d", i))
	}
	before := h.org.Calls().API
	res := h.query("SELECT Id FROM Task WHERE Call_Id__c IN (" + strings.Join(literals, ",") + ")")
	if res.status != http.StatusRequestURITooLong {
		t.Fatalf("status %d, want 414: %.200s", res.status, res.body)
	}
	if got := h.org.Calls().API - before; got != 0 {
		t.Errorf("a 414 charged %d API calls, want 0", got)
	}

	res = h.query("SELECT Id FROM Task WHERE Call_Id__c IN (" + strings.Join(literals[:300], ",") + ")")
	if res.status != http.StatusOK {
		t.Errorf("300 literals: status %d, want 200: %.200s", res.status, res.body)
	}
}

// TestQueryStatementTooLong sends the statement inside a composite request,
// since by GET a statement that long is refused with 414 first.
func TestQueryStatementTooLong(t *testing.T) {
	h := newHarness(t)
	soql := "SELECT Id FROM Task WHERE Call_Id__c IN ('a'" +
		strings.Repeat(", 'abcdefgh'", maxStatement/12+1) + ")"
	sub, err := json.Marshal(map[string]any{"compositeRequest": []map[string]any{{
		"method": "GET", "url": testVersion + "/query?q=" + url.QueryEscape(soql), "referenceId": "q",
	}}})
	if err != nil {
		t.Fatal(err)
	}
	res := h.do(http.MethodPost, testVersion+"/composite", string(sub))
	var answer struct {
		CompositeResponse []struct {
			Body           []apiError `json:"body"`
			HTTPStatusCode int        `json:"httpStatusCode"`
		} `json:"compositeResponse"`
	}
	res.decode(t, &answer)
	if len(answer.CompositeResponse) != 1 {
		t.Fatalf("got %d subresults, want 1: %.300s", len(answer.CompositeResponse), res.body)
	}
	got := answer.CompositeResponse[0]
	if got.HTTPStatusCode != http.StatusBadRequest || len(got.Body) == 0 ||
		got.Body[0].ErrorCode != "MALFORMED_QUERY" || !strings.Contains(got.Body[0].Message, "100000") {
		t.Errorf("subresult %d %+v, want 400 MALFORMED_QUERY naming 100000", got.HTTPStatusCode, got.Body)
	}
}
