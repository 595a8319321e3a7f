package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/imgate/imgate/internal/testenv"
)

// stackTools are the real programs that stand in for the images' files.
type stackTools struct {
	minio, mc, imgate string
}

func findStackTools(t *testing.T) stackTools {
	t.Helper()
	home, _ := os.UserHomeDir()
	return stackTools{
		minio:  testenv.MinIOBinary(t),
		mc:     testenv.Tool(t, "mc", filepath.Join(home, ".cache", "imgate-ci", "bin", "mc")),
		imgate: testenv.ImgateBinary(t),
	}
}

// path is a PATH holding the tools first, then the system's directories.
func (st stackTools) path() string {
	dirs := []string{filepath.Dir(st.mc), filepath.Dir(st.minio), filepath.Dir(st.imgate)}
	if g, err := exec.LookPath("go"); err == nil {
		dirs = append(dirs, filepath.Dir(g))
	}
	return strings.Join(append(dirs, "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"), ":")
}

// container is one compose service run as a plain process: the image's
// files are the local tools, each named volume a fresh directory, HOME a
// fresh directory (a new container's).
type container struct {
	name    string
	env     []string
	volumes map[string]string // path in the container → local directory
	tools   stackTools
}

func newContainer(t *testing.T, name string, s *composeService, tools stackTools) *container {
	t.Helper()
	c := &container{name: name, tools: tools, volumes: map[string]string{}}
	for _, v := range s.Volumes {
		_, target, ok := strings.Cut(v, ":")
		if !ok {
			t.Fatalf("%s: volume %q without a target", name, v)
		}
		c.volumes[target] = t.TempDir()
	}
	c.env = []string{"PATH=" + tools.path(), "HOME=" + t.TempDir()}
	for k, v := range s.Environment {
		c.env = append(c.env, k+"="+c.local(v))
	}
	return c
}

// local maps a path inside the container to the local one: a volume target
// to its directory, an image's executable to the local tool.
func (c *container) local(s string) string {
	for target, dir := range c.volumes {
		if s == target || strings.HasPrefix(s, target+"/") {
			return dir + strings.TrimPrefix(s, target)
		}
	}
	switch s {
	case "/usr/local/bin/minio":
		return c.tools.minio
	case "/usr/local/bin/mc":
		return c.tools.mc
	case "/usr/local/bin/imgate":
		return c.tools.imgate
	}
	return s
}

func (c *container) argv(argv []string) []string {
	args := make([]string, len(argv))
	for i, a := range argv {
		args[i] = c.local(a)
	}
	return args
}

func (c *container) cmd(ctx context.Context, argv []string) *exec.Cmd {
	args := c.argv(argv)
	if !strings.Contains(args[0], "/") { // looked up on the container's PATH, not the test's
		for _, dir := range filepath.SplitList(c.tools.path()) {
			if st, err := os.Stat(filepath.Join(dir, args[0])); err == nil && st.Mode()&0o111 != 0 {
				args[0] = filepath.Join(dir, args[0])
				break
			}
		}
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = c.env
	return cmd
}

// start runs a long-running service with exactly the container's
// environment (env -i), nothing inherited from the test.
func (c *container) start(t *testing.T, argv []string) *testenv.Process {
	t.Helper()
	args := append(append([]string{"-i"}, c.env...), c.argv(argv)...)
	return testenv.Start(t, nil, "/usr/bin/env", args...)
}

// healthy runs the service's healthcheck the way the engine does (in the
// container, every interval, up to retries times) until it exits 0.
func (c *container) healthy(t *testing.T, hc *composeHealthcheck, proc *testenv.Process) {
	t.Helper()
	interval, err := time.ParseDuration(hc.Interval)
	if err != nil {
		t.Fatalf("%s: healthcheck interval %q: %v", c.name, hc.Interval, err)
	}
	timeout := 30 * time.Second // the engine's default
	if hc.Timeout != "" {
		if timeout, err = time.ParseDuration(hc.Timeout); err != nil {
			t.Fatalf("%s: healthcheck timeout %q: %v", c.name, hc.Timeout, err)
		}
	}
	var last []byte
	for range hc.Retries {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		out, err := c.cmd(ctx, hc.Test[1:]).CombinedOutput()
		cancel()
		if err == nil {
			t.Logf("%s: healthy (%v)", c.name, hc.Test[1:])
			return
		}
		out = fmt.Appendf(out, " (%v)", err)
		if proc != nil && proc.Cmd.ProcessState != nil {
			break
		}
		last = out
		time.Sleep(interval)
	}
	t.Fatalf("%s: healthcheck %v never passed; last output: %s", c.name, hc.Test[1:], last)
}

// runComposeAsProcesses starts the services in depends_on order, honouring
// service_healthy and service_completed_successfully, and returns the
// long-running ones.
func runComposeAsProcesses(t *testing.T, cf *composeFile, tools stackTools) map[string]*testenv.Process {
	t.Helper()
	procs := map[string]*testenv.Process{}
	done := map[string]bool{}
	for len(done) < len(cf.Services) {
		progressed := false
		for name, s := range cf.Services {
			if done[name] || !depsMet(s, done) {
				continue
			}
			d := s.dockerfile(t)
			argv := append(append([]string{}, d.Entrypoint...), d.Cmd...)
			if s.Entrypoint != nil || s.Command != nil {
				entry := d.Entrypoint
				if s.Entrypoint != nil {
					entry = s.Entrypoint
				}
				argv = append(append([]string{}, entry...), s.Command...)
			}
			c := newContainer(t, name, s, tools)
			if s.Healthcheck == nil {
				runToCompletion(t, c, argv)
			} else {
				p := c.start(t, argv)
				c.healthy(t, s.Healthcheck, p)
				procs[name] = p
			}
			done[name], progressed = true, true
		}
		if !progressed {
			t.Fatalf("docker-compose.yml: depends_on cannot be satisfied (started %v)", done)
		}
	}
	return procs
}

func depsMet(s *composeService, done map[string]bool) bool {
	for dep := range s.DependsOn {
		if !done[dep] {
			return false
		}
	}
	return true
}

// runToCompletion runs a one-shot service (minio-setup); it must exit 0.
func runToCompletion(t *testing.T, c *container, argv []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := c.cmd(ctx, argv).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v: %v\n%s", c.name, argv, err, out)
	}
	t.Logf("%s completed:\n%s", c.name, out)
}

