package testenv

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// MinIO is a real MinIO server started for one test.
type MinIO struct {
	Endpoint  string // host:port
	URL       string // http://host:port
	AccessKey string
	SecretKey string
	DataDir   string
	Proc      *Process
	bin       string
	env       []string
}

// MinIOBinary returns the path of the minio server binary (IMGATE_MINIO_BIN,
// PATH, or the CI cache at ~/.cache/imgate-ci/bin/minio), or calls Missing.
func MinIOBinary(t testing.TB) string {
	t.Helper()
	home, _ := os.UserHomeDir()
	cands := []string{}
	if p := os.Getenv("IMGATE_MINIO_BIN"); p != "" {
		cands = append(cands, p)
	}
	cands = append(cands, "minio", filepath.Join(home, ".cache", "imgate-ci", "bin", "minio"))
	return Tool(t, cands...)
}

// StartMinIO starts a fresh MinIO server on a free loopback port with its own
// data directory, and waits until it is ready. extraEnv adds settings such as
// MINIO_NOTIFY_WEBHOOK_*. It is stopped when the test ends.
func StartMinIO(t testing.TB, extraEnv ...string) *MinIO {
	t.Helper()
	m := &MinIO{
		bin:       MinIOBinary(t),
		Endpoint:  FreeAddr(t),
		AccessKey: "imgatetest" + RandomHex(4),
		SecretKey: RandomHex(16),
		DataDir:   t.TempDir(),
	}
	m.URL = "http://" + m.Endpoint
	m.env = append([]string{
		"MINIO_ROOT_USER=" + m.AccessKey,
		"MINIO_ROOT_PASSWORD=" + m.SecretKey,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		// MinIO answers ready before it has loaded its buckets' notification
		// rules; a rule set in that gap is overwritten by the load and its
		// events are never sent. Sync boot holds S3 calls until the load is done.
		"MINIO_SYNC_BOOT=on",
	}, extraEnv...)
	m.Start(t)
	return m
}

// Start (re)starts the server process on the same address and data.
func (m *MinIO) Start(t testing.TB) {
	t.Helper()
	m.Proc = Start(t, m.env, m.bin, "server", m.DataDir, "--address", m.Endpoint,
		"--console-address", FreeAddr(t), "--quiet")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := WaitHTTP(ctx, m.URL+"/minio/health/ready", 60*time.Second); err != nil {
		t.Fatalf("minio: %v\n%s", err, m.Proc.Output())
	}
}

// Stop kills the server (the data directory stays).
func (m *MinIO) Stop() {
	if m.Proc != nil && m.Proc.Cmd.ProcessState == nil {
		_ = m.Proc.Cmd.Process.Kill()
		_ = m.Proc.Cmd.Wait()
	}
}
