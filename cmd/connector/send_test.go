package main

import (
	"strings"
	"testing"
)

func TestReadLines(t *testing.T) {
	good := `{"clientCallId":"c-1","summary":"s"}`
	tests := []struct {
		name         string
		input        string
		allowInvalid bool
		want         int    // bodies returned
		wantErr      string // substring of the error, "" for none
	}{
		{"good-lines-and-blanks", good + "\n\n" + good + "\n", false, 2, ""},
		{"byte-order-mark", "\uFEFF" + good + "\n", false, 1, ""},
		{"every-bad-line-listed", "nope\n" + good + "\n{}\n", false, 0, "line 1:"},
		{"bad-lines-allowed", "nope\n" + good + "\n", true, 2, ""},
		{"line-too-long", `{"summary":"` + strings.Repeat("x", maxLineBytes) + `"}`, false, 0,
			"at most"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readLines("-", strings.NewReader(tt.input), tt.allowInvalid)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(got) != tt.want {
				t.Fatalf("got %d bodies and error %v, want %d bodies", len(got), err, tt.want)
			}
		})
	}
	t.Run("names-every-bad-line", func(t *testing.T) {
		_, err := readLines("-", strings.NewReader("nope\n"+good+"\n{}\n"), false)
		if err == nil || !strings.Contains(err.Error(), "line 1:") || !strings.Contains(err.Error(), "line 3:") {
			t.Errorf("got %v, want lines 1 and 3 named", err)
		}
	})
}
