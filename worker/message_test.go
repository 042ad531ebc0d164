package worker

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/callsummary/connector/salesforce"
)

func TestParseMessage(t *testing.T) {
	occurred := time.Date(2026, 12, 4, 9, 30, 0, 0, time.UTC)
	tests := []struct {
		name string
		body string
		want salesforce.Summary
	}{
		{
			name: "plain",
			body: `{"clientCallId":"c-1","summary":"hello","summaryId":"s-1"}`,
			want: salesforce.Summary{CallID: "c-1", Text: "hello", SummaryID: "s-1"},
		},
		{
			name: "keys-match-case-insensitively",
			body: `{"ClientCallID":"c-1","SUMMARY":"hello","SummaryId":"s-1"}`,
			want: salesforce.Summary{CallID: "c-1", Text: "hello", SummaryID: "s-1"},
		},
		{
			name: "default-summary-id",
			body: `{"clientCallId":"c-1","summary":"hello"}`,
			want: salesforce.Summary{CallID: "c-1", Text: "hello",
				SummaryID: DefaultSummaryID("c-1", "hello")},
		},
		{
			name: "occurred-at",
			body: `{"clientCallId":"c-1","summary":"hi","summaryId":"s","occurredAt":"2026-12-04T10:30:00+01:00"}`,
			want: salesforce.Summary{CallID: "c-1", Text: "hi", SummaryID: "s", OccurredAt: occurred},
		},
		{
			name: "numeric-call-id-keeps-its-digits",
			body: `{"clientCallId":12345678901234567890,"summary":"hi","summaryId":"s"}`,
			want: salesforce.Summary{CallID: "12345678901234567890", Text: "hi", SummaryID: "s"},
		},
		{
			name: "sns-envelope",
			body: `{"Type":"Notification","MessageId":"m","Message":"{\"clientCallId\":\"c-9\",\"summary\":\"x\",\"summaryId\":\"s\"}"}`,
			want: salesforce.Summary{CallID: "c-9", Text: "x", SummaryID: "s"},
		},
		{
			name: "tricky-call-id-kept-verbatim",
			body: `{"clientCallId":" a'b\\c/d é ","summary":"x","summaryId":"s"}`,
			want: salesforce.Summary{CallID: ` a'b\c/d é `, Text: "x", SummaryID: "s"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMessage([]byte(tt.body))
			if err != nil {
				t.Fatalf("ParseMessage: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b time.Time) bool {
				return a.Equal(b)
			})); diff != "" {
				t.Errorf("summary mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseMessageInvalid(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		problem string
	}{
		{"empty", ``, "body is empty"},
		{"not-json", `hello`, "not a JSON object"},
		{"truncated-json", `{"clientCallId":"c"`, "not valid JSON"},
		{"array", `[1,2]`, "not a JSON object"},
		{"missing-call-id", `{"summary":"x"}`, "clientCallId is missing"},
		{"null-call-id", `{"clientCallId":null,"summary":"x"}`, "clientCallId is missing"},
		{"empty-call-id", `{"clientCallId":"  ","summary":"x"}`, "clientCallId is empty"},
		{"object-call-id", `{"clientCallId":{},"summary":"x"}`, "clientCallId must be a string"},
		{"missing-summary", `{"clientCallId":"c"}`, "summary is missing"},
		{"empty-summary", `{"clientCallId":"c","summary":" \n"}`, "summary is empty"},
		{"summary-not-string", `{"clientCallId":"c","summary":42}`, "summary must be a string"},
		{"bad-occurred-at", `{"clientCallId":"c","summary":"x","occurredAt":"yesterday"}`,
			"not an RFC 3339 time"},
		{"duplicate-key", `{"clientCallId":"a","ClientCallId":"b","summary":"x"}`, "appears twice"},
		{"call-id-too-long", `{"clientCallId":"` + strings.Repeat("x", 256) + `","summary":"x"}`,
			"more than 255"},
		{"sns-bad-inner", `{"Type":"Notification","Message":"nope"}`, "sns envelope"},
		{"sns-subscription-confirmation", `{"Type":"SubscriptionConfirmation","Message":"You have chosen"}`,
			"SNS SubscriptionConfirmation message"},
		{"sns-message-not-string", `{"Type":"Notification","Message":{}}`, "Message must be a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseMessage([]byte(tt.body))
			var inv *InvalidMessageError
			if !errors.As(err, &inv) {
				t.Fatalf("got error %v, want *InvalidMessageError", err)
			}
			if !strings.Contains(err.Error(), tt.problem) {
				t.Errorf("got %q, want it to contain %q", err.Error(), tt.problem)
			}
		})
	}
}

func TestCallIDLengthCountsCharactersNotBytes(t *testing.T) {
	id := strings.Repeat("é", MaxCallIDLength) // 510 bytes, 255 characters
	body := `{"clientCallId":"` + id + `","summary":"x"}`
	if _, err := ParseMessage([]byte(body)); err != nil {
		t.Fatalf("255 two-byte characters: got %v, want accepted", err)
	}
}

func TestDefaultSummaryIDIsStable(t *testing.T) {
	a := DefaultSummaryID("c-1", "hello")
	if b := DefaultSummaryID("c-1", "hello"); a != b {
		t.Fatalf("got %q then %q, want the same id", a, b)
	}
	if c := DefaultSummaryID("c-1h", "ello"); a == c {
		t.Fatalf("got %q for a different split of the same bytes, want another id", c)
	}
}

func FuzzParseMessage(f *testing.F) {
	for _, seed := range []string{
		`{"clientCallId":"c-1","summary":"hello"}`,
		`{"Type":"Notification","Message":"{\"clientCallId\":\"c\",\"summary\":\"s\"}"}`,
		`{"clientCallId":1e400,"summary":"x"}`,
		`not json`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := ParseMessage(body)
		if err != nil {
			var inv *InvalidMessageError
			if !errors.As(err, &inv) {
				t.Fatalf("error %v is not an *InvalidMessageError", err)
			}
			return
		}
		if strings.TrimSpace(s.CallID) == "" || strings.TrimSpace(s.Text) == "" || s.SummaryID == "" {
			t.Fatalf("accepted a summary with an empty part: %+v", s)
		}
	})
}
