package main

import (
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/callsummary/connector/config"
	"github.com/callsummary/connector/salesforce/sftest"
)

// No Docker engine is needed here: these tests read docker-compose.yml, the
// Dockerfile, the seed file and the LocalStack init hook, and check them
// against each other and against the connector's own variables, commands
// and seed loader. Whether the images build and the stack runs is not
// checked.

// repoRoot is the top of the repository, seen from this package.
var repoRoot = filepath.Join("..", "..")

// composeFile is the part of docker-compose.yml that the tests read.
type composeFile struct {
	Services map[string]composeService `yaml:"services"`
}

type composeService struct {
	Image       string            `yaml:"image"`
	Build       string            `yaml:"build"`
	PullPolicy  string            `yaml:"pull_policy"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Volumes     []string          `yaml:"volumes"`
	NetworkMode string            `yaml:"network_mode"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Healthcheck struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
}

// The services of docker-compose.yml and the files it names.
const (
	serviceConnector  = "connector"
	serviceFakeOrg    = "fake-salesforce"
	serviceLocalStack = "localstack"
	localStackImage   = "localstack/localstack:4.4.0"
	initHookDir       = "localstack/init/ready.d"
	initHook          = initHookDir + "/10-create-queues.sh"
)

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	for _, name := range []string{serviceConnector, serviceFakeOrg, serviceLocalStack} {
		if _, ok := f.Services[name]; !ok {
			t.Fatalf("docker-compose.yml has no service %q", name)
		}
	}
	return f
}

func TestComposeConnectorEnvironment(t *testing.T) {
	env := loadCompose(t).Services[serviceConnector].Environment
	known := make(map[string]bool)
	for _, v := range config.Variables() {
		known[v.Name] = true
		if v.Required && env[v.Name] == "" {
			t.Errorf("required variable %s is not set", v.Name)
		}
	}

	settings := make(map[string]string)
	for name, value := range env {
		switch {
		case known[name]:
			settings[name] = value
		case !strings.HasPrefix(name, "AWS_"):
			t.Errorf("%s is not a variable the connector reads nor an AWS one", name)
		}
	}
	if _, err := config.Load(settings); err != nil {
		t.Errorf("the connector would refuse its settings: %v", err)
	}
	for _, name := range []string{"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_ENDPOINT_URL_SQS"} {
		if env[name] == "" {
			t.Errorf("%s is not set; the SDK would look for real AWS", name)
		}
	}
}

func TestComposeCommandsExist(t *testing.T) {
	services := loadCompose(t).Services
	for _, name := range []string{serviceConnector, serviceFakeOrg} {
		t.Run(name, func(t *testing.T) {
			args := services[name].Command
			if len(args) == 0 {
				t.Fatal("no command; the image's default is run")
			}
			cmd, rest, err := newRootCommand().Find(args)
			if err != nil || cmd.Name() != args[0] {
				t.Fatalf("command %q is not a connector subcommand: %v", args, err)
			}
			if err := cmd.ParseFlags(rest); err != nil {
				t.Errorf("command %q: %v", args, err)
			}
			if cmd.Flags().NArg() > 0 {
				t.Errorf("command %q: arguments %q left over", args, cmd.Flags().Args())
			}
		})
	}
}

// fakeOrgFlags returns the flags of the fake-salesforce service's command.
func fakeOrgFlags(t *testing.T, svc composeService) (addr, seed string) {
	t.Helper()
	if len(svc.Command) == 0 || svc.Command[0] != "fake-salesforce" {
		t.Fatalf("the fake org's command %q does not start with fake-salesforce", svc.Command)
	}
	cmd := newFakeSalesforceCommand()
	if err := cmd.ParseFlags(svc.Command[1:]); err != nil {
		t.Fatalf("fake-salesforce command: %v", err)
	}
	addr, _ = cmd.Flags().GetString("addr")
	seed, _ = cmd.Flags().GetString("seed")
	if _, err := fakeOrgAddr(addr); err != nil {
		t.Fatal(err)
	}
	return addr, seed
}

func TestComposeConnectorReachesFakeOrg(t *testing.T) {
	f := loadCompose(t)
	connector, org := f.Services[serviceConnector], f.Services[serviceFakeOrg]
	addr, _ := fakeOrgFlags(t, org)
	_, orgPort, _ := net.SplitHostPort(addr)

	if want := "service:" + serviceFakeOrg; connector.NetworkMode != want {
		t.Errorf("connector network_mode = %q, want %q: SF_DOMAIN is http on loopback, "+
			"which only the fake org's own network namespace serves", connector.NetworkMode, want)
	}
	domain, err := url.Parse(connector.Environment["SF_DOMAIN"])
	if err != nil {
		t.Fatal(err)
	}
	if domain.Port() != orgPort {
		t.Errorf("SF_DOMAIN %s is not on the fake org's port %s", domain, orgPort)
	}
	if org.Build == "" || org.Image == "" || connector.Image != org.Image {
		t.Errorf("the fake org must build the image the connector runs: build %q, images %q, %q",
			org.Build, org.Image, connector.Image)
	}
	if connector.PullPolicy != "never" {
		t.Errorf("connector pull_policy = %q, want never: its image is built here",
			connector.PullPolicy)
	}
}

