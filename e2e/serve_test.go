package e2e

import (
	"bytes"
	"context"
	"io"
	"net/http"
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

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeEmbeddedDefault: serve on the embedded default answers health,
// readiness and metrics, and stops gracefully on SIGTERM.
func TestServeEmbeddedDefault(t *testing.T) {
	srv := startServe(t, serveOptions{})
	if code, body := get(t, srv.URL+"/healthz"); code != 200 {
		t.Fatalf("/healthz = %d %s", code, body)
	}
	code, body := get(t, srv.URL+"/readyz")
	if code != 200 || !strings.Contains(body, `"storage":"ok"`) || !strings.Contains(body, `"jobs":"ok"`) {
		t.Fatalf("/readyz = %d %s", code, body)
	}
	// An anonymous S3 request is refused, and counted.
	if code, body := get(t, srv.URL+"/"+srv.Original()+"/x.jpg"); code != http.StatusForbidden || !strings.Contains(body, "<Code>AccessDenied</Code>") {
		t.Fatalf("anonymous GET = %d %s, want 403 AccessDenied", code, body)
	}
	code, body = get(t, srv.URL+"/metrics")
	if code != 200 || !strings.Contains(body, `imgate_http_requests_total{code="4xx",route="s3"} 1`) ||
		!strings.Contains(body, "imgate_jobs_queue_depth") || !strings.Contains(body, "go_goroutines") {
		t.Fatalf("/metrics = %d, missing imgate or Go metrics:\n%.2000s", code, body)
	}
	// Both buckets were created on the fs backend.
	mc, err := minio.New(srv.Addr, &minio.Options{Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, ""), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	buckets, err := mc.ListBuckets(context.Background())
	if err != nil {
		t.Fatalf("ListBuckets: %v", err)
	}
	if len(buckets) != 2 || buckets[0].Name != srv.Original() || buckets[1].Name != srv.Resized() {
		t.Fatalf("buckets = %+v, want %s and %s", buckets, srv.Original(), srv.Resized())
	}
	if err := srv.Stop(t); err != nil {
		t.Fatalf("graceful stop: exit %v\n%s", err, srv.Proc.Output())
	}
	if !strings.Contains(srv.Proc.Output(), "imgate stopped") {
		t.Fatalf("no clean-stop log line:\n%s", srv.Proc.Output())
	}
}

// TestServeGeneratesSecretsOnce: with no credentials in the environment,
// serve generates them, stores them 0600 in the data dir, prints them once,
// and reuses them on the next start.
func TestServeGeneratesSecretsOnce(t *testing.T) {
	bin := testenv.ImgateBinary(t)
	data := t.TempDir()
	addr := testenv.FreeAddr(t)
	start := func() *testenv.Process {
		p := testenv.Start(t, cleanEnv(), bin, "serve", "--listen", addr, "--data", data)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if err := testenv.WaitHTTP(ctx, "http://"+addr+"/readyz", 60*time.Second); err != nil {
			t.Fatalf("not ready: %v\n%s", err, p.Output())
		}
		return p
	}
	p := start()
	out := waitOutput(p, "IMGATE_ADMIN_TOKEN=")
	if !strings.Contains(out, "IMGATE_SECRET_KEY=") || !strings.Contains(out, "IMGATE_ADMIN_TOKEN=") {
		t.Fatalf("generated credentials not printed on first start:\n%s", out)
	}
	st, err := os.Stat(filepath.Join(data, "secrets.json"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("secrets.json mode %v, want 0600", st.Mode().Perm())
	}
	_ = p.Cmd.Process.Kill()
	_ = p.Cmd.Wait()
	p2 := start()
	if out := waitOutput(p2, "imgate listening"); strings.Contains(out, "IMGATE_SECRET_KEY=") || !strings.Contains(out, "imgate listening") {
		t.Fatalf("credentials printed again on second start:\n%s", p2.Output())
	}
}

// waitOutput waits (up to 10 s) until the process has printed want — its
// output reaches the test through a pipe, after it answers HTTP — and
// returns the output so far.
func waitOutput(p *testenv.Process, want string) string {
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.Output(), want) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	return p.Output()
}

// cleanEnv is the environment without any IMGATE_* secret the developer may have set.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "IMGATE_") && !strings.HasPrefix(kv, "IMGATE_BIN=") {
			k, _, _ := strings.Cut(kv, "=")
			env = append(env, k+"=")
		}
	}
	return env
}

// TestServeInvalidSettings: every invalid setting is reported at once, exit code 2.
func TestServeInvalidSettings(t *testing.T) {
	bin := testenv.ImgateBinary(t)
	cfg := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(cfg, []byte(`{"workers": "many", "bogus": 1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--storage", "nfs", "--log-format", "xml", "--config", cfg, "--max-upload-bytes", "0")
	cmd.Env = append(os.Environ(), "IMGATE_JOB_TIMEOUT=soon")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 2 {
		t.Fatalf("exit = %v, want code 2; stderr:\n%s", err, stderr.String())
	}
	// The flag/env/file problems come together in one report.
	for _, want := range []string{"IMGATE_JOB_TIMEOUT", `unknown setting "bogus"`, "workers"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr does not mention %q:\n%s", want, stderr.String())
		}
	}
	// With valid parse, the semantic checks are also reported together.
	cmd = exec.Command(bin, "serve", "--storage", "nfs", "--log-format", "xml", "--max-upload-bytes", "0")
	stderr.Reset()
	cmd.Stderr = &stderr
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Fatalf("exit = %v, want 2", err)
	}
	for _, want := range []string{"--storage", "--log-format", "--max-upload-bytes"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr does not mention %q:\n%s", want, stderr.String())
		}
	}
}

// TestHelp: imgate --help and every subcommand's --help describe the flags.
func TestHelp(t *testing.T) {
	bin := testenv.ImgateBinary(t)
	out, err := exec.Command(bin, "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("imgate --help: %v\n%s", err, out)
	}
	for _, sub := range []string{"serve", "resize", "admin", "version"} {
		if !strings.Contains(string(out), sub) {
			t.Errorf("imgate --help does not list %q", sub)
		}
		o, err := exec.Command(bin, sub, "--help").CombinedOutput()
		if err != nil {
			t.Errorf("imgate %s --help: %v\n%s", sub, err, o)
		}
		if !strings.Contains(string(o), "Usage: imgate "+sub) {
			t.Errorf("imgate %s --help has no usage line:\n%s", sub, o)
		}
	}
	o, _ := exec.Command(bin, "serve", "--help").CombinedOutput()
	for _, flag := range []string{"-listen", "-data", "-bucket", "-storage", "-s3-endpoint", "-database", "-workers", "-max-upload-bytes"} {
		if !strings.Contains(string(o), flag) {
			t.Errorf("serve --help lacks %s", flag)
		}
	}
}
