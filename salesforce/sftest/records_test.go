package sftest

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRecordGet(t *testing.T) {
	h := newHarness(t)
	id := h.org.Insert("Task", map[string]any{"Call_Id__c": "c-1", "Subject": "Call"})
	gone := h.org.Insert("Task", map[string]any{"Call_Id__c": "c-2"})
	h.org.Delete("Task", gone)
	// A 15-character id with one letter's case flipped names another record.
	flipped := flipCase(id[:15])

	tests := []struct {
		name, path string
		status     int
		code       string
	}{
		{"by-18", "/sobjects/Task/" + id, 200, ""},
		{"by-18-lower-case", "/sobjects/Task/" + strings.ToLower(id), 200, ""},
		{"by-15", "/sobjects/Task/" + id[:15], 200, ""},
		{"object-any-case", "/sobjects/tASK/" + id, 200, ""},
		{"fields-param", "/sobjects/Task/" + id + "?fields=subject,Call_Id__c", 200, ""},
		{"fields-param-unknown", "/sobjects/Task/" + id + "?fields=Subject,Nope", 400, "INVALID_FIELD"},
		{"by-15-other-case", "/sobjects/Task/" + flipped, 404, "NOT_FOUND"},
		{"deleted", "/sobjects/Task/" + gone, 404, "ENTITY_IS_DELETED"},
		{"malformed-id", "/sobjects/Task/INVALID%20ID", 404, "NOT_FOUND"},
		{"unknown-object", "/sobjects/Nope/" + id, 404, "NOT_FOUND"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.get(tt.path)
			if res.status != tt.status || res.errorCode() != tt.code {
				t.Fatalf("status %d code %q, want %d %q: %s", res.status, res.errorCode(), tt.status, tt.code, res.body)
			}
		})
	}

	t.Run("full-record", func(t *testing.T) {
		var rec map[string]any
		h.get("/sobjects/Task/"+id[:15]).decode(t, &rec)
		if rec["Id"] != id || rec["Subject"] != "Call" || rec["Description"] != nil {
			t.Errorf("record = %v", rec)
		}
		if _, ok := rec["Description"]; !ok {
			t.Error("null Description missing; nulls must be sent as null")
		}
		attrs, _ := rec["attributes"].(map[string]any)
		if attrs["url"] != testVersion+"/sobjects/Task/"+id {
			t.Errorf("attributes = %v", attrs)
		}
	})
	t.Run("fields-param-trims", func(t *testing.T) {
		var rec map[string]any
		h.get("/sobjects/Task/"+id+"?fields=Subject").decode(t, &rec)
		if len(rec) != 2 || rec["Subject"] != "Call" {
			t.Errorf("record = %v, want attributes and Subject", rec)
		}
	})
	t.Run("bad-id-message", func(t *testing.T) {
		res := h.get("/sobjects/Task/INVALID%20ID")
		want := "Provided external ID field does not exist or is not accessible: INVALID ID"
		if res.message() != want {
			t.Errorf("message = %q, want %q", res.message(), want)
		}
	})
}

// flipCase swaps the case of the last letter of id.
func flipCase(id string) string {
	b := []byte(id)
	for i := len(b) - 1; i >= 3; i-- {
		if isLetter(b[i]) {
			b[i] ^= 0x20
			return string(b)
		}
	}
	return id
}

