package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/imgate/imgate/internal/testenv"
)

// composeFile is the part of docker-compose.yml the tests read.
type composeFile struct {
	Services map[string]*composeService `yaml:"services"`
}

type composeService struct {
	Build       composeBuild                 `yaml:"build"`
	Image       string                       `yaml:"image"`
	Entrypoint  words                        `yaml:"entrypoint"`
	Command     words                        `yaml:"command"`
	Environment map[string]string            `yaml:"environment"`
	Volumes     []string                     `yaml:"volumes"`
	Ports       []string                     `yaml:"ports"`
	DependsOn   map[string]composeDependency `yaml:"depends_on"`
	Healthcheck *composeHealthcheck          `yaml:"healthcheck"`
}

type composeDependency struct {
	Condition string `yaml:"condition"`
}

type composeHealthcheck struct {
	Test     []string `yaml:"test"`
	Interval string   `yaml:"interval"`
	Timeout  string   `yaml:"timeout"`
	Retries  int      `yaml:"retries"`
}

// words is a command in either compose form: a list, or a string split
// into words (compose splits it like a shell; the file uses no quoting).
type words []string

func (w *words) UnmarshalYAML(n *yaml.Node) error {
	var l []string
	if n.Kind == yaml.ScalarNode {
		l = strings.Fields(n.Value)
	} else if err := n.Decode(&l); err != nil {
		return fmt.Errorf("command: %w", err)
	}
	for i, s := range l {
		v, err := interpolate(s)
		if err != nil {
			return fmt.Errorf("command: %w", err)
		}
		l[i] = v
	}
	*w = l
	return nil
}

// interpolate does what compose does to a value: "$$" is a literal "$".
// Any other "$" would be filled from the user's shell environment, which
// this file must not depend on, so it is an error here.
func interpolate(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '$' {
			b.WriteByte('$')
			i++
			continue
		}
		return "", fmt.Errorf("%q: compose would substitute a variable from the host environment (write $$ for a literal $)", s)
	}
	return b.String(), nil
}

// composeBuild is `build: DIR` or `build: {context, dockerfile}`.
type composeBuild struct {
	Context, Dockerfile string
}

func (b *composeBuild) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		b.Context = n.Value
		return nil
	}
	var m struct {
		Context    string `yaml:"context"`
		Dockerfile string `yaml:"dockerfile"`
	}
	if err := n.Decode(&m); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	b.Context, b.Dockerfile = m.Context, m.Dockerfile
	return nil
}

func readCompose(t testing.TB) *composeFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cf composeFile
	if err := yaml.Unmarshal(b, &cf); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	for _, name := range []string{"minio", "minio-setup", "imgate"} {
		if cf.Services[name] == nil {
			t.Fatalf("docker-compose.yml has no service %q", name)
		}
	}
	return &cf
}

// dockerfile is what the tests know of an image built from the repository:
// its base images, and the final stage's files, entrypoint and command.
type dockerfile struct {
	Path       string
	From       []string          // every FROM image
	Final      string            // the final stage's base image
	Files      []string          // paths COPYed into the final stage
	Entrypoint []string          // exec form
	Cmd        []string          // exec form
	Args       map[string]string // ARG defaults
}

func (s *composeService) dockerfile(t testing.TB) *dockerfile {
	t.Helper()
	if s.Build.Context == "" {
		return nil
	}
	name := s.Build.Dockerfile
	if name == "" {
		name = "Dockerfile"
	}
	p := filepath.Join(testenv.RepoRoot(t), s.Build.Context, name)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	d := &dockerfile{Path: p, Args: map[string]string{}}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || strings.HasPrefix(f[0], "#") {
			continue
		}
		rest := strings.TrimSpace(line[len(f[0]):])
		switch strings.ToUpper(f[0]) {
		case "FROM":
			d.From = append(d.From, f[1])
			d.Final, d.Files, d.Entrypoint, d.Cmd = f[1], nil, nil, nil
		case "COPY":
			d.Files = append(d.Files, f[len(f)-1])
		case "ENTRYPOINT":
			d.Entrypoint = execForm(t, p, rest)
		case "CMD":
			d.Cmd = execForm(t, p, rest)
		case "ARG":
			if k, v, ok := strings.Cut(f[1], "="); ok {
				d.Args[k] = v
			}
		}
	}
	return d
}

func execForm(t testing.TB, file, s string) []string {
	t.Helper()
	var v []string
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%s: %q is not in exec (JSON) form: %v", file, s, err)
	}
	return v
}

// provides reports whether the image has the executable a command names: an
// absolute path COPYed into the final stage, a bare name COPYed into a
// directory on the default PATH, or a shell from a base image that has one.
func (d *dockerfile) provides(exe string) bool {
	if exe == "/bin/sh" {
		return !strings.Contains(d.Final, "distroless") && d.Final != "scratch"
	}
	for _, f := range d.Files {
		if f == exe {
			return true
		}
		if !strings.Contains(exe, "/") && filepath.Base(f) == exe &&
			slices.Contains([]string{"/usr/local/bin", "/usr/bin", "/bin"}, filepath.Dir(f)) {
			return true
		}
	}
	return false
}

var pinnedTag = regexp.MustCompile(`^[^:@]+(:[A-Za-z0-9_][A-Za-z0-9_.-]*|@sha256:[0-9a-f]{64})$`)

// imagePinned reports whether an image reference names a tag other than
// latest, or a digest.
func imagePinned(ref string) bool {
	last := ref[strings.LastIndex(ref, "/")+1:]
	return pinnedTag.MatchString(last) && !strings.HasSuffix(last, ":latest")
}

