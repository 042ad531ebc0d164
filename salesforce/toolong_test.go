package salesforce

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFitText(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		room    int
		want    string
		cut, ok bool
	}{
		{"fits", "hello", 5, "hello", false, true},
		{"ascii-cut", "hello world", 6, "hello…", true, true},
		{"accents-count-one", "éééééé", 4, "ééé…", true, true},
		{"emoji-counts-two", "😀😀😀", 4, "😀…", true, true},
		{"emoji-not-split", "a😀b", 3, "a…", true, true},
		{"only-ellipsis", "abc", 1, "…", true, true},
		{"no-room", "abc", 0, "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, cut, ok := fitText(tt.text, tt.room)
			if got != tt.want || cut != tt.cut || ok != tt.ok {
				t.Errorf("fitText(%q, %d) = %q, %v, %v; want %q, %v, %v",
					tt.text, tt.room, got, cut, ok, tt.want, tt.cut, tt.ok)
			}
			if ok && (Length(got) > tt.room || !utf8.ValidString(got)) {
				t.Errorf("%q: %d units for room %d", got, Length(got), tt.room)
			}
		})
	}
}

func TestDropOldestBlock(t *testing.T) {
	b1 := Block(Summary{SummaryID: "s1", Text: "first"})
	b2 := Block(Summary{SummaryID: "s2", Text: "second\n--- Call summary look-alike"})
	b3 := Block(Summary{SummaryID: "s3", Text: "third"})
	tests := []struct {
		name    string
		value   string
		keep    []string
		want    string
		dropped bool
	}{
		{"agent-text-kept", "agent note\n\n" + b1 + "\n\n" + b2, nil, "agent note\n\n" + b2, true},
		{"block-first", b1 + "\n\n" + b2 + "\n\n" + b3, nil, b2 + "\n\n" + b3, true},
		{"last-block", "agent note\n\n" + b1, nil, "agent note", true},
		{"kept-marker-skipped", b1 + "\n\n" + b2, []string{Marker("s1")}, b1, true},
		{"no-blocks", "agent note only", nil, "agent note only", false},
		{"all-kept", b1, []string{Marker("s1")}, b1, false},
		{"typed-after-a-block-goes-with-it", b1 + "\nagent reply\n\n" + b2, nil, b2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keep := map[string]bool{}
			for _, m := range tt.keep {
				keep[m] = true
			}
			got, dropped := dropOldestBlock(tt.value, keep)
			if got != tt.want || dropped != tt.dropped {
				t.Errorf("got %q, %v\nwant %q, %v", got, dropped, tt.want, tt.dropped)
			}
		})
	}
}

// TestTooLongPolicies appends to and overwrites Short_Summary__c (500
// characters) with multi-byte text under each policy.
func TestTooLongPolicies(t *testing.T) {
	old1 := Block(Summary{SummaryID: "old-1", Text: strings.Repeat("a", 150)})
	old2 := Block(Summary{SummaryID: "old-2", Text: strings.Repeat("b", 150)})
	before := "agent note\n\n" + old1 + "\n\n" + old2
	fresh := Summary{CallID: "c-1", SummaryID: "new", Text: strings.Repeat("日本😀", 40)} // 160 units
	huge := Summary{CallID: "c-1", SummaryID: "huge", Text: strings.Repeat("😀", 400)}  // 800 units

	tests := []struct {
		name   string
		mode   WriteMode
		policy TooLongPolicy
		s      Summary
		want   func(t *testing.T, field string)
	}{
		{"append-reject", Append, Reject, fresh, nil},
		{"append-truncate-oldest", Append, TruncateOldest, fresh, func(t *testing.T, field string) {
			if want := "agent note\n\n" + old2 + "\n\n" + Block(fresh); field != want {
				t.Errorf("field = %q, want the oldest block dropped", field)
			}
		}},
		{"append-truncate-summary", Append, TruncateSummary, fresh, func(t *testing.T, field string) {
			if !strings.HasPrefix(field, before+"\n\n--- Call summary "+Marker("new")) ||
				!strings.HasSuffix(field, "…") || Length(field) > 500 {
				t.Errorf("field (%d units) = %q, want the new summary cut to fit", Length(field), field)
			}
		}},
		{"overwrite-truncate-summary", Overwrite, TruncateSummary, huge, func(t *testing.T, field string) {
			// 249 emoji of two units and the ellipsis: a 250th would not fit.
			if Length(field) != 499 || !strings.HasSuffix(field, "😀…") || !utf8.ValidString(field) {
				t.Errorf("field has %d units; want 499, ending in an emoji and an ellipsis",
					Length(field))
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := startOrg(t)
			id := e.org.Insert("Task", map[string]any{"Call_Id__c": "c-1", "Short_Summary__c": before})
			c := e.client(tt.mode, func(cfg *Config) {
				cfg.TargetField, cfg.TooLong = "Short_Summary__c", tt.policy
			})
			res, err := c.Apply(context.Background(), tt.s)
			if tt.want == nil {
				var tooLong *TooLongError
				if !errors.As(err, &tooLong) || tooLong.Max != 500 {
					t.Fatalf("Apply = %+v, %v; want *TooLongError", res, err)
				}
				if got := e.summaryOf(id, "Short_Summary__c"); got != before {
					t.Errorf("field changed to %q", got)
				}
				return
			}
			if err != nil || !res.Truncated {
				t.Fatalf("Apply = %+v, %v; want success, truncated", res, err)
			}
			tt.want(t, e.summaryOf(id, "Short_Summary__c"))
		})
	}
}

// TestTruncateOldestNeverDropsAgentText: when the agent's own text leaves
// no room even without any block, the summary is rejected.
func TestTruncateOldestNeverDropsAgentText(t *testing.T) {
	e := startOrg(t)
	agent := strings.Repeat("é", 450)
	id := e.org.Insert("Task", map[string]any{"Call_Id__c": "c-1", "Short_Summary__c": agent})
	c := e.client(Append, func(cfg *Config) {
		cfg.TargetField, cfg.TooLong = "Short_Summary__c", TruncateOldest
	})
	_, err := c.Apply(context.Background(), Summary{CallID: "c-1", SummaryID: "s", Text: strings.Repeat("x", 100)})
	var tooLong *TooLongError
	if !errors.As(err, &tooLong) {
		t.Fatalf("error = %v, want *TooLongError", err)
	}
	if got := e.summaryOf(id, "Short_Summary__c"); got != agent {
		t.Errorf("agent text changed")
	}
}
