package pipeline

import (
	"bufio"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
)

// MetricsAddrVar names the worker's health endpoint address.
const MetricsAddrVar = "METRICS_ADDR"

// SetEnv sets each KEY=VALUE of kvs in env, later entries winning. It
// refuses an entry without "=" or with an empty key.
func SetEnv(env map[string]string, kvs []string) error {
	for _, kv := range kvs {
		key, value, ok := strings.Cut(kv, "=")
		if !ok || key == "" {
			return fmt.Errorf("%q is not KEY=VALUE", kv)
		}
		env[key] = value
	}
	return nil
}

// Environ turns env into KEY=VALUE entries, sorted by key. Nothing of the
// tool's own environment is added, so a variable set in the shell cannot
// change a run unnoticed.
func Environ(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for _, key := range slices.Sorted(maps.Keys(env)) {
		out = append(out, key+"="+env[key])
	}
	return out
}

// Tail returns the last n lines of the file at path.
func Tail(path string, n int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		lines = append(lines, strings.TrimRight(sc.Text(), "\r"))
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return lines, sc.Err()
}
