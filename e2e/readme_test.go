package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imgate/imgate/internal/testenv"
)

// readmeSections are the README sections whose commands TestReadme runs.
var readmeSections = []string{"Quickstart", "Local MinIO development"}

// readmeStep is one command of a README shell block, continuation lines
// joined, with the output the comment lines under it promise.
type readmeStep struct {
	Line   string
	Expect []string // words of the "#   …" lines right after the command
}

// readmeBlocks returns the ```sh blocks of a README section, as steps.
func readmeBlocks(readme, section string) [][]readmeStep {
	var blocks [][]readmeStep
	in, inBlock := false, false
	var cur []readmeStep
	pending := ""
	for _, line := range strings.Split(readme, "\n") {
		switch {
		case strings.HasPrefix(line, "## "):
			in = strings.TrimPrefix(line, "## ") == section
		case in && !inBlock && strings.TrimSpace(line) == "```sh":
			inBlock, cur = true, nil
		case inBlock && strings.TrimSpace(line) == "```":
			inBlock = false
			blocks = append(blocks, cur)
		case inBlock && strings.HasPrefix(strings.TrimSpace(line), "#"):
			if len(cur) > 0 {
				last := &cur[len(cur)-1]
				last.Expect = append(last.Expect, strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "#"))...)
			}
		case inBlock && strings.HasSuffix(line, "\\"):
			pending += strings.TrimSuffix(line, "\\") + " "
		case inBlock && strings.TrimSpace(line) != "":
			cur = append(cur, readmeStep{Line: pending + line})
			pending = ""
		}
	}
	return blocks
}

func TestReadmeBlocks(t *testing.T) {
	md := "## Quickstart\n\ntext\n\n```sh\ngo run ./x serve   # serves\n./scripts/test.sh\n```\n\n" +
		"```json\n{}\n```\n\n```sh\nA=1 \\\n  aws s3 ls\n#   a/b c/d\n#   e/f\n```\n## Other\n```sh\nnot this\n```\n"
	got := readmeBlocks(md, "Quickstart")
	want := [][]readmeStep{
		{{Line: "go run ./x serve   # serves"}, {Line: "./scripts/test.sh"}},
		{{Line: "A=1    aws s3 ls", Expect: []string{"a/b", "c/d", "e/f"}}},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("readmeBlocks = %q\nwant %q", got, want)
	}
}

// readmeServer is a command of the README that serves until stopped: the
// test starts it, waits for its readiness URL, and stops it (as Ctrl-C
// does) when the section ends.
var readmeServers = map[string]string{
	"go run ./cmd/imgate serve": "http://127.0.0.1:8080/readyz",
	"./scripts/dev.sh":          "http://127.0.0.1:8080/readyz",
}

// readmeElsewhere are commands this test does not run, and why.
var readmeElsewhere = map[string]string{
	"./scripts/test.sh": "the whole suite: it is what .ci/run runs (this test is part of it)",
	"docker compose":    "needs a Docker engine; TestComposeFile and TestLocalMinIOStack check docker-compose.yml",
}

var placeholder = regexp.MustCompile(`<([A-Z][A-Z0-9_]*)>`)

// readmeRun is the state of one README walk-through: a fresh copy of the
// repository as the working directory, a fresh HOME, exported variables
// carried from one command to the next, and the running servers.
type readmeRun struct {
	t       *testing.T
	dir     string
	env     []string
	state   string // bash `export -p` of the exports so far
	servers []*readmeServer
}

type readmeServer struct {
	cmd    *exec.Cmd
	out    *lockedLog
	exited chan struct{} // closed when the process has exited; err is then set
	err    error
}

// TestReadme runs, as written, every command of the README's Quickstart and
// Local MinIO development sections on a copy of the repository with a fresh
// HOME, in a private network namespace (the sections name fixed ports).
func TestReadme(t *testing.T) {
	tools := findStackTools(t)
	testenv.Tool(t, "/usr/bin/aws")
	testenv.Tool(t, "git")
	if !isolatedNetwork(t) {
		return
	}
	root := testenv.RepoRoot(t)
	ci, err := os.ReadFile(filepath.Join(root, ".ci", "run"))
	if err != nil || !strings.Contains(string(ci), "exec ./scripts/test.sh") {
		t.Errorf(".ci/run does not run ./scripts/test.sh (%v)", err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, section := range readmeSections {
		t.Run(section, func(t *testing.T) {
			blocks := readmeBlocks(string(readme), section)
			if len(blocks) == 0 {
				t.Fatalf("README section %q has no sh blocks", section)
			}
			r := newReadmeRun(t, root, tools)
			defer r.stopServers()
			for _, b := range blocks {
				for _, st := range b {
					r.step(st)
				}
			}
		})
	}
}

func newReadmeRun(t *testing.T, root string, tools stackTools) *readmeRun {
	t.Helper()
	dir := t.TempDir()
	// The repository as a fresh clone has it: its files as they are now,
	// without what .gitignore keeps out (data directories, binaries).
	files, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		testenv.Missing(t, "git ls-files: %v", err)
	}
	for _, f := range strings.Split(strings.TrimRight(string(files), "\x00"), "\x00") {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			continue // deleted in the working tree
		}
		st, _ := os.Stat(filepath.Join(root, f))
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, st.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "photo.jpg"), genJPEG(t, genW, genH, 3), 0o644); err != nil {
		t.Fatal(err)
	}
	goenv := map[string]string{}
	for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOROOT"} {
		out, err := exec.Command("go", "env", k).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", k, err)
		}
		goenv[k] = strings.TrimSpace(string(out))
	}
	home := t.TempDir()
	env := []string{"PATH=" + tools.path(), "HOME=" + home, "TMPDIR=" + os.TempDir(),
		"GOCACHE=" + goenv["GOCACHE"], "GOMODCACHE=" + goenv["GOMODCACHE"], "GOPATH=" + goenv["GOPATH"],
		"GOTOOLCHAIN=local", "GOPROXY=off", "AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true"}
	state := filepath.Join(home, ".readme-exports")
	if err := os.WriteFile(state, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return &readmeRun{t: t, dir: dir, env: env, state: state}
}