func TestRecordPatch(t *testing.T) {
	h := newHarness(t)
	id := h.org.Insert("Task", map[string]any{"Call_Id__c": "c-1"})
	gone := h.org.Insert("Task", map[string]any{"Call_Id__c": "c-2"})
	h.org.Delete("Task", gone)
	other := h.org.Insert("Task", map[string]any{"Call_Id__c": "taken"})
	_ = other
	unknownID, _ := ID18("00T5g0000000000")

	tests := []struct {
		name, id, body string
		status         int
		code           string
		message        string
		fields         string
	}{
		{"success", id, `{"Description":"hello","Subject":null}`, 204, "", "", ""},
		{"not-json", id, `{"Description":`, 400, "JSON_PARSER_ERROR", "", ""},
		{"not-an-object", id, `["Description"]`, 400, "JSON_PARSER_ERROR", "", ""},
		{"empty-body", id, ``, 400, "JSON_PARSER_ERROR", "", ""},
		{"unknown-field", id, `{"Foo__c":"x"}`, 400, "INVALID_FIELD",
			"No such column 'Foo__c' on sobject of type Task", ""},
		{"unknown-before-read-only", id, `{"Read_Only_Notes__c":"x","Foo__c":"x"}`, 400, "INVALID_FIELD", "", ""},
		{"read-only", id, `{"Read_Only_Notes__c":"x"}`, 400, "INVALID_FIELD_FOR_INSERT_UPDATE",
			"Unable to create/update fields: Read_Only_Notes__c. Please check the security",
			`["Read_Only_Notes__c"]`},
		{"read-only-before-too-long", id, `{"Short_Summary__c":"` + strings.Repeat("x", 501) +
			`","LastModifiedDate":"2026-01-01T00:00:00Z"}`, 400, "INVALID_FIELD_FOR_INSERT_UPDATE", "", ""},
		{"too-long", id, `{"Short_Summary__c":"` + strings.Repeat("y", 501) + `"}`, 400, "STRING_TOO_LONG",
			"Short Summary: data value too large: yyyy", `["Short_Summary__c"]`},
		{"too-long-label-comments", id, `{"Description":"` + strings.Repeat("z", 32001) + `"}`, 400,
			"STRING_TOO_LONG", "Comments: data value too large: ", ""},
		{"too-long-max-length", id, `{"Short_Summary__c":"` + strings.Repeat("y", 501) + `"}`, 400,
			"STRING_TOO_LONG", "(max length=500)", ""},
		{"emoji-counts-two", id, `{"Short_Summary__c":"` + strings.Repeat("😀", 251) + `"}`, 400,
			"STRING_TOO_LONG", "", ""},
		{"exactly-max", id, `{"Short_Summary__c":"` + strings.Repeat("😀", 250) + `"}`, 204, "", "", ""},
		{"deleted", gone, `{"Description":"x"}`, 404, "ENTITY_IS_DELETED", "entity is deleted", "[]"},
		{"no-such-record", unknownID, `{"Description":"x"}`, 404, "NOT_FOUND",
			"The requested resource does not exist", ""},
		{"malformed-id", "INVALID%20ID", `{"Description":"x"}`, 404, "NOT_FOUND",
			"Provided external ID field does not exist or is not accessible: INVALID ID", ""},
		{"duplicate-unique-value", id, `{"Call_Id__c":"TAKEN"}`, 400, "DUPLICATE_VALUE", "", ""},
		{"object-for-string", id, `{"Subject":{"a":1}}`, 400, "JSON_PARSER_ERROR", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.do(http.MethodPatch, testVersion+"/sobjects/Task/"+tt.id, tt.body)
			if res.status != tt.status || res.errorCode() != tt.code {
				t.Fatalf("status %d code %q, want %d %q: %.300s", res.status, res.errorCode(),
					tt.status, tt.code, res.body)
			}
			if !strings.Contains(res.message(), tt.message) {
				t.Errorf("message = %.200q, want it to contain %q", res.message(), tt.message)
			}
			if tt.fields != "" && !strings.Contains(string(res.body), `"fields":`+tt.fields) {
				t.Errorf("body = %.300s, want fields %s", res.body, tt.fields)
			}
		})
	}

	t.Run("success-wrote-values", func(t *testing.T) {
		rec, _ := h.org.Get("Task", id)
		if rec["Description"] != "hello" || rec["Subject"] != nil {
			t.Errorf("record = %v", rec)
		}
	})
}

func TestPatchCountsBytesWhenAsked(t *testing.T) {
	h := newHarness(t)
	id := h.org.Insert("Task", nil)
	body := `{"Short_Summary__c":"` + strings.Repeat("é", 300) + `"}` // 300 characters, 600 bytes
	path := testVersion + "/sobjects/Task/" + id

	if res := h.do(http.MethodPatch, path, body); res.status != http.StatusNoContent {
		t.Fatalf("counting characters: status %d, want 204: %s", res.status, res.body)
	}
	h.org.SetCountBytes(true)
	if res := h.do(http.MethodPatch, path, body); res.errorCode() != "STRING_TOO_LONG" {
		t.Fatalf("counting bytes: status %d, want STRING_TOO_LONG: %s", res.status, res.body)
	}
}