// stackEndpoints are what a user of the stack is told: where MinIO and
// imgate listen and with which keys.
type stackEndpoints struct {
	minio, imgate              string // host:port
	minioUser, minioPassword   string
	imgateAccess, imgateSecret string
	bucket                     string
}

func composeEndpoints(t *testing.T, cf *composeFile) stackEndpoints {
	t.Helper()
	m, g := cf.Services["minio"], cf.Services["imgate"]
	return stackEndpoints{
		minio: "127.0.0.1:" + containerPort(t, m), imgate: "127.0.0.1:" + containerPort(t, g),
		minioUser: m.Environment["MINIO_ROOT_USER"], minioPassword: m.Environment["MINIO_ROOT_PASSWORD"],
		imgateAccess: g.Environment["IMGATE_ACCESS_KEY"], imgateSecret: g.Environment["IMGATE_SECRET_KEY"],
		bucket: g.Environment["IMGATE_BUCKET"],
	}
}

// containerPort is the container side of a service's first published port.
func containerPort(t *testing.T, s *composeService) string {
	t.Helper()
	if len(s.Ports) == 0 {
		t.Fatalf("service publishes no port")
	}
	p := s.Ports[0]
	return p[strings.LastIndex(p, ":")+1:]
}

func s3Client(t testing.TB, endpoint, access, secret string) *minio.Client {
	t.Helper()
	cl, err := minio.New(endpoint, &minio.Options{Creds: credentials.NewStaticV4(access, secret, ""), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// checkStack uploads once straight into MinIO (the webhook must bring the
// object to imgate) and once through imgate; both get their variants.
func checkStack(t *testing.T, e stackEndpoints, prefix string) {
	t.Helper()
	ctx := context.Background()
	direct := s3Client(t, e.minio, e.minioUser, e.minioPassword)
	gw := s3Client(t, e.imgate, e.imgateAccess, e.imgateSecret)
	img := genJPEG(t, genW, genH, 7)
	put := func(cl *minio.Client, key string) {
		if _, err := cl.PutObject(ctx, e.bucket+"-original", key, bytes.NewReader(img), int64(len(img)),
			minio.PutObjectOptions{ContentType: "image/jpeg"}); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
	}
	put(direct, prefix+"/straight-into-minio.jpg")
	took := waitVariants(t, direct, e.bucket+"-resized", wantsGen(prefix+"/straight-into-minio.jpg"), 90*time.Second)
	t.Logf("PUT straight into MinIO → variants through the webhook in %s", took.Round(time.Millisecond))
	put(gw, prefix+"/through-imgate.jpg")
	took = waitVariants(t, direct, e.bucket+"-resized", wantsGen(prefix+"/through-imgate.jpg"), 90*time.Second)
	t.Logf("PUT through imgate → variants in %s", took.Round(time.Millisecond))
}

// TestLocalMinIOStack runs docker-compose.yml's services as plain processes
// (the commands, entrypoints and environment the file and the Dockerfiles
// give, with the local builds of MinIO, mc and imgate in place of the
// images, service names resolving to loopback) and then scripts/dev.sh; each
// time an object PUT straight into MinIO and one uploaded through imgate
// must get their variants. It runs in a private network namespace, so the
// fixed ports of the file are free.
func TestLocalMinIOStack(t *testing.T) {
	tools := findStackTools(t)
	if !isolatedNetwork(t, "minio", "imgate") {
		return
	}
	cf := readCompose(t)
	t.Run("compose", func(t *testing.T) {
		procs := runComposeAsProcesses(t, cf, tools)
		checkStack(t, composeEndpoints(t, cf), "compose")
		for name, p := range procs {
			_ = p.Cmd.Process.Kill()
			_ = p.Cmd.Wait()
			t.Logf("stopped %s", name)
		}
	})
	t.Run("dev.sh", func(t *testing.T) { testDevScript(t, cf, tools) })
}