func hasPrefixIn[V any](line string, m map[string]V) (string, V, bool) {
	for p, v := range m {
		if strings.HasPrefix(line, p) {
			return p, v, true
		}
	}
	var zero V
	return "", zero, false
}

func (r *readmeRun) step(st readmeStep) {
	t := r.t
	t.Helper()
	line := r.fill(st.Line)
	if p, why, ok := hasPrefixIn(line, readmeElsewhere); ok {
		t.Logf("not run here: %s (%s: %s)", line, p, why)
		return
	}
	if _, ready, ok := hasPrefixIn(line, readmeServers); ok {
		r.startServer(line, ready)
		return
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		out, err := r.bash(line)
		missing := missingWords(out, st.Expect)
		if err == nil && len(missing) == 0 {
			t.Logf("$ %s\n%s", line, out)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("$ %s\nerr %v, output lacks %v:\n%s", line, err, missing, out)
		}
		if len(st.Expect) == 0 { // only a command with promised output is retried
			t.Fatalf("$ %s\n%v:\n%s", line, err, out)
		}
		time.Sleep(time.Second)
	}
}

func missingWords(out string, words []string) []string {
	var missing []string
	for _, w := range words {
		if !strings.Contains(out, w) {
			missing = append(missing, w)
		}
	}
	return missing
}

// fill replaces each <NAME> with the NAME=value a running server printed.
// A server may answer HTTP a moment before its printed line has been read
// from its pipe, so the line is waited for (up to 30 s).
func (r *readmeRun) fill(line string) string {
	return placeholder.ReplaceAllStringFunc(line, func(m string) string {
		name := placeholder.FindStringSubmatch(m)[1]
		re := regexp.MustCompile(`\b` + name + `=(\S+)`)
		for deadline := time.Now().Add(30 * time.Second); ; {
			for _, s := range r.servers {
				if v := re.FindStringSubmatch(s.out.String()); v != nil {
					return v[1]
				}
			}
			if time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		r.t.Fatalf("%s: no running server printed %s=", line, name)
		return m
	})
}

// bash runs one command line with the exports so far and keeps its exports.
func (r *readmeRun) bash(line string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	script := "set -e\nsource \"$README_EXPORTS\"\n" + line + "\nexport -p > \"$README_EXPORTS\"\n"
	cmd := exec.CommandContext(ctx, "/bin/bash", "-c", script)
	cmd.Dir = r.dir
	cmd.Env = append(r.env, "README_EXPORTS="+r.state)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (r *readmeRun) startServer(line, ready string) {
	t := r.t
	t.Helper()
	cmd := exec.Command("/bin/bash", "-c", "source \"$README_EXPORTS\"\n"+line)
	cmd.Dir = r.dir
	cmd.Env = append(r.env, "README_EXPORTS="+r.state)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &readmeServer{cmd: cmd, out: &lockedLog{}, exited: make(chan struct{})}
	r.servers = append(r.servers, s)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			s.out.add(sc.Text())
		}
		s.err = cmd.Wait()
		close(s.exited)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	waitErr := make(chan error, 1)
	go func() { waitErr <- testenv.WaitHTTP(ctx, ready, 8*time.Minute) }()
	select {
	case err := <-waitErr:
		if err != nil {
			t.Fatalf("$ %s: not ready: %v\n%s", line, err, s.out.String())
		}
	case <-s.exited:
		t.Fatalf("$ %s: exited before it was ready: %v\n%s", line, s.err, s.out.String())
	}
	t.Logf("$ %s   (ready: %s)", line, ready)
}

// stopServers stops each server as Ctrl-C in its terminal would.
func (r *readmeRun) stopServers() {
	for _, s := range r.servers {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGINT)
		select {
		case <-s.exited:
		case <-time.After(60 * time.Second):
			r.t.Errorf("%v did not stop within 60 s of Ctrl-C", s.cmd.Args)
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.exited
		}
		if r.t.Failed() {
			r.t.Logf("output of %v:\n%s", s.cmd.Args, s.out.String())
		}
	}
}