func TestPatchIfUnmodifiedSince(t *testing.T) {
	base := time.Date(2026, 5, 1, 10, 15, 0, 0, time.UTC)
	tests := []struct {
		name     string
		modified time.Time // the record's LastModifiedDate
		header   string
		status   int
		code     string
	}{
		{"unchanged-since", base, base.Format(http.TimeFormat), 204, ""},
		{"same-second", base.Add(900 * time.Millisecond), base.Format(http.TimeFormat), 204, ""},
		{"changed-after", base.Add(time.Second), base.Format(http.TimeFormat), 412, "PRECONDITION_FAILED"},
		{"unparsable", base, "yesterday", 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			now := tt.modified
			h.org.SetClock(func() time.Time { return now })
			id := h.org.Insert("Task", nil)

			now = base.Add(time.Hour)
			res := h.do(http.MethodPatch, testVersion+"/sobjects/Task/"+id, `{"Description":"x"}`,
				"If-Unmodified-Since", tt.header)
			if res.status != tt.status || tt.code != "" && res.errorCode() != tt.code {
				t.Fatalf("status %d code %q, want %d %q: %s", res.status, res.errorCode(), tt.status, tt.code, res.body)
			}
			rec, _ := h.org.Get("Task", id)
			wrote := rec["Description"] == "x"
			if wrote != (tt.status == 204) {
				t.Errorf("Description = %v after status %d", rec["Description"], res.status)
			}
			if wrote && rec["LastModifiedDate"] != now {
				t.Errorf("LastModifiedDate = %v, want %v", rec["LastModifiedDate"], now)
			}
		})
	}
}

func TestPatchRacesAnotherUser(t *testing.T) {
	h := newHarness(t)
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	h.org.SetClock(func() time.Time { return now })
	id := h.org.Insert("Task", nil)
	read := now

	// Another user writes between the client's read and its write.
	h.org.SetHook(func(r *http.Request) {
		if r.Method == http.MethodPatch {
			now = now.Add(2 * time.Second)
			if err := h.org.Update("Task", id, map[string]any{"Description": "theirs"}); err != nil {
				t.Errorf("update: %v", err)
			}
		}
	})
	res := h.do(http.MethodPatch, testVersion+"/sobjects/Task/"+id, `{"Description":"ours"}`,
		"If-Unmodified-Since", read.Format(http.TimeFormat))
	if res.status != http.StatusPreconditionFailed {
		t.Fatalf("status %d, want 412: %s", res.status, res.body)
	}
	if rec, _ := h.org.Get("Task", id); rec["Description"] != "theirs" {
		t.Errorf("Description = %v, want theirs", rec["Description"])
	}
}

func TestDescribe(t *testing.T) {
	h := newHarness(t)
	var d struct {
		Name, Label, KeyPrefix string
		Queryable, Updateable  bool
		Fields                 []map[string]any
	}
	res := h.get("/sobjects/task/describe")
	res.decode(t, &d)
	if d.Name != "Task" || d.KeyPrefix != "00T" || !d.Queryable || !d.Updateable {
		t.Errorf("describe = %+v", d)
	}
	fields := make(map[string]map[string]any)
	for _, f := range d.Fields {
		fields[f["name"].(string)] = f
		for _, key := range []string{"label", "type", "length", "byteLength", "externalId", "idLookup",
			"unique", "caseSensitive", "updateable", "createable", "nillable", "filterable",
			"extraTypeInfo", "htmlFormatted", "calculated", "soapType"} {
			if _, ok := f[key]; !ok {
				t.Errorf("field %v has no %s", f["name"], key)
			}
		}
	}
	checks := []struct {
		field, key string
		want       any
	}{
		{"Description", "label", "Comments"},
		{"Description", "length", 32000.0},
		{"Description", "filterable", false},
		{"Description", "extraTypeInfo", "plaintextarea"},
		{"Call_Id__c", "externalId", true},
		{"Call_Id__c", "idLookup", true},
		{"Call_Id__c", "caseSensitive", false},
		{"CallObject", "label", "Call Object Identifier"},
		{"CallObject", "externalId", false},
		{"Summary__c", "length", 131072.0},
		{"Read_Only_Notes__c", "updateable", false},
		{"LastModifiedDate", "type", "datetime"},
	}
	for _, c := range checks {
		if got := fields[c.field][c.key]; got != c.want {
			t.Errorf("%s.%s = %v, want %v", c.field, c.key, got, c.want)
		}
	}

	if res := h.get("/sobjects/Nope/describe"); res.status != 404 || res.errorCode() != "NOT_FOUND" {
		t.Errorf("unknown object: status %d body %s, want 404 NOT_FOUND", res.status, res.body)
	}
	var c struct{ Fields []map[string]any }
	h.get("/sobjects/Case/describe").decode(t, &c)
	for _, f := range c.Fields {
		if f["name"] == "Description" && f["label"] != "Description" {
			t.Errorf("Case.Description label = %v, want Description", f["label"])
		}
	}
}
