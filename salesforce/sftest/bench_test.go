package sftest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// benchOrg returns an org holding n Tasks with call ids c-0 … c-(n-1) and
// a token for it, served through its handler without a network.
func benchOrg(b *testing.B, n int) (*Org, string) {
	b.Helper()
	o := NewOrg()
	o.AddClient(testClientID, testClientSecret)
	for i := range n {
		o.Insert("Task", map[string]any{"Call_Id__c": fmt.Sprint("c-", i), "Description": "text"})
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {testClientID},
		"client_secret": {testClientSecret}}
	req := httptest.NewRequest(http.MethodPost, tokenPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	o.Handler().ServeHTTP(rec, req)
	token := rec.Body.String()
	token = token[strings.Index(token, `"access_token":"`)+16:]
	return o, token[:strings.IndexByte(token, '"')]
}

func benchCall(b *testing.B, h http.Handler, token, method, path, body string, want int) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != want {
		b.Fatalf("%s %s: status %d, want %d: %s", method, path, rec.Code, want, rec.Body)
	}
}

func BenchmarkExternalIDGet(b *testing.B) {
	for _, n := range []int{100, 100000} {
		b.Run(fmt.Sprint("records-", n), func(b *testing.B) {
			o, token := benchOrg(b, n)
			h := o.DataHandler()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					path := fmt.Sprintf("%s/sobjects/Task/Call_Id__c/c-%d", testVersion, i%n)
					benchCall(b, h, token, http.MethodGet, path, "", http.StatusOK)
					i++
				}
			})
		})
	}
}

func BenchmarkQueryEquality(b *testing.B) {
	for _, n := range []int{100, 100000} {
		b.Run(fmt.Sprint("records-", n), func(b *testing.B) {
			o, token := benchOrg(b, n)
			h := o.DataHandler()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					q := fmt.Sprintf("SELECT Id, Description FROM Task WHERE Call_Id__c = 'c-%d' LIMIT 2", i%n)
					benchCall(b, h, token, http.MethodGet, testVersion+"/query?q="+url.QueryEscape(q), "",
						http.StatusOK)
					i++
				}
			})
		})
	}
}

func BenchmarkRecordPatch(b *testing.B) {
	o, token := benchOrg(b, 1000)
	recs := o.Records("Task")
	h := o.DataHandler()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			path := testVersion + "/sobjects/Task/" + recs[i%len(recs)]["Id"].(string)
			benchCall(b, h, token, http.MethodPatch, path, `{"Description":"new text"}`, http.StatusNoContent)
			i++
		}
	})
}
