package pipeline

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/callsummary/connector/salesforce"
)

func TestSetEnv(t *testing.T) {
	tests := []struct {
		name string
		kvs  []string
		want map[string]string
		ok   bool
	}{
		{"later-wins", []string{"A=1", "B=2", "A=3"}, map[string]string{"A": "3", "B": "2"}, true},
		{"value-with-equals", []string{"A=x=y"}, map[string]string{"A": "x=y"}, true},
		{"empty-value", []string{"A="}, map[string]string{"A": ""}, true},
		{"no-equals", []string{"A"}, nil, false},
		{"empty-key", []string{"=1"}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := map[string]string{}
			err := SetEnv(got, tt.kvs)
			if (err == nil) != tt.ok {
				t.Fatalf("SetEnv(%q) = %v, want ok %v", tt.kvs, err, tt.ok)
			}
			if tt.ok {
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("env mismatch (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestEnvironSorted(t *testing.T) {
	got := Environ(map[string]string{"B": "2", "A": "1", "C": ""})
	want := []string{"A=1", "B=2", "C="}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("environ mismatch (-want +got):\n%s", diff)
	}
}

func TestTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(path, []byte("one\ntwo\r\nthree\nfour\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Tail(path, 2)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"three", "four"}, got); diff != "" {
		t.Errorf("tail mismatch (-want +got):\n%s", diff)
	}
}

// TestTestbed sends through the testbed's queue client, and reads the org
// through the wrapped data API with the worker's own settings.
func TestTestbed(t *testing.T) {
	var dataCalls atomic.Int64
	tb, err := StartTestbed(TestbedConfig{
		Name:            "pipeline",
		QueueAttributes: map[string]string{"VisibilityTimeout": "7"},
		WrapData: func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				dataCalls.Add(1)
				h.ServeHTTP(w, r)
			})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()

	_, err = tb.Queue.SendMessage(t.Context(), &sqs.SendMessageInput{
		QueueUrl: aws.String(tb.QueueURL), MessageBody: aws.String("hello")})
	if err != nil {
		t.Fatal(err)
	}
	if visible, _, _ := tb.Queued(); visible != 1 || tb.DeadLetters() != 0 {
		t.Errorf("queued %d, dead letters %d; want 1 and 0", visible, tb.DeadLetters())
	}

	env := tb.WorkerEnv("Call_Id__c", salesforce.Append)
	sf, err := salesforce.New(salesforce.Config{
		Domain: env["SF_DOMAIN"], ClientID: env["SF_CLIENT_ID"], APIVersion: "66.0",
		ClientSecret: env["SF_CLIENT_SECRET"], Object: env["SF_OBJECT"],
		LookupField: env["SF_LOOKUP_FIELD"], TargetField: env["SF_TARGET_FIELD"],
		WriteMode: salesforce.WriteMode(env["SF_WRITE_MODE"]),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := sf.Prepare(t.Context()); err != nil {
		t.Fatalf("prepare against the testbed's org: %v", err)
	}
	if dataCalls.Load() == 0 {
		t.Error("no data call went through WrapData")
	}
	if env["SQS_QUEUE_URL"] != tb.QueueURL || env["AWS_ENDPOINT_URL_SQS"] != tb.SQSURL {
		t.Errorf("env names queue %q at %q, want %q at %q", env["SQS_QUEUE_URL"],
			env["AWS_ENDPOINT_URL_SQS"], tb.QueueURL, tb.SQSURL)
	}
}

// sleeper writes a script that ignores its arguments and sleeps, standing
// in for the worker binary.
func sleeper(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sleeper")
	script := "#!/bin/sh\necho started\nexec sleep 30\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestWorkerSignals(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("needs /bin/sh")
	}
	tests := []struct {
		name    string
		signal  func(w *Worker) error
		wantErr bool
	}{
		{"kill", (*Worker).Kill, false},
		{"stop-reports-status-other-than-0",
			func(w *Worker) error { return w.Stop(5 * time.Second) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logPath := filepath.Join(t.TempDir(), "worker.log")
			var pid int
			w, err := StartWorker(sleeper(t), nil, logPath, func(p int) error {
				pid = p
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if pid <= 0 {
				t.Errorf("attach got pid %d", pid)
			}
			awaitLog(t, logPath, "started")
			if err := tt.signal(w); (err != nil) != tt.wantErr {
				t.Errorf("signal = %v, want error %v", err, tt.wantErr)
			}
			select {
			case <-w.Exited():
			default:
				t.Fatal("worker not exited after the signal returned")
			}
			if w.Err() == nil || w.CPUTime() < 0 {
				t.Errorf("exit error %v, want one for a signalled process", w.Err())
			}
		})
	}
}

func awaitLog(t *testing.T, path, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b, _ := os.ReadFile(path); strings.Contains(string(b), want) {
			return
		}
		time.Sleep(PollInterval)
	}
	t.Fatalf("log %s never held %q", path, want)
}
