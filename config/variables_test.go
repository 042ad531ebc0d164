package config_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/callsummary/connector/config"
	"github.com/google/go-cmp/cmp"
)

// taggedVariables reads every env tag in t and the structs it holds, written
// apart from the package's own walk so that each checks the other.
func taggedVariables(t reflect.Type) []config.Variable {
	var vars []config.Variable
	for field := range t.Fields() {
		if field.Type.Kind() == reflect.Struct {
			vars = append(vars, taggedVariables(field.Type)...)
			continue
		}
		tag, ok := field.Tag.Lookup("env")
		if !ok || tag == "-" {
			continue
		}
		parts := strings.Split(tag, ",")
		vars = append(vars, config.Variable{
			Name:     parts[0],
			Default:  field.Tag.Get("envDefault"),
			Required: slices.Contains(parts[1:], "required"),
		})
	}
	return vars
}

func TestVariablesCoverEveryTag(t *testing.T) {
	tagged := taggedVariables(reflect.TypeFor[config.Config]())
	listed := config.Variables()

	byName := func(a, b config.Variable) int { return strings.Compare(a.Name, b.Name) }
	slices.SortFunc(tagged, byName)
	slices.SortFunc(listed, byName)
	withoutMeaning := func(v config.Variable) config.Variable {
		v.Meaning = ""
		return v
	}
	var got []config.Variable
	for _, v := range listed {
		got = append(got, withoutMeaning(v))
	}
	if diff := cmp.Diff(tagged, got); diff != "" {
		t.Errorf("Variables against struct tags (-tags +Variables):\n%s", diff)
	}
}

func TestVariablesAreDocumented(t *testing.T) {
	seen := make(map[string]bool)
	for _, v := range config.Variables() {
		t.Run(strings.ToLower(strings.ReplaceAll(v.Name, "_", "-")), func(t *testing.T) {
			if seen[v.Name] {
				t.Errorf("%s is listed twice", v.Name)
			}
			seen[v.Name] = true

			if v.Meaning == "" || strings.Contains(v.Meaning, "\n") {
				t.Errorf("Meaning = %q, want one line", v.Meaning)
			}
			if v.Required && v.Default != "" {
				t.Errorf("required with default %q", v.Default)
			}
		})
	}
}

func TestVariablesFollowReadmeOrder(t *testing.T) {
	var got []string
	for _, v := range config.Variables() {
		got = append(got, v.Name)
	}

	// The order of the configuration table in DESIGN.md, with the variables
	// it does not name placed next to their neighbours.
	want := []string{
		"SF_DOMAIN", "SF_CLIENT_ID", "SF_CLIENT_SECRET", "SF_API_VERSION", "SF_OBJECT",
		"SF_LOOKUP_FIELD", "SF_LOOKUP_EXTERNAL_ID", "SF_ORIGIN_FIELD", "SF_TARGET_FIELD",
		"SF_WRITE_MODE", "SF_TOO_LONG", "SF_HTTP_TIMEOUT", "SF_BATCH_SIZE", "SF_BATCH_LINGER",
		"SQS_QUEUE_URL", "SQS_DLQ_URL", "SQS_WAIT_TIME", "SQS_MAX_MESSAGES",
		"SQS_HTTP_TIMEOUT", "SQS_VISIBILITY_TIMEOUT",
		"WORKER_CONCURRENCY", "WORKER_RECEIVERS", "NOT_FOUND_GRACE", "API_USAGE_CEILING",
		"RETRY_MAX_ELAPSED", "DRAIN_TIMEOUT", "MAX_PROCESSING_TIME",
		"LOG_LEVEL", "LOG_FORMAT", "METRICS_ADDR",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Variables order (-want +got):\n%s", diff)
	}
}

func TestVariablesReturnsCopy(t *testing.T) {
	first := config.Variables()
	first[0].Name = "CHANGED"

	got := config.Variables()[0].Name
	if got == "CHANGED" {
		t.Error("changing the slice Variables returned changed the next call's result")
	}
}
