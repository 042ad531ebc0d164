package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callsummary/connector/config"
)

func writeFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "connector.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const fullFile = `# connector settings
SF_DOMAIN: https://acme.my.salesforce.com
SF_CLIENT_ID: client-id
SF_CLIENT_SECRET: "file-secret-value"
SF_OBJECT: Task
SF_LOOKUP_FIELD: Call_Id__c
SF_TARGET_FIELD: Description
SF_WRITE_MODE: append
SQS_QUEUE_URL: https://sqs.eu-west-1.amazonaws.com/123456789012/summaries
SQS_DLQ_URL: https://sqs.eu-west-1.amazonaws.com/123456789012/summaries-dlq
WORKER_CONCURRENCY: 50
API_USAGE_CEILING: 0.8
SF_LOOKUP_EXTERNAL_ID: true
NOT_FOUND_GRACE: 5m
`

func TestReadFileTakesScalars(t *testing.T) {
	got, err := config.ReadFile(writeFile(t, fullFile))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"WORKER_CONCURRENCY": "50", "API_USAGE_CEILING": "0.8", "SF_LOOKUP_EXTERNAL_ID": "true",
		"NOT_FOUND_GRACE": "5m", "SF_CLIENT_SECRET": "file-secret-value",
	} {
		if got[name] != want {
			t.Errorf("%s = %q, want %q", name, got[name], want)
		}
	}
}

func TestFileAndEnvironment(t *testing.T) {
	file, err := config.ReadFile(writeFile(t, fullFile))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.Merge(file, map[string]string{
		"SF_OBJECT": "Case", // the environment wins
		"SF_DOMAIN": "",     // an empty variable does not
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Salesforce.Object != "Case" || cfg.Salesforce.Domain != "https://acme.my.salesforce.com" ||
		cfg.Worker.Concurrency != 50 || cfg.Worker.APIUsageCeiling != 0.8 {
		t.Errorf("got object %q, domain %q, concurrency %d, ceiling %v", cfg.Salesforce.Object,
			cfg.Salesforce.Domain, cfg.Worker.Concurrency, cfg.Worker.APIUsageCeiling)
	}
}

func TestFromFileAndEnv(t *testing.T) {
	for _, v := range config.Variables() {
		t.Setenv(v.Name, "")
	}
	t.Setenv("SF_WRITE_MODE", "overwrite")
	cfg, err := config.FromFileAndEnv(writeFile(t, fullFile))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Salesforce.WriteMode != "overwrite" || cfg.Salesforce.ClientSecret.Reveal() != "file-secret-value" {
		t.Errorf("write mode %q; want the environment's overwrite and the file's secret",
			cfg.Salesforce.WriteMode)
	}
}

func TestReadFileRefuses(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"unknown-key", "SF_OBJECT: Task\nSF_OBJECTS: Case\n", "SF_OBJECTS is not a setting"},
		{"lowercase-key", "sf_object: Task\n", "sf_object is not a setting"},
		{"nested", "SF_OBJECT:\n  name: Task\n", "SF_OBJECT must be a single value"},
		{"list", "SF_OBJECT: [Task, Case]\n", "SF_OBJECT must be a single value"},
		{"duplicate", "SF_OBJECT: Task\nSF_OBJECT: Case\n", "given twice (line 2)"},
		{"not-a-mapping", "- SF_OBJECT\n", "not a mapping"},
		{"bad-yaml-keeps-secret", "SF_CLIENT_SECRET: \"hunter2-secret\n", "config file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.ReadFile(writeFile(t, tt.text))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows the secret: %v", err)
			}
		})
	}
}

func TestReadFileMissing(t *testing.T) {
	_, err := config.ReadFile(filepath.Join(t.TempDir(), "absent.yaml"))
	if err == nil || !strings.Contains(err.Error(), "absent.yaml") {
		t.Errorf("error = %v, want one naming the file", err)
	}
}
