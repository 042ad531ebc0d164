package sftest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"
)

func TestExternalIDGet(t *testing.T) {
	h := newHarness(t)
	one := h.org.Insert("Task", map[string]any{"Call_Id__c": "c-1", "Origin_Call_Id__c": "o-1"})
	dupA := h.org.Insert("Task", map[string]any{"Call_Id__c": "dup"})
	dupB := h.org.Insert("Task", map[string]any{"Call_Id__c": "DUP"})
	plus := h.org.Insert("Task", map[string]any{"Call_Id__c": "a+b c"})
	slash := h.org.Insert("Task", map[string]any{"Call_Id__c": "a/b"})
	mail := h.org.Insert("Task", map[string]any{"Call_Id__c": "example@email.inc"})
	version := h.org.Insert("Task", map[string]any{"Call_Id__c": "v1.2"})
	gone := h.org.Insert("Task", map[string]any{"Call_Id__c": "gone"})
	h.org.Delete("Task", gone)
	_ = slash

	tests := []struct {
		name, path string
		status     int
		want       []string // the record id for 200, the ids listed for 300
	}{
		{"one-match", "/sobjects/Task/Call_Id__c/c-1", 200, []string{one}},
		{"names-any-case", "/sobjects/task/call_id__C/C-1", 200, []string{one}},
		{"several-matches", "/sobjects/Task/Call_Id__c/dup", 300, []string{dupA, dupB}},
		{"no-match", "/sobjects/Task/Call_Id__c/none", 404, nil},
		{"deleted", "/sobjects/Task/Call_Id__c/gone", 404, nil},
		{"plus-is-literal", "/sobjects/Task/Call_Id__c/a+b%20c", 200, []string{plus}},
		{"encoded-plus", "/sobjects/Task/Call_Id__c/a%2Bb%20c", 200, []string{plus}},
		{"plus-is-not-space", "/sobjects/Task/Call_Id__c/a+b+c", 404, nil},
		{"encoded-slash", "/sobjects/Task/Call_Id__c/a%2Fb", 404, nil},
		{"raw-slash", "/sobjects/Task/Call_Id__c/a/b", 404, nil},
		{"extension", "/sobjects/Task/Call_Id__c/" + url.PathEscape("example@email.inc"), 404, nil},
		{"dot-digits-is-fine", "/sobjects/Task/Call_Id__c/v1.2", 200, []string{version}},
		{"unknown-field", "/sobjects/Task/Nope__c/c-1", 404, nil},
		{"not-external-id", "/sobjects/Task/Origin_Call_Id__c/o-1", 404, nil},
		{"unknown-object", "/sobjects/Nope/Call_Id__c/c-1", 404, nil},
		{"id-field", "/sobjects/Task/Id/" + one[:15], 200, []string{one}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.get(tt.path)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.body)
			}
			switch tt.status {
			case 200:
				var rec map[string]any
				res.decode(t, &rec)
				if rec["Id"] != tt.want[0] {
					t.Errorf("Id = %v, want %s", rec["Id"], tt.want[0])
				}
			case 300:
				var urls []string
				res.decode(t, &urls)
				var want []string
				for _, id := range tt.want {
					want = append(want, testVersion+"/sobjects/Task/"+id)
				}
				if !slices.Equal(urls, want) {
					t.Errorf("urls = %v, want %v", urls, want)
				}
			case 404:
				if res.errorCode() != "NOT_FOUND" {
					t.Errorf("body = %s, want NOT_FOUND", res.body)
				}
			}
		})
	}
	_ = mail
}

func TestExternalIDKnobs(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(o *Org)
		value  string
		status int
	}{
		{"default-ignores-case", nil, "ABC-1", 200},
		{"case-sensitive-knob", func(o *Org) { o.SetExternalIDCaseSensitive(true) }, "ABC-1", 404},
		{"case-sensitive-knob-exact", func(o *Org) { o.SetExternalIDCaseSensitive(true) }, "abc-1", 200},
		{"extension-list", func(o *Org) { o.SetPathExtensions([]string{".json"}) }, "abc-1.JSON", 404},
		{"extension-list-spares-others", func(o *Org) { o.SetPathExtensions([]string{".json"}) },
			"abc-1.inc", 200},
		{"extension-check-off", func(o *Org) { o.SetPathExtensions([]string{}) }, "abc-1.inc", 200},
		{"default-extension", nil, "abc-1.inc", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.org.Insert("Task", map[string]any{"Call_Id__c": "abc-1"})
			h.org.Insert("Task", map[string]any{"Call_Id__c": "abc-1.inc"})
			h.org.Insert("Task", map[string]any{"Call_Id__c": "abc-1.JSON"})
			if tt.setup != nil {
				tt.setup(h.org)
			}
			res := h.get("/sobjects/Task/Call_Id__c/" + url.PathEscape(tt.value))
			if res.status != tt.status {
				t.Errorf("status %d, want %d: %s", res.status, tt.status, res.body)
			}
		})
	}
}

func TestUpsertIsCountedAndWorks(t *testing.T) {
	h := newHarness(t)
	path := testVersion + "/sobjects/Task/Call_Id__c/new-call"

	res := h.do(http.MethodPatch, path, `{"Subject":"created"}`)
	if res.status != http.StatusCreated {
		t.Fatalf("create: status %d, want 201: %s", res.status, res.body)
	}
	var created upsertResult
	res.decode(t, &created)
	if !created.Created || !created.Success || created.ID == "" {
		t.Errorf("create body = %s", res.body)
	}
	rec, ok := h.org.Get("Task", created.ID)
	if !ok || rec["Call_Id__c"] != "new-call" || rec["Subject"] != "created" {
		t.Errorf("created record = %v", rec)
	}

	res = h.do(http.MethodPost, path, `{"Subject":"updated"}`)
	var updated map[string]any
	if res.status != http.StatusOK || json.Unmarshal(res.body, &updated) != nil || updated["created"] != false {
		t.Fatalf("update: status %d body %s, want 200 created:false", res.status, res.body)
	}
	if rec, _ := h.org.Get("Task", created.ID); rec["Subject"] != "updated" {
		t.Errorf("Subject = %v, want updated", rec["Subject"])
	}
	res = h.do(http.MethodPatch, path, `{"Read_Only_Notes__c":"x"}`)
	if res.errorCode() != "INVALID_FIELD_FOR_INSERT_UPDATE" {
		t.Errorf("read-only upsert: status %d body %s", res.status, res.body)
	}

	calls := h.org.Calls()
	if got := calls.ByEndpoint[EndpointExternalIDPatch]; got != 2 {
		t.Errorf("externalid-patch = %d, want 2", got)
	}
	if got := calls.ByEndpoint[EndpointExternalIDPost]; got != 1 {
		t.Errorf("externalid-post = %d, want 1", got)
	}
}