func TestImagePinned(t *testing.T) {
	tests := []struct {
		ref  string
		want bool
	}{
		{"minio/minio:latest", false},
		{"minio/minio", false},
		{"gcr.io/distroless/static-debian12", false},
		{"localhost:5000/x", false},
		{"golang:1.26.8-bookworm", true},
		{"gcr.io/distroless/static-debian12:nonroot", true},
		{"localhost:5000/x:v1", true},
		{"debian@sha256:" + strings.Repeat("ab", 32), true},
		{"imgate-minio:v0.0.0-20260212201848-7aac2a2c5b7c", true},
	}
	for _, tt := range tests {
		if got := imagePinned(tt.ref); got != tt.want {
			t.Errorf("imagePinned(%q) = %v, want %v", tt.ref, got, tt.want)
		}
	}
}

// pinnedVersion reads NAME=VALUE from scripts/test.sh.
func pinnedVersion(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "scripts", "test.sh"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^` + name + `=(\S+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("scripts/test.sh sets no %s", name)
	}
	return string(m[1])
}

// TestComposeFile checks what can be checked without a Docker engine: images
// pinned, the MinIO build at the versions the tests use, every healthcheck
// and entrypoint runnable in the image it runs in, and (where the compose
// tool exists) `docker compose config -q`.
func TestComposeFile(t *testing.T) {
	cf := readCompose(t)
	for name, s := range cf.Services {
		d := s.dockerfile(t)
		if s.Image == "" && d == nil {
			t.Errorf("%s: neither image nor build", name)
		}
		if s.Image != "" && !imagePinned(s.Image) {
			t.Errorf("%s: image %q is not pinned to a tag or digest (and not :latest)", name, s.Image)
		}
		if d == nil {
			t.Errorf("%s: image %q is not built from this repository, so nothing here knows what it contains", name, s.Image)
			continue
		}
		for _, from := range d.From {
			if !imagePinned(from) {
				t.Errorf("%s: %s: FROM %q is not pinned", name, d.Path, from)
			}
		}
		exe := d.Entrypoint
		if s.Entrypoint != nil {
			exe = s.Entrypoint
		}
		if len(exe) == 0 || !d.provides(exe[0]) {
			t.Errorf("%s: entrypoint %v is not in the image (%s copies %v onto %s)", name, exe, d.Path, d.Files, d.Final)
		}
		if hc := s.Healthcheck; hc != nil {
			if len(hc.Test) < 2 || hc.Test[0] != "CMD" {
				t.Errorf("%s: healthcheck %v: want the exec form [\"CMD\", …]", name, hc.Test)
			} else if !d.provides(hc.Test[1]) {
				t.Errorf("%s: healthcheck runs %q, which the image does not have (%s copies %v onto %s)", name, hc.Test[1], d.Path, d.Files, d.Final)
			}
		}
	}
	minio := cf.Services["minio"]
	if minio.Healthcheck == nil || slices.ContainsFunc(minio.Healthcheck.Test, func(s string) bool { return strings.Contains(s, "curl") }) {
		t.Errorf("minio: healthcheck %v: the MinIO image has no curl; use mc ready local", minio.Healthcheck)
	}
	for _, dep := range []string{"minio-setup", "imgate"} {
		if len(cf.Services[dep].DependsOn) == 0 {
			t.Errorf("%s: depends on nothing; it needs MinIO up first", dep)
		}
	}
	// Without sync boot MinIO can overwrite the rule minio-setup sets with the
	// rules it loads at boot (see TestWebhookRuleSetAtBoot in gateway/storage/s3).
	if minio.Environment["MINIO_SYNC_BOOT"] != "on" {
		t.Errorf("minio: MINIO_SYNC_BOOT is %q, want on", minio.Environment["MINIO_SYNC_BOOT"])
	}
	if dev, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "scripts", "dev.sh")); err != nil {
		t.Error(err)
	} else if !strings.Contains(string(dev), "\nMINIO_SYNC_BOOT=on \\\n") {
		t.Errorf("scripts/dev.sh does not start MinIO with MINIO_SYNC_BOOT=on")
	}
	if cf.Services["imgate"].Healthcheck == nil {
		t.Errorf("imgate: no healthcheck")
	}
	md := minio.dockerfile(t)
	if md == nil {
		t.Fatalf("minio: not built from docker/minio.Dockerfile at the versions scripts/test.sh pins")
	}
	for _, v := range []string{"MINIO_VERSION", "MC_VERSION"} {
		if want := pinnedVersion(t, v); md.Args[v] != want {
			t.Errorf("%s: ARG %s=%s, scripts/test.sh pins %s", md.Path, v, md.Args[v], want)
		}
	}
	if want := pinnedVersion(t, "MINIO_VERSION"); !strings.HasSuffix(minio.Image, ":"+want) {
		t.Errorf("minio: image %q is not tagged with the MinIO version %s", minio.Image, want)
	}
	t.Run("compose config", func(t *testing.T) {
		var cmd *exec.Cmd
		if exec.Command("docker", "compose", "version").Run() == nil {
			cmd = exec.Command("docker", "compose", "config", "-q")
		} else {
			cmd = exec.Command(testenv.Tool(t, "docker-compose"), "config", "-q")
		}
		cmd.Dir = testenv.RepoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", cmd.Args, err, out)
		}
	})
}

func TestInterpolate(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"i=$$((i+1))", "i=$((i+1))"},
		{"$$$$", "$$"},
		{"$HOME", ""},
		{"${X:-y}", ""},
		{"end$", ""},
	} {
		got, err := interpolate(tc.in)
		if (err != nil) != (tc.want == "") || got != tc.want {
			t.Errorf("interpolate(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
