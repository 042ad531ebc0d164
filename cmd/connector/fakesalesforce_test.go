package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeOrgSecret is the client secret of the test seed; no output may show it.
const fakeOrgSecret = "fake-org-test-secret-7f3a"

const fakeOrgSeed = `{
  "comment": "test seed",
  "clients": [{"client_id": "test-client", "client_secret": "` + fakeOrgSecret + `"}],
  "records": [
    {"object": "Task", "fields": {"Subject": "First call", "Call_Id__c": "call-1"}},
    {"object": "task", "fields": {"subject": "Second call", "Call_Id__c": "call-2",
      "CreatedDate": "2026-01-02T15:04:05Z", "Description": null}},
    {"object": "Case", "fields": {"Call_Id__c": "case-1"}}
  ]
}`

// lockedBuffer is a bytes.Buffer safe for the command's goroutine writing
// while the test reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func writeSeedFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// fakeOrgRun is one `connector fake-salesforce` running in the test.
type fakeOrgRun struct {
	addr string // host:port it listens on
	logs *lockedBuffer
	stop context.CancelFunc
	done chan error
}

// startFakeOrgCommand runs the command with args after "fake-salesforce"
// and waits for its startup line.
func startFakeOrgCommand(t *testing.T, args ...string) *fakeOrgRun {
	t.Helper()
	t.Setenv("LOG_FORMAT", "json")
	t.Setenv("LOG_LEVEL", "info")
	ctx, cancel := context.WithCancel(context.Background())
	run := &fakeOrgRun{logs: &lockedBuffer{}, stop: cancel, done: make(chan error, 1)}
	root := newRootCommand()
	root.SetErr(run.logs)
	root.SetArgs(append([]string{"fake-salesforce"}, args...))
	go func() { run.done <- root.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-run.done
	})

	deadline := time.Now().Add(5 * time.Second)
	for run.addr == "" {
		select {
		case err := <-run.done:
			t.Fatalf("command ended before listening: %v\n%s", err, run.logs)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no startup line within 5s:\n%s", run.logs)
		}
		run.addr = startupAddr(t, run.logs.String())
	}
	return run
}

// startupAddr returns the addr of the startup line in logs, or "".
func startupAddr(t *testing.T, logs string) string {
	line, _, found := strings.Cut(logs, "\n")
	if !found {
		return ""
	}
	var entry struct {
		Message, Addr string
		Clients       int
		Records       int
	}
	if err := json.Unmarshal([]byte(line), &entry); err != nil {
		t.Fatalf("startup line %q: %v", line, err)
	}
	if entry.Message != "fake salesforce org listening" || entry.Clients != 1 || entry.Records != 3 {
		t.Fatalf("startup line = %s, want listening with 1 client and 3 records", line)
	}
	return entry.Addr
}

func TestFakeSalesforceCommand(t *testing.T) {
	tests := []struct {
		name         string
		instanceURL  string // the flag; "" leaves it out
		wantInstance string // "" means http:// and the listen address
	}{
		{"instance-url-from-listener", "", ""},
		{"instance-url-from-flag", "http://127.0.0.1:1/", "http://127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"--addr", "127.0.0.1:0", "--seed", writeSeedFile(t, fakeOrgSeed)}
			if tt.instanceURL != "" {
				args = append(args, "--instance-url", tt.instanceURL)
			}
			run := startFakeOrgCommand(t, args...)
			base := "http://" + run.addr

			token, instance := fakeOrgToken(t, base, fakeOrgSecret, http.StatusOK)
			want := tt.wantInstance
			if want == "" {
				want = base
			}
			if instance != want {
				t.Errorf("instance_url = %q, want %q", instance, want)
			}
			checkDescribe(t, base, token)
			checkExternalID(t, base, token)
			fakeOrgToken(t, base, "wrong-secret", http.StatusBadRequest)

			run.stop()
			if err := waitDone(t, run); err != nil {
				t.Fatalf("command after stop: %v", err)
			}
			logs := run.logs.String()
			if !strings.Contains(logs, "fake salesforce org stopped") {
				t.Errorf("no stop line in logs:\n%s", logs)
			}
			if strings.Contains(logs, fakeOrgSecret) || strings.Contains(logs, token) {
				t.Errorf("logs show the secret or a token:\n%s", logs)
			}
		})
	}
}

