// Package e2e holds end-to-end tests: they start the real imgate binary (and
// a real MinIO, PostgreSQL and S3 clients where a test needs them) and talk to
// it over HTTP exactly as users do.
package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imgate/imgate/internal/testenv"
)

// serveOptions configure startServe. The zero value runs on the embedded
// default (fs storage + SQLite under a fresh data dir).
type serveOptions struct {
	MinIO    *testenv.MinIO // non-nil: --storage s3 against this server
	Database string         // postgres:// DSN; empty for SQLite
	DataDir  string         // reuse a data dir (e.g. a second node); empty for a fresh one
	Bucket   string         // default "imgate"
	Listen   string         // default a free loopback port
	Env      []string       // extra environment
	Args     []string       // extra flags
	// Secrets, shared by several nodes of one cluster; generated when empty.
	AccessKey, SecretKey, AdminToken, APIKey, EventsToken, TokenSecret string
}

// server is a running `imgate serve`.
type server struct {
	URL, Addr                                                          string
	AccessKey, SecretKey, AdminToken, APIKey, EventsToken, TokenSecret string
	DataDir, Bucket                                                    string
	Proc                                                               *testenv.Process
	opts                                                               serveOptions
}

func (s *server) Original() string { return s.Bucket + "-original" }
func (s *server) Resized() string  { return s.Bucket + "-resized" }

func orRandom(v, prefix string, n int) string {
	if v != "" {
		return v
	}
	return prefix + testenv.RandomHex(n)
}

// startServe starts imgate serve and waits until /readyz answers 200.
func startServe(t testing.TB, o serveOptions) *server {
	t.Helper()
	if o.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	if o.Bucket == "" {
		o.Bucket = "imgate"
	}
	if o.Listen == "" {
		o.Listen = testenv.FreeAddr(t)
	}
	o.AccessKey = orRandom(o.AccessKey, "AKTEST", 6)
	o.SecretKey = orRandom(o.SecretKey, "", 16)
	o.AdminToken = orRandom(o.AdminToken, "adm_", 12)
	o.APIKey = orRandom(o.APIKey, "key_", 12)
	o.EventsToken = orRandom(o.EventsToken, "evt_", 12)
	o.TokenSecret = orRandom(o.TokenSecret, "", 24)
	s := &server{
		URL: "http://" + o.Listen, Addr: o.Listen,
		AccessKey: o.AccessKey, SecretKey: o.SecretKey, AdminToken: o.AdminToken, APIKey: o.APIKey,
		EventsToken: o.EventsToken, TokenSecret: o.TokenSecret, DataDir: o.DataDir, Bucket: o.Bucket, opts: o,
	}
	s.start(t)
	return s
}

func (s *server) start(t testing.TB) {
	t.Helper()
	o := s.opts
	env := []string{
		"IMGATE_ACCESS_KEY=" + o.AccessKey, "IMGATE_SECRET_KEY=" + o.SecretKey,
		"IMGATE_ADMIN_TOKEN=" + o.AdminToken, "IMGATE_API_KEY=" + o.APIKey,
		"IMGATE_EVENTS_TOKEN=" + o.EventsToken, "IMGATE_TOKEN_SECRET=" + o.TokenSecret,
	}
	env = append(env, o.Env...)
	args := []string{"serve", "--listen", o.Listen, "--data", o.DataDir, "--bucket", o.Bucket, "--log-level", "debug"}
	if o.MinIO != nil {
		args = append(args, "--storage", "s3", "--s3-endpoint", o.MinIO.Endpoint,
			"--s3-access-key", o.MinIO.AccessKey, "--s3-secret-key", o.MinIO.SecretKey)
	}
	if o.Database != "" {
		args = append(args, "--database", o.Database)
	}
	args = append(args, o.Args...)
	s.Proc = testenv.Start(t, env, testenv.ImgateBinary(t), args...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := testenv.WaitHTTP(ctx, s.URL+"/readyz", 60*time.Second); err != nil {
		t.Fatalf("imgate serve not ready: %v\n%s", err, s.Proc.Output())
	}
}

// PID is the server's process id.
func (s *server) PID() int { return s.Proc.Cmd.Process.Pid }

// Kill stops the server with SIGKILL, as a crash would.
func (s *server) Kill() {
	if s.Proc.Cmd.ProcessState == nil {
		_ = s.Proc.Cmd.Process.Kill()
		_ = s.Proc.Cmd.Wait()
	}
}

// Stop asks the server to shut down gracefully (SIGTERM) and waits.
func (s *server) Stop(t testing.TB) error {
	t.Helper()
	if s.Proc.Cmd.ProcessState != nil {
		return nil
	}
	_ = s.Proc.Cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.Proc.Cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(60 * time.Second):
		s.Kill()
		t.Fatalf("imgate did not stop within 60 s of SIGTERM")
		return nil
	}
}

// Restart starts the server again on the same address, data and secrets.
func (s *server) Restart(t testing.TB) {
	t.Helper()
	s.Kill()
	s.start(t)
}

// VmHWM returns the peak resident set size of the server in bytes (Linux).
func (s *server) VmHWM(t testing.TB) int64 {
	t.Helper()
	return procStatusKB(t, s.PID(), "VmHWM") * 1024
}

func procStatusKB(t testing.TB, pid int, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/proc", itoa(pid), "status"))
	if err != nil {
		t.Fatalf("read /proc status: %v", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			var kb int64
			for _, c := range strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")) {
				if c >= '0' && c <= '9' {
					kb = kb*10 + int64(c-'0')
				}
			}
			return kb
		}
	}
	t.Fatalf("%s not in /proc/%d/status", field, pid)
	return 0
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

// awsEnv returns the environment and config for /usr/bin/aws (aws-cli v2)
// against this server, as in the project's CI recipes: defaults plus
// endpoint, credentials and path-style addressing.
func (s *server) awsEnv(t testing.TB) []string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "aws-config")
	err := os.WriteFile(cfg, []byte("[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n    signature_version = s3v4\n    multipart_threshold = 8MB\n    multipart_chunksize = 8MB\n"), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	return []string{
		"AWS_ACCESS_KEY_ID=" + s.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s.SecretKey,
		"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=" + cfg,
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=",
	}
}

// aws runs /usr/bin/aws (aws-cli v2) against this server and returns its
// combined output.
func (s *server) aws(t testing.TB, args ...string) (string, error) {
	t.Helper()
	bin := testenv.Tool(t, "/usr/bin/aws")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--endpoint-url", s.URL}, args...)...)
	cmd.Env = append(os.Environ(), s.awsEnv(t)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
