package config_test

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/callsummary/connector/config"
)

// TestReadmeTableMatchesVariables keeps the README's configuration table
// in step with Variables: the same names, defaults and meanings, in order.
func TestReadmeTableMatchesVariables(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatalf("read README: %v", err)
	}
	var got []string
	for line := range strings.SplitSeq(string(readme), "\n") {
		name, _, _ := strings.Cut(strings.TrimPrefix(line, "| `"), "`")
		if strings.HasPrefix(line, "| `") && name == strings.ToUpper(name) {
			got = append(got, line)
		}
	}
	var want []string
	for _, v := range config.Variables() {
		def := "`" + v.Default + "`"
		switch {
		case v.Required:
			def = "required"
		case v.Default == "":
			def = "optional"
		}
		want = append(want, "| `"+v.Name+"` | "+def+" | "+v.Meaning+" |")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("README configuration table (-want +got):\n%s", diff)
	}
}