func waitDone(t *testing.T, run *fakeOrgRun) error {
	t.Helper()
	select {
	case err := <-run.done:
		run.done <- err // for the cleanup
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("command did not stop within 10s of its context ending")
		return nil
	}
}

// fakeOrgToken asks for a token with the test client and secret, expecting
// status, and returns the token and instance_url of a grant.
func fakeOrgToken(t *testing.T, base, secret string, status int) (token, instance string) {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"},
		"client_id": {"test-client"}, "client_secret": {secret}}
	resp, err := http.PostForm(base+"/services/oauth2/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var grant struct {
		AccessToken string `json:"access_token"`
		InstanceURL string `json:"instance_url"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&grant); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != status {
		t.Fatalf("token with secret %q: status %d, want %d", secret, resp.StatusCode, status)
	}
	return grant.AccessToken, grant.InstanceURL
}

func getJSON(t *testing.T, rawURL, token string, into any) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	return resp.StatusCode
}

func checkDescribe(t *testing.T, base, token string) {
	t.Helper()
	var describe struct {
		Name   string
		Fields []struct {
			Name       string
			ExternalID bool `json:"externalId"`
		}
	}
	status := getJSON(t, base+"/services/data/v66.0/sobjects/Task/describe", token, &describe)
	if status != http.StatusOK || describe.Name != "Task" {
		t.Fatalf("describe Task: status %d, name %q", status, describe.Name)
	}
	for _, f := range describe.Fields {
		if f.Name == "Call_Id__c" && f.ExternalID {
			return
		}
	}
	t.Errorf("describe Task has no External ID field Call_Id__c: %+v", describe.Fields)
}

func checkExternalID(t *testing.T, base, token string) {
	t.Helper()
	var rec map[string]any
	status := getJSON(t, base+"/services/data/v66.0/sobjects/Task/Call_Id__c/call-2", token, &rec)
	if status != http.StatusOK {
		t.Fatalf("external id call-2: status %d, body %v", status, rec)
	}
	if got, want := rec["Subject"], "Second call"; got != want {
		t.Errorf("Subject = %v, want %q", got, want)
	}
	if got, want := rec["CreatedDate"], "2026-01-02T15:04:05.000+0000"; got != want {
		t.Errorf("CreatedDate = %v, want %q", got, want)
	}
}

func TestFakeSalesforceRefusesBadSeed(t *testing.T) {
	client := `"clients": [{"client_id": "c", "client_secret": "` + fakeOrgSecret + `"}]`
	tests := []struct {
		name, seed string
		want       []string // parts of the error
	}{
		{"bad-json", "{\n  \"clients\": [,]\n}", []string{"not JSON at line 2, column"}},
		{"empty-file", "", []string{"empty"}},
		{"two-values", "{} {}", []string{"more than one JSON value"}},
		{"unknown-key", `{"clients": [{"client_id": "c", "client_secert": "x"}]}`,
			[]string{`unknown field "client_secert"`}},
		{"wrong-type", `{"clients": [{"client_id": 7, "client_secret": "x"}]}`,
			[]string{"line 1", "clients.client_id is a JSON number, not a string"}},
		{"missing-secret", `{"clients": [{"client_id": "c"}]}`,
			[]string{`clients[0] (client_id "c"): client_secret is missing`}},
		{"missing-id", `{"clients": [{"client_secret": "` + fakeOrgSecret + `"}]}`,
			[]string{"clients[0]: client_id is missing"}},
		{"duplicate-client", `{"clients": [{"client_id": "c", "client_secret": "a"},
			{"client_id": "c", "client_secret": "b"}]}`,
			[]string{`clients[1]: client_id "c" is already clients[0]'s`}},
		{"unknown-object", `{` + client + `, "records": [{"object": "Tsk", "fields": {}}]}`,
			[]string{`records[0]: object "Tsk" is not in the fake org; use Task or Case`}},
		{"unknown-field", `{` + client + `, "records": [{"object": "Task",
			"fields": {"Call_Id__c": "x", "Colour__c": "red"}}]}`,
			[]string{`records[0].fields: no field "Colour__c" on Task`}},
		{"id-field", `{"records": [{"object": "Task", "fields": {"Id": "00T000000000001"}}]}`,
			[]string{"records[0].fields.Id: the org makes record ids"}},
		{"number-value", `{"records": [{"object": "Case", "fields": {"Subject": 12}}]}`,
			[]string{"records[0].fields.Subject: a number is not a JSON string or null"}},
		{"bad-datetime", `{"records": [{"object": "Case", "fields": {"CreatedDate": "today"}}]}`,
			[]string{`"today" is not an RFC 3339 time`}},
		{"too-long", `{"records": [{"object": "Task", "fields": {"Subject": "` +
			strings.Repeat("é", 256) + `"}}]}`,
			[]string{"256 characters, more than the field's 255"}},
		{"same-field-twice", `{"records": [{"object": "Task",
			"fields": {"Subject": "a", "subject": "b"}}]}`,
			[]string{`"Subject" and "subject" name the same field`}},
		{"every-problem-at-once", `{"clients": [{"client_id": "c"}],
			"records": [{"object": "Tsk"}, {"object": "Task", "fields": {"Nope": "x"}}]}`,
			[]string{"3 problems", "client_secret is missing", `"Tsk"`, `"Nope"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeSeedFile(t, tt.seed)
			err := runFakeOrgCommand(t, "--addr", "127.0.0.1:0", "--seed", path)
			checkExitConfig(t, err, append(tt.want, path)...)
		})
	}
}

func TestFakeSalesforceRefusesBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no-host", []string{"--addr", ":8080"}, `names no host; say 0.0.0.0:8080`},
		{"no-port", []string{"--addr", "localhost"}, "is not host:port"},
		{"port-too-big", []string{"--addr", "127.0.0.1:65536"}, "no port from 0 to 65535"},
		{"bare-port-too-big", []string{"--addr", "70000"}, "no port from 0 to 65535"},
		{"negative-latency", []string{"--addr", "0", "--latency", "-1s"}, "must not be negative"},
		{"instance-url-with-path", []string{"--addr", "0", "--instance-url", "http://h/x"},
			"is not a base URL"},
		{"missing-seed-file", []string{"--addr", "0", "--seed", "/nonexistent/seed.json"},
			"no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkExitConfig(t, runFakeOrgCommand(t, tt.args...), tt.want)
		})
	}
}

// runFakeOrgCommand runs a fake-salesforce command that is expected to end
// on its own, and returns its error.
func runFakeOrgCommand(t *testing.T, args ...string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	root := newRootCommand()
	root.SetErr(&lockedBuffer{})
	root.SetArgs(append([]string{"fake-salesforce"}, args...))
	return root.ExecuteContext(ctx)
}

func checkExitConfig(t *testing.T, err error, want ...string) {
	t.Helper()
	var exit *exitError
	if !errors.As(err, &exit) || exit.code != exitConfig {
		t.Fatalf("error = %v, want exit code %d", err, exitConfig)
	}
	for _, part := range want {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not say %q", err, part)
		}
	}
	if strings.Contains(err.Error(), fakeOrgSecret) {
		t.Errorf("error shows the secret: %v", err)
	}
}

func TestFakeOrgAddr(t *testing.T) {
	tests := []struct{ in, want string }{
		{"8080", "127.0.0.1:8080"},
		{"0", "127.0.0.1:0"},
		{"127.0.0.1:8080", "127.0.0.1:8080"},
		{"0.0.0.0:8080", "0.0.0.0:8080"},
		{"[::1]:9000", "[::1]:9000"},
		{"localhost:8080", "localhost:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := fakeOrgAddr(tt.in)
			if err != nil || got != tt.want {
				t.Errorf("fakeOrgAddr(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestListenURL(t *testing.T) {
	tests := []struct {
		name string
		addr net.Addr
		want string
	}{
		{"loopback", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, "http://127.0.0.1:8080"},
		{"ipv6-loopback", &net.TCPAddr{IP: net.IPv6loopback, Port: 8080}, "http://[::1]:8080"},
		{"every-ipv4-interface", &net.TCPAddr{IP: net.IPv4zero, Port: 8080}, ""},
		{"every-interface", &net.TCPAddr{IP: net.IPv6unspecified, Port: 8080}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := listenURL(tt.addr); got != tt.want {
				t.Errorf("listenURL(%v) = %q, want %q", tt.addr, got, tt.want)
			}
		})
	}
}
