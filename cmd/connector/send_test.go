package main

import (
	"os"
	"path/filepath"
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

func TestSendTakesQueueFromConfigFile(t *testing.T) {
	checkEnv(t)
	queue := os.Getenv("SQS_QUEUE_URL")
	t.Setenv("SQS_QUEUE_URL", "")
	path := filepath.Join(t.TempDir(), "connector.yaml")
	if err := os.WriteFile(path, []byte("SQS_QUEUE_URL: "+queue+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runCommand(t, "send", "--config", path, "--call-id", "c-1", "--summary", "x")
	if err != nil || !strings.Contains(out, "sent 1 of 1") {
		t.Errorf("got %v, %q; want one message sent to the file's queue", err, out)
	}
}