func TestComposeSeedFile(t *testing.T) {
	f := loadCompose(t)
	env := f.Services[serviceConnector].Environment
	_, seedPath := fakeOrgFlags(t, f.Services[serviceFakeOrg])
	host := mountSource(t, f.Services[serviceFakeOrg], seedPath)

	seed, err := readSeed(filepath.Join(repoRoot, host))
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(seed.Clients, func(c seedClient) bool {
		return c.ClientID == env["SF_CLIENT_ID"]
	})
	if i < 0 || seed.Clients[i].ClientSecret != env["SF_CLIENT_SECRET"] {
		t.Errorf("SF_CLIENT_ID and SF_CLIENT_SECRET are not a client of %s", host)
	}
	if err := seed.plant(sftest.NewOrg()); err != nil {
		t.Errorf("seed does not plant: %v", err)
	}

	var callIDs []string
	for _, r := range seed.Records {
		if strings.EqualFold(r.Object, env["SF_OBJECT"]) {
			if id, ok := r.Fields[env["SF_LOOKUP_FIELD"]].(string); ok {
				callIDs = append(callIDs, id)
			}
		}
	}
	for _, want := range []string{"demo-1", "demo-2", "demo-3", "demo-4", "demo-5"} {
		if !slices.Contains(callIDs, want) {
			t.Errorf("no %s record with %s %q in %s", env["SF_OBJECT"], env["SF_LOOKUP_FIELD"],
				want, host)
		}
	}
}

// mountSource returns the host path, relative to the repository, of the
// volume that svc mounts at target.
func mountSource(t *testing.T, svc composeService, target string) string {
	t.Helper()
	for _, v := range svc.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && parts[1] == target {
			return path.Clean(parts[0])
		}
	}
	t.Fatalf("nothing is mounted at %s in %q", target, svc.Volumes)
	return ""
}

func TestComposeQueuesMatchInitHook(t *testing.T) {
	f := loadCompose(t)
	ls, env := f.Services[serviceLocalStack], f.Services[serviceConnector].Environment
	if ls.Image != localStackImage {
		t.Errorf("localstack image = %q, want the pinned %q", ls.Image, localStackImage)
	}
	if got := mountSource(t, ls, "/etc/localstack/init/ready.d"); got != initHookDir {
		t.Errorf("ready.d is mounted from %q, want %q", got, initHookDir)
	}
	queue, dlq := hookQueueNames(t)

	for name, want := range map[string]string{"SQS_QUEUE_URL": queue, "SQS_DLQ_URL": dlq} {
		if got := path.Base(env[name]); got != want {
			t.Errorf("%s names queue %q, the init hook makes %q", name, got, want)
		}
	}
	if !slices.Contains(ls.Healthcheck.Test, queue) {
		t.Errorf("localstack healthcheck %q does not wait for queue %q", ls.Healthcheck.Test, queue)
	}
	endpoint, err := url.Parse(env["AWS_ENDPOINT_URL_SQS"])
	if err != nil || endpoint.Hostname() != serviceLocalStack {
		t.Errorf("AWS_ENDPOINT_URL_SQS = %q, want the %s service", env["AWS_ENDPOINT_URL_SQS"],
			serviceLocalStack)
	}
	dep, ok := f.Services[serviceConnector].DependsOn[serviceLocalStack]
	if !ok || dep.Condition != "service_healthy" {
		t.Errorf("connector does not wait for localstack to be healthy: %+v", dep)
	}
}

// hookQueueNames reads the default queue names of the init hook and checks
// that it is executable and sets the redrive policy.
func hookQueueNames(t *testing.T) (queue, dlq string) {
	t.Helper()
	file := filepath.Join(repoRoot, initHook)
	info, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode()&0o111 == 0 {
		t.Errorf("%s is not executable; LocalStack skips it", initHook)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	script := string(data)
	if !strings.Contains(script, `\"maxReceiveCount\":\"5\"`) {
		t.Errorf("%s sets no redrive policy with maxReceiveCount 5", initHook)
	}
	name := func(variable string) string {
		m := regexp.MustCompile(`\$\{` + variable + `:-([^}]+)\}`).FindStringSubmatch(script)
		if m == nil {
			t.Fatalf("%s has no default for %s", initHook, variable)
		}
		return m[1]
	}
	return name("SUMMARY_QUEUE_NAME"), name("SUMMARY_DLQ_NAME")
}

func TestDockerfile(t *testing.T) {
	dockerfile := readRepoFile(t, "Dockerfile")
	goMod := readRepoFile(t, "go.mod")
	goVersion := submatch(`(?m)^go (\S+)$`, goMod)
	builder := submatch(`(?m)^FROM golang:(\S+) AS build$`, dockerfile)
	if goVersion == "" || builder != goVersion {
		t.Errorf("build stage FROM golang:%q AS build does not match go.mod's go %q",
			builder, goVersion)
	}
	for _, want := range []string{
		"CGO_ENABLED=0 go build -trimpath -ldflags \"-s -w\"",
		"./cmd/connector",
		"FROM gcr.io/distroless/static-debian12:nonroot",
		"USER nonroot",
		`ENTRYPOINT ["/connector"]`,
		`CMD ["run"]`,
	} {
		if !strings.Contains(dockerfile, want) {
			t.Errorf("Dockerfile lacks %s", want)
		}
	}

	ignored := strings.Fields(readRepoFile(t, ".dockerignore"))
	for _, want := range []string{".git", ".cache", "bin", "tools/fauxqs/node_modules"} {
		if !slices.Contains(ignored, want) {
			t.Errorf(".dockerignore does not leave out %s", want)
		}
	}
}

// submatch returns the first group of pattern's first match in s, or "".
func submatch(pattern, s string) string {
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[1]
}

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
