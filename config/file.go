package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/caarlos0/env/v11"
	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/token"
)

// maxFileBytes bounds a configuration file; a real one is a few hundred
// bytes.
const maxFileBytes = 1 << 20

// FromFileAndEnv loads the configuration from the YAML file at path and the
// process environment, as Load does. The file maps variable names to
// values, such as "SF_OBJECT: Task"; a variable set and not empty in the
// environment wins over the file.
func FromFileAndEnv(path string) (Config, error) {
	file, err := ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	return Load(Merge(file, env.ToMap(os.Environ())))
}

// Merge returns the settings of file overridden by the non-empty values of
// environ.
func Merge(file, environ map[string]string) map[string]string {
	merged := make(map[string]string, len(file)+len(environ))
	for name, value := range file {
		merged[name] = value
	}
	for name, value := range environ {
		if strings.TrimSpace(value) != "" || merged[name] == "" {
			merged[name] = value
		}
	}
	return merged
}

// ReadFile reads a YAML configuration file: one mapping whose keys are
// variable names and whose values are scalars. A key that names no
// variable, a key given twice or a value that is a list or a mapping is an
// error. Errors name the file, line or key, never a value, since the file
// may hold the client secret.
func ReadFile(path string) (map[string]string, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, err
	}
	var entries yaml.MapSlice
	if err := yaml.Unmarshal(data, &entries); err != nil {
		return nil, fmt.Errorf("config file %s: %s", path, describeYAMLError(err))
	}
	settings := make(map[string]string, len(entries))
	var problems []string
	for _, e := range entries {
		name, value, problem := fileSetting(e)
		if problem != "" {
			problems = append(problems, problem)
			continue
		}
		settings[name] = value
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("config file %s: %s", path, strings.Join(problems, "; "))
	}
	return settings, nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	if len(data) > maxFileBytes {
		return nil, fmt.Errorf("config file %s: larger than %d bytes", path, maxFileBytes)
	}
	return data, nil
}

// describeYAMLError says what is wrong and where, without the source
// excerpt the library would print.
func describeYAMLError(err error) string {
	var ye yaml.Error
	switch {
	case !errors.As(err, &ye):
		return "not valid YAML"
	case strings.Contains(ye.GetMessage(), "already defined"):
		return "a key is given twice" + atLine(ye.GetToken())
	}
	return "not a mapping of variable names to values" + atLine(ye.GetToken())
}

func atLine(tok *token.Token) string {
	if tok == nil || tok.Position == nil {
		return ""
	}
	return fmt.Sprintf(" (line %d)", tok.Position.Line)
}

// fileSetting checks one entry of the file and returns its name and value,
// or a problem.
func fileSetting(e yaml.MapItem) (name, value, problem string) {
	name, ok := e.Key.(string)
	if !ok || !isVariable(name) {
		return "", "", fmt.Sprintf("%v is not a setting (use the variable names of the "+
			"README, such as SF_OBJECT)", e.Key)
	}
	switch v := e.Value.(type) {
	case nil:
		return name, "", ""
	case string:
		return name, v, ""
	case bool:
		return name, strconv.FormatBool(v), ""
	case uint64, int64, int, float64:
		return name, fmt.Sprint(v), ""
	}
	return "", "", fmt.Sprintf("%s must be a single value, not a list or a mapping", name)
}

func isVariable(name string) bool {
	return slices.ContainsFunc(meanings, func(m struct{ name, meaning string }) bool {
		return m.name == name
	})
}
