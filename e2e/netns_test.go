package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/internal/testenv"
)

// inNetnsEnv marks the test process started inside the namespace.
const inNetnsEnv = "IMGATE_E2E_NETNS"

// isolatedNetwork lets a top-level test use the fixed addresses the docs and
// docker-compose.yml name (127.0.0.1:8080, :9000, hosts "minio", "imgate")
// without colliding with anything else on the machine. Outside, it runs the
// same test again in a fresh user + network + mount namespace (its own
// loopback; /etc/hosts bind-mounted to map names to 127.0.0.1), reports the
// result and returns false: the caller returns. Inside, it returns true and
// the test body runs.
func isolatedNetwork(t *testing.T, names ...string) bool {
	t.Helper()
	if os.Getenv(inNetnsEnv) == "1" {
		return true
	}
	unshare := testenv.Tool(t, "unshare")
	ip := testenv.Tool(t, "ip", "/usr/sbin/ip", "/sbin/ip")
	if out, err := exec.Command(unshare, "--user", "--map-root-user", "--net", "--mount", "true").CombinedOutput(); err != nil {
		testenv.Missing(t, "unshare cannot create namespaces here: %v %s", err, out)
	}
	hosts := filepath.Join(t.TempDir(), "hosts")
	line := "127.0.0.1 localhost " + strings.Join(names, " ") + "\n"
	if err := os.WriteFile(hosts, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	timeout := 20 * time.Minute
	if d, ok := t.Deadline(); ok {
		timeout = time.Until(d) - 10*time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	script := `set -e; "$1" link set lo up; mount --bind "$2" /etc/hosts; shift 2; exec "$@"`
	cmd := exec.CommandContext(ctx, unshare, "--user", "--map-root-user", "--net", "--mount", "--",
		"/bin/sh", "-c", script, "sh", ip, hosts,
		os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.v", "-test.count=1",
		"-test.timeout="+timeout.String())
	cmd.Env = append(os.Environ(), inNetnsEnv+"=1", "IMGATE_BIN="+testenv.ImgateBinary(t))
	out, err := cmd.CombinedOutput()
	t.Logf("in a private network namespace:\n%s", out)
	switch {
	case err != nil:
		t.Fatalf("test in the network namespace failed: %v", err)
	case strings.Contains(string(out), "--- SKIP: "+t.Name()):
		t.Skip("skipped inside the network namespace (see above)")
	case !strings.Contains(string(out), "--- PASS: "+t.Name()):
		t.Fatalf("test did not run in the network namespace")
	}
	return false
}
