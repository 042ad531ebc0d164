package salesforce

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzLookupFindsExactlyTheRecord checks the encoding of call ids on both
// lookup paths: whatever the id, the org finds the one record whose field
// holds it, and a decoy holding a near miss is never written.
func FuzzLookupFindsExactlyTheRecord(f *testing.F) {
	for _, seed := range []string{
		`c-1`, `it's`, `back\slash`, `\'`, `a/b`, `two words`, `plus+sign`, `50%_off`,
		`q?a#b&c=d`, `x.inc`, `..`, `Zoë-東京`, "tab\there", "new\nline", `' OR Name != '`,
		`%2F`, "\u0000nul", `"quoted"`, `{}[]`, `😀`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, callID string) {
		if !usableCallID(callID) {
			t.Skip("not a call id the worker would accept")
		}
		fuzzOrgOnce(t, callID)
	})
}

// usableCallID is what the worker's message parser lets through.
func usableCallID(id string) bool {
	return utf8.ValidString(id) && strings.TrimSpace(id) != "" && Length(id) <= 255 &&
		!strings.ContainsRune(id, utf8.RuneError)
}

func fuzzOrgOnce(t *testing.T, callID string) {
	env := startOrg(t)
	target := env.org.Insert("Task", map[string]any{"Call_Id__c": callID})
	decoy := env.org.Insert("Task", map[string]any{"Call_Id__c": callID + "-decoy"})
	for _, mode := range []ExternalIDMode{ExternalIDYes, ExternalIDNo} {
		text := fmt.Sprintf("summary via %s", mode)
		c := env.client(Overwrite, func(cfg *Config) { cfg.LookupExternalID = mode })
		res, err := c.Apply(context.Background(), Summary{CallID: callID, Text: text, SummaryID: "s"})
		if err != nil {
			t.Fatalf("%s lookup of %q: %v", mode, callID, err)
		}
		if res.RecordID != target {
			t.Fatalf("%s lookup of %q: wrote %s, want %s", mode, callID, res.RecordID, target)
		}
		if rec, _ := env.org.Get("Task", target); rec["Summary__c"] != text {
			t.Fatalf("%s lookup of %q: record holds %v", mode, callID, rec["Summary__c"])
		}
		if rec, _ := env.org.Get("Task", decoy); rec["Summary__c"] != nil {
			t.Fatalf("%s lookup of %q: decoy written", mode, callID)
		}
	}
}

// FuzzBatchTellsCallIDsApart checks the batched lookup: two call ids
// sharing one IN (...) query each reach their own record, however they
// are spelled, and a decoy holding a near miss is never written.
func FuzzBatchTellsCallIDsApart(f *testing.F) {
	for _, seed := range [][2]string{
		{`c-1`, `c-2`}, {`it's`, `its`}, {`a\`, `a\\`}, {`x'`, `x\'`}, {`a,b`, `a`},
		{`(`, `)`}, {`Zoë`, `Zoe`}, {"tab\t", "tab"}, {`' OR Id != '`, `x`}, {`😀`, `😁`},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if !usableCallID(a) || !usableCallID(b) || strings.EqualFold(a, b) {
			t.Skip("not two distinct call ids the worker would accept")
		}
		env := startOrg(t)
		recA := env.org.Insert("Task", map[string]any{"CallObject": a})
		recB := env.org.Insert("Task", map[string]any{"CallObject": b})
		decoy := env.org.Insert("Task", map[string]any{"CallObject": a + b + "-decoy"})
		c := env.oneBatch(Overwrite, 2, func(cfg *Config) { cfg.LookupField = "CallObject" })

		results, errs := applyAll(c, []Summary{{CallID: a, Text: "for a"}, {CallID: b, Text: "for b"}})
		for i, want := range []string{recA, recB} {
			if errs[i] != nil || results[i].RecordID != want {
				t.Fatalf("call id %d of (%q, %q): %+v, %v; want %s", i, a, b, results[i], errs[i], want)
			}
		}
		if rec, _ := env.org.Get("Task", decoy); rec["Summary__c"] != nil {
			t.Fatalf("(%q, %q): decoy written", a, b)
		}
	})
}
