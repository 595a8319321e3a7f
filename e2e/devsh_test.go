package e2e

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/imgate/imgate/internal/testenv"
)

// lockedLog collects a process's output lines for polling.
type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(s + "\n")
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// testDevScript runs scripts/dev.sh as a developer does, checks that MinIO
// and imgate run with docker-compose.yml's settings, that both upload paths
// work, and that Ctrl-C (SIGINT to the foreground process group) stops all.
func testDevScript(t *testing.T, cf *composeFile, tools stackTools) {
	root := testenv.RepoRoot(t)
	data := t.TempDir()
	cmd := exec.Command("/bin/bash", filepath.Join(root, "scripts", "dev.sh"))
	cmd.Dir = root
	cmd.Env = []string{"PATH=" + tools.path(), "HOME=" + os.Getenv("HOME"), "IMGATE_CACHE=" + t.TempDir(),
		"IMGATE_DEV_DATA=" + data, "IMGATE_BIN=" + tools.imgate}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out lockedLog
	exited := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			out.add(sc.Text())
		}
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if t.Failed() {
			t.Logf("dev.sh output:\n%s", out.String())
			for _, f := range []string{"minio.log", "imgate.log"} {
				b, _ := os.ReadFile(filepath.Join(data, "log", f))
				if len(b) > 4000 {
					b = b[len(b)-4000:]
				}
				t.Logf("%s:\n%s", f, b)
			}
		}
	})
	deadline := time.After(3 * time.Minute)
	for !strings.Contains(out.String(), "imgate is up") {
		select {
		case err := <-exited:
			t.Fatalf("dev.sh exited before the stack was up: %v", err)
		case <-deadline:
			t.Fatal("dev.sh: stack not up after 3 minutes")
		case <-time.After(200 * time.Millisecond):
		}
	}
	children := childProcesses(t, cmd.Process.Pid)
	checkSameSettings(t, cf, tools, children, data)
	checkStack(t, composeEndpoints(t, cf), "devsh")

	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(60 * time.Second):
		t.Fatal("dev.sh did not stop within 60 s of Ctrl-C")
	}
	if !strings.Contains(out.String(), "dev.sh: stopped") {
		t.Errorf("dev.sh did not say it stopped:\n%s", out.String())
	}
	for name, pid := range children {
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil {
			t.Errorf("%s (pid %d) still running after Ctrl-C", name, pid)
		}
	}
	e := composeEndpoints(t, cf)
	for _, addr := range []string{e.minio, e.imgate} {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after Ctrl-C", addr)
		}
	}
}

// childProcesses maps the base name of each child of pid to its pid.
func childProcesses(t *testing.T, pid int) map[string]int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	kids := map[string]int{}
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces, so split after ')'.
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(f) < 2 || f[1] != strconv.Itoa(pid) {
			continue
		}
		cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		argv0, _, _ := strings.Cut(string(cmdline), "\x00")
		kids[filepath.Base(argv0)] = n
	}
	return kids
}

// processEnv reads a process's environment.
func processEnv(t *testing.T, pid int) map[string]string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, kv := range strings.Split(string(b), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}

// checkSameSettings compares the environment dev.sh gave MinIO and imgate
// with docker-compose.yml's, addresses read as loopback (service names and
// 0.0.0.0 become 127.0.0.1) and volumes as dev.sh's data directory.
func checkSameSettings(t *testing.T, cf *composeFile, tools stackTools, children map[string]int, data string) {
	t.Helper()
	loopback := strings.NewReplacer("0.0.0.0:", "127.0.0.1:", "//imgate:", "//127.0.0.1:", "minio:", "127.0.0.1:")
	for service, exe := range map[string]string{"minio": tools.minio, "imgate": tools.imgate} {
		pid, ok := children[filepath.Base(exe)]
		if !ok {
			t.Errorf("dev.sh runs no %s process (children: %v)", exe, children)
			continue
		}
		got := processEnv(t, pid)
		for k, v := range cf.Services[service].Environment {
			switch {
			case k == "IMGATE_DATA":
				if !strings.HasPrefix(got[k], data) {
					t.Errorf("%s: %s=%q, want a directory under %s", service, k, got[k], data)
				}
			case got[k] != loopback.Replace(v):
				t.Errorf("%s: dev.sh sets %s=%q, docker-compose.yml %q", service, k, got[k], v)
			}
		}
	}
}
