// Package testenv finds and starts the real servers and clients that the
// integration tests need: a MinIO server, the imgate binary, S3 CLI clients,
// PostgreSQL and the shared image corpus.
//
// A test that cannot find what it needs is skipped on a developer's machine
// but fails when CI=true, so CI can never go green by skipping.
package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// InCI reports whether the tests run under CI (CI=true).
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing skips the test locally, or fails it under CI, because something it
// needs is not available.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("required under CI=true: %s", msg)
	}
	t.Skipf("skipped (not under CI): %s", msg)
}

// Tool returns the absolute path of an executable, or calls Missing.
// Candidates are tried in order; each may be a name on PATH or a path.
func Tool(t testing.TB, candidates ...string) string {
	t.Helper()
	for _, c := range candidates {
		if strings.Contains(c, "/") {
			if st, err := os.Stat(c); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
				return c
			}
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	Missing(t, "none of %v found", candidates)
	return ""
}

// RepoRoot returns the repository root (the directory holding go.mod).
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Corpus returns the shared image corpus directory (IMGATE_CORPUS, or
// ../shared/corpus beside the repository), or calls Missing.
func Corpus(t testing.TB) string {
	t.Helper()
	dirs := []string{os.Getenv("IMGATE_CORPUS"), filepath.Join(RepoRoot(t), "..", "shared", "corpus")}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "MANIFEST.tsv")); err == nil {
			return d
		}
	}
	Missing(t, "image corpus not found (set IMGATE_CORPUS or place it at ../shared/corpus)")
	return ""
}

// CorpusImages returns the paths of the good images of the corpus (not malformed/).
func CorpusImages(t testing.TB) []string {
	t.Helper()
	dir := Corpus(t)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.Type().IsRegular() && (ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".gif") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out
}

// FreeAddr returns a free 127.0.0.1:PORT address.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// RandomHex returns n random bytes as hex.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// ImgateBinary returns the path of an imgate binary: IMGATE_BIN if set, else
// one built from this checkout once per test process.
func ImgateBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("IMGATE_BIN"); p != "" {
		return p
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "imgate-bin-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "imgate")
		cmd := exec.Command("go", "build", "-tags", "nodynamic", "-o", buildPath, "./cmd/imgate")
		cmd.Dir = RepoRoot(t)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// WaitHTTP polls url until it answers 200 or the timeout passes.
func WaitHTTP(ctx context.Context, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Errorf("status %d", resp.StatusCode)
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s not ready after %s: %v", url, timeout, last)
}

// Process is a started child process whose output is kept for failure reports.
type Process struct {
	Cmd *exec.Cmd
	out *syncBuffer
}

// Output returns what the process printed so far (stdout and stderr).
func (p *Process) Output() string { return p.out.String() }

// Start starts a command with extra environment, logging its output if the test fails.
// The process is killed when the test ends.
func Start(t testing.TB, env []string, name string, args ...string) *Process {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	buf := &syncBuffer{}
	cmd.Stdout = buf
	cmd.Stderr = buf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &Process{Cmd: cmd, out: buf}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		if t.Failed() {
			t.Logf("output of %s:\n%s", filepath.Base(name), tail(buf.String(), 8000))
		}
	})
	return p
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
