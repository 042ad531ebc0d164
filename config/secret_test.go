package config_test

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/callsummary/connector/config"
)

func TestSecretShowsNothing(t *testing.T) {
	show := []struct {
		name string
		show func(config.Secret) string
	}{
		{"string", config.Secret.String},
		{"go-string", config.Secret.GoString},
		{"verb-v", func(s config.Secret) string { return fmt.Sprintf("%v", s) }},
		{"verb-plus-v", func(s config.Secret) string { return fmt.Sprintf("%+v", s) }},
		{"verb-sharp-v", func(s config.Secret) string { return fmt.Sprintf("%#v", s) }},
		{"verb-s", func(s config.Secret) string { return fmt.Sprintf("%s", s) }},
		{"verb-q", func(s config.Secret) string { return fmt.Sprintf("%q", s) }},
		{"verb-x", func(s config.Secret) string { return fmt.Sprintf("%x", s) }},
		{"verb-d", func(s config.Secret) string { return fmt.Sprintf("%d", s) }},
		{"print", func(s config.Secret) string { return fmt.Sprint(s) }},
		{"marshal-text", func(s config.Secret) string {
			text, err := s.MarshalText()
			if err != nil {
				t.Fatalf("MarshalText: %v", err)
			}
			return string(text)
		}},
		{"marshal-json", func(s config.Secret) string {
			text, err := json.Marshal(s)
			if err != nil {
				t.Fatalf("json.Marshal: %v", err)
			}
			value, err := strconv.Unquote(string(text))
			if err != nil {
				t.Fatalf("json.Marshal gave %s, not a JSON string: %v", text, err)
			}
			return value
		}},
	}
	values := []struct {
		name   string
		secret config.Secret
		want   string
	}{
		{"set", testSecret, "[redacted]"},
		{"empty", "", ""},
	}
	for _, s := range show {
		for _, v := range values {
			t.Run(s.name+"-"+v.name, func(t *testing.T) {
				got := s.show(v.secret)
				if got != v.want {
					t.Errorf("got %q, want %q", got, v.want)
				}
			})
		}
	}
}

func TestSecretKeepsWidth(t *testing.T) {
	got := fmt.Sprintf("%-12s|%12v|", config.Secret(testSecret), config.Secret(testSecret))

	want := "[redacted]  |  [redacted]|"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestSecretReveal(t *testing.T) {
	got := config.Secret(testSecret).Reveal()
	if got != testSecret {
		t.Errorf("Reveal() = %q, want %q", got, testSecret)
	}
}

// forbidden returns the forms in which secret must never be found.
func forbidden(secret string) []string {
	quoted := strconv.Quote(secret)
	return []string{secret, quoted[1 : len(quoted)-1], hex.EncodeToString([]byte(secret))}
}

func TestConfigNeverShowsSecret(t *testing.T) {
	cfg, err := config.Load(minimalEnv())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	// A format held in a variable, because vet rightly objects to %s and %q
	// on a struct of numbers, which is exactly what is being tried here.
	sprintf := func(format string, arg any) string { return fmt.Sprintf(format, arg) }
	renders := []struct {
		name   string
		render func() string
	}{
		{"verb-v", func() string { return sprintf("%v", cfg) }},
		{"verb-plus-v", func() string { return sprintf("%+v", cfg) }},
		{"verb-sharp-v", func() string { return sprintf("%#v", cfg) }},
		{"verb-s", func() string { return sprintf("%s", cfg) }},
		{"verb-q", func() string { return sprintf("%q", cfg) }},
		{"verb-x", func() string { return sprintf("%x", cfg) }},
		{"verb-d", func() string { return sprintf("%d", cfg) }},
		{"pointer-verb-plus-v", func() string { return sprintf("%+v", &cfg) }},
		{"section-verb-sharp-v", func() string { return fmt.Sprintf("%#v", cfg.Salesforce) }},
		{"json", func() string {
			text, err := json.Marshal(cfg)
			if err != nil {
				t.Fatalf("json.Marshal: %v", err)
			}
			return string(text)
		}},
		{"redacted", func() string { return fmt.Sprint(cfg.Redacted()) }},
	}
	for _, r := range renders {
		t.Run(r.name, func(t *testing.T) {
			got := r.render()
			for _, leak := range forbidden(testSecret) {
				if strings.Contains(got, leak) {
					t.Fatalf("output contains the secret (%q):\n%s", leak, got)
				}
			}
			if r.name != "verb-x" && !strings.Contains(got, "[redacted]") {
				t.Errorf("output does not show [redacted] where the secret is:\n%s", got)
			}
		})
	}
}

func TestErrorsNeverShowSecret(t *testing.T) {
	tests := []struct {
		name    string
		secret  string
		changes func(secret string) map[string]string
	}{
		{"secret-pasted-into-other-variables", testSecret, func(s string) map[string]string {
			return map[string]string{
				"SF_CLIENT_SECRET": s,
				"SF_DOMAIN":        "http://" + s + ".example.com",
				"SF_OBJECT":        s,
				"SQS_QUEUE_URL":    s,
				"SQS_WAIT_TIME":    s,
				"WORKER_RECEIVERS": s,
				"LOG_LEVEL":        s,
				"METRICS_ADDR":     s,
			}
		}},
		{"secret-with-quote-and-backslash", `Zq8"pa\ss-word`, func(s string) map[string]string {
			return map[string]string{"SF_CLIENT_SECRET": s, "SF_OBJECT": s, "LOG_FORMAT": s}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load(withChanges(tt.changes(tt.secret)))
			if err == nil {
				t.Fatal("Load succeeded, want a validation error")
			}

			got := err.Error()
			for _, leak := range forbidden(tt.secret) {
				if strings.Contains(got, leak) {
					t.Fatalf("error contains the secret (%q):\n%s", leak, got)
				}
			}
			if !strings.Contains(got, "[redacted]") {
				t.Errorf("error does not show [redacted] where the secret was:\n%s", got)
			}
		})
	}
}
