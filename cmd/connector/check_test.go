package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callsummary/connector/salesforce"
	"github.com/callsummary/connector/salesforce/sftest"
	"github.com/callsummary/connector/worker/sqstest"
)

// checkEnv sets the environment of a correct setup against a fresh fake
// org and SQS server.
func checkEnv(t *testing.T) {
	t.Helper()
	org := sftest.NewOrg()
	org.AddClient("check-client", "check-secret-value")
	srv, err := org.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	sqs := sqstest.New()
	endpoint, err := sqs.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sqs.Close)
	dlq, _ := sqs.CreateQueue("check-dlq", nil)
	queue, _ := sqs.CreateQueue("check", map[string]string{"VisibilityTimeout": "120"})
	for name, value := range map[string]string{
		"SF_DOMAIN": srv.Domain, "SF_CLIENT_ID": "check-client", "SF_CLIENT_SECRET": "check-secret-value",
		"SF_OBJECT": "Task", "SF_LOOKUP_FIELD": "Call_Id__c", "SF_TARGET_FIELD": "Summary__c",
		"SF_WRITE_MODE": "append", "SQS_QUEUE_URL": queue, "SQS_DLQ_URL": dlq,
		"AWS_ENDPOINT_URL_SQS": endpoint, "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
		"SQS_WAIT_TIME": "1s", // a stopping worker waits out its long poll
	} {
		t.Setenv(name, value)
	}
}

func runCommand(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func TestCheckCommand(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		failing string // the line that fails; "" when none does
	}{
		{"correct-setup", nil, ""},
		{"target-not-updateable", map[string]string{"SF_TARGET_FIELD": "Read_Only_Notes__c"},
			"target field Read_Only_Notes__c exists and is updateable"},
		{"wrong-secret", map[string]string{"SF_CLIENT_SECRET": "wrong-secret-value"},
			"domain reachable, token granted"},
		{"dlq-missing", map[string]string{"SQS_DLQ_URL": "http://127.0.0.1:1/000000000000/none"},
			"dead-letter queue reachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			out, err := runCommand(t, "check")
			if strings.Contains(out, "check-secret-value") || strings.Contains(out, "wrong-secret-value") {
				t.Errorf("output shows the secret:\n%s", out)
			}
			var exit *exitError
			switch {
			case tt.failing == "" && err != nil:
				t.Fatalf("check failed: %v\n%s", err, out)
			case tt.failing != "" && (!errors.As(err, &exit) || exit.code != exitSetup):
				t.Fatalf("error = %v, want exit %d\n%s", err, exitSetup, out)
			}
			for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
				failed := strings.Contains(line, " FAIL ")
				if failed != (tt.failing != "" && strings.HasPrefix(line, tt.failing)) {
					t.Errorf("unexpected result on line %q", line)
				}
			}
		})
	}
}

func TestCheckCommandJSONAndConfigFile(t *testing.T) {
	checkEnv(t)
	path := filepath.Join(t.TempDir(), "connector.yaml")
	if err := os.WriteFile(path, []byte("SF_TARGET_FIELD: Short_Summary__c\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SF_TARGET_FIELD", "") // the file's value applies
	out, err := runCommand(t, "check", "--json", "--config", path)
	if err != nil {
		t.Fatalf("check: %v\n%s", err, out)
	}
	var lines []salesforce.Check
	for _, raw := range strings.Split(strings.TrimSpace(out), "\n") {
		var c salesforce.Check
		if err := json.Unmarshal([]byte(raw), &c); err != nil {
			t.Fatalf("line %q: %v", raw, err)
		}
		lines = append(lines, c)
	}
	found := false
	for _, c := range lines {
		found = found || strings.Contains(c.Name, "Short_Summary__c") && strings.Contains(c.Detail, "500")
	}
	if !found || len(lines) < 8 {
		t.Errorf("got %d lines without the file's target field:\n%s", len(lines), out)
	}
}
