package e2e

import (
	"context"
	"fmt"
	"image"
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/internal/testenv"
)

// tmuxPane is one `imgate admin` running in a private tmux server.
type tmuxPane struct {
	t      *testing.T
	bin    string
	socket string
	target string
}

func (p *tmuxPane) tmux(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.bin, append([]string{"-L", p.socket, "-f", "/dev/null"}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// capture returns the visible pane as plain text (tmux drops the styles).
func (p *tmuxPane) capture() string {
	out, err := p.tmux("capture-pane", "-p", "-t", p.target)
	if err != nil {
		p.t.Fatalf("tmux capture-pane: %v: %s", err, out)
	}
	return out
}

// keys sends tmux key names (Enter, Tab, Escape, or single characters).
func (p *tmuxPane) keys(keys ...string) {
	p.t.Helper()
	for _, k := range keys {
		if out, err := p.tmux("send-keys", "-t", p.target, k); err != nil {
			p.t.Fatalf("tmux send-keys %q: %v: %s", k, err, out)
		}
	}
}

// typeText sends text literally (so "^" is not read as a control key).
func (p *tmuxPane) typeText(s string) {
	p.t.Helper()
	if out, err := p.tmux("send-keys", "-t", p.target, "-l", s); err != nil {
		p.t.Fatalf("tmux send-keys -l %q: %v: %s", s, err, out)
	}
}

// waitFor polls the screen until ok accepts it.
func (p *tmuxPane) waitFor(what string, timeout time.Duration, ok func(screen string) bool) string {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	var s string
	for {
		s = p.capture()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("waiting %s for %s; screen:\n%s", timeout, what, s)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (p *tmuxPane) waitText(timeout time.Duration, parts ...string) string {
	p.t.Helper()
	return p.waitFor(fmt.Sprintf("%q", parts), timeout, func(s string) bool {
		for _, part := range parts {
			if !strings.Contains(s, part) {
				return false
			}
		}
		return true
	})
}

// startAdminInTmux runs `imgate admin` in a detached 100×30 tmux session.
func startAdminInTmux(t *testing.T, srv *server) *tmuxPane {
	t.Helper()
	p := &tmuxPane{t: t, bin: testenv.Tool(t, "tmux"), socket: "imgate-e2e-" + testenv.RandomHex(4), target: "admin"}
	shell := fmt.Sprintf("%q admin --url %q --token %q; echo \"ADMIN EXITED $?\"; sleep 600",
		testenv.ImgateBinary(t), srv.URL, srv.AdminToken)
	out, err := p.tmux("new-session", "-d", "-x", "100", "-y", "30", "-s", p.target,
		"-e", "TERM=xterm-256color", "-e", "COLORTERM=truecolor", "sh", "-c", shell)
	if err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	t.Cleanup(func() { _, _ = p.tmux("kill-server") })
	return p
}

// smallestImages returns the n smallest corpus JPEG/PNG images (by bytes)
// whose sides are both at least 100 px, so a 64x64^ fill never enlarges.
func smallestImages(t *testing.T, n int) []string {
	t.Helper()
	imgs := testenv.CorpusImages(t)
	type f struct {
		path string
		size int64
	}
	var fs []f
	for _, p := range imgs {
		ext := strings.ToLower(filepath.Ext(p))
		if ext != ".jpg" && ext != ".jpeg" && ext != ".png" {
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			continue
		}
		fh, err := os.Open(p)
		if err != nil {
			continue
		}
		cfg, _, err := image.DecodeConfig(fh)
		fh.Close()
		if err == nil && min(cfg.Width, cfg.Height) >= 100 {
			fs = append(fs, f{p, st.Size()})
		}
	}
	sort.Slice(fs, func(a, b int) bool { return fs[a].size < fs[b].size })
	if len(fs) < n {
		testenv.Missing(t, "need %d corpus images, found %d", n, len(fs))
	}
	out := make([]string, n)
	for i := range out {
		out[i] = fs[i].path
	}
	return out
}

// saveScreen keeps a capture for docs/screens when IMGATE_SCREENS_DIR is set.
func saveScreen(t *testing.T, name, screen string) {
	t.Helper()
	dir := os.Getenv("IMGATE_SCREENS_DIR")
	if dir == "" {
		return
	}
	lines := strings.Split(strings.TrimRight(screen, "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	if err := os.WriteFile(filepath.Join(dir, name+".txt"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestAdminTUIInTmux drives `imgate admin` like an operator: jobs of
// uploads appear live and complete, a 64x64^ preset is added through the
// keys, a backfill renders it for every original, and its variants exist.
func TestAdminTUIInTmux(t *testing.T) {
	testenv.Tool(t, "tmux")
	testenv.Tool(t, "/usr/bin/aws")
	images := smallestImages(t, 3)
	srv := startServe(t, serveOptions{})
	p := startAdminInTmux(t, srv)

	p.waitText(30*time.Second, "imgate admin", "● live", "1 Jobs")

	keys := make([]string, len(images))
	for i, img := range images {
		keys[i] = fmt.Sprintf("e2e/img%d%s", i, strings.ToLower(filepath.Ext(img)))
		if out, err := srv.aws(t, "s3", "cp", img, "s3://"+srv.Original()+"/"+keys[i]); err != nil {
			t.Fatalf("aws s3 cp %s: %v\n%s", img, err, out)
		}
	}
	// Every upload shows up as a job and reaches completed, live.
	screen := p.waitFor("the upload jobs to complete", 3*time.Minute, func(s string) bool {
		for _, k := range keys {
			if !lineWith(s, k, "completed") {
				return false
			}
		}
		return true
	})
	saveScreen(t, "jobs", screen)

	// Job detail of the newest job lists its variants.
	p.keys("g", "Enter")
	screen = p.waitText(20*time.Second, "VARIANTS (", "ERRORS (")
	saveScreen(t, "job-detail", screen)
	// Escape needs its own moment: ESC followed at once by a key reads as alt+key.
	p.keys("Escape")
	p.waitText(10*time.Second, "ID", "STATE", "KEY")

	// Add the preset 64x64^ through the editor.
	p.keys("2")
	p.waitText(20*time.Second, "PRESETS (v")
	p.keys("a")
	p.waitText(10*time.Second, "NEW PRESET")
	p.typeText("64x64^")
	screen = p.waitFor("validation and a 64x64^ preview", 60*time.Second, func(s string) bool {
		return strings.Contains(s, "✓ valid") && strings.Contains(s, "PREVIEW 64x64^") &&
			(strings.Contains(s, "×64 px") || strings.Contains(s, " 64×"))
	})
	saveScreen(t, "preset-form", screen)
	p.keys("Enter")
	screen = p.waitText(20*time.Second, "preset 64x64^ saved")
	if !lineWith(screen, "64x64^", "64x64^") {
		t.Fatalf("new preset not listed:\n%s", screen)
	}
	// A bad geometry is refused before saving.
	p.keys("a")
	p.typeText("64y64")
	screen = p.waitText(10*time.Second, "✗", "64y64")
	saveScreen(t, "preset-invalid", screen)
	p.keys("Escape")
	p.waitText(10*time.Second, "PRESETS (v")
	p.keys("p")
	screen = p.waitFor("a preview", 60*time.Second, func(s string) bool {
		return strings.Contains(s, "PREVIEW") && strings.Contains(s, " px") && strings.Contains(s, "▀")
	})
	saveScreen(t, "presets", screen)

	// Backfill: progress reaches 100 %.
	p.keys("b")
	screen = p.waitFor("the backfill to finish", 3*time.Minute, func(s string) bool {
		return strings.Contains(s, "BACKFILL") && strings.Contains(s, "100%") && strings.Contains(s, " done ")
	})
	saveScreen(t, "backfill", screen)
	if !strings.Contains(screen, "64x64^") {
		t.Fatalf("backfill does not name the new preset:\n%s", screen)
	}

	// The new variants exist in NAME-resized/64x64^/… and fill a 64×64 box.
	for _, k := range keys {
		local := filepath.Join(t.TempDir(), "v")
		src := "s3://" + srv.Resized() + "/64x64^/" + k
		if out, err := srv.aws(t, "s3", "cp", src, local); err != nil {
			t.Fatalf("variant %s missing: %v\n%s", src, err, out)
		}
		f, err := os.Open(local)
		if err != nil {
			t.Fatal(err)
		}
		cfg, _, err := image.DecodeConfig(f)
		f.Close()
		if err != nil {
			t.Fatalf("variant %s: %v", src, err)
		}
		if min(cfg.Width, cfg.Height) != 64 {
			t.Errorf("variant %s is %dx%d, want the short side 64 (fill)", src, cfg.Width, cfg.Height)
		}
	}

	// Help lists the keys; q quits cleanly.
	p.keys("1")
	p.waitText(10*time.Second, "ID", "STATE")
	p.keys("?")
	screen = p.waitText(10*time.Second, "KEYS — Jobs", "retry", "quit")
	saveScreen(t, "help", screen)
	p.keys("Escape")
	p.waitFor("help to close", 10*time.Second, func(s string) bool { return !strings.Contains(s, "KEYS —") })
	p.keys("q")
	p.waitText(20*time.Second, "ADMIN EXITED 0")
}

// TestAdminTUIReconnects: killing the server shows a clear status line; the
// dashboard reconnects by itself after a restart and keeps showing new jobs.
func TestAdminTUIReconnects(t *testing.T) {
	testenv.Tool(t, "tmux")
	testenv.Tool(t, "/usr/bin/aws")
	images := smallestImages(t, 2)
	srv := startServe(t, serveOptions{})
	p := startAdminInTmux(t, srv)
	p.waitText(30*time.Second, "● live")

	srv.Kill()
	screen := p.waitText(30*time.Second, "✗ offline", "connection lost", "reconnecting in")
	saveScreen(t, "offline", screen)

	srv.Restart(t)
	p.waitText(60*time.Second, "● live", "reconnected")
	key := "after-restart/img" + strings.ToLower(filepath.Ext(images[1]))
	if out, err := srv.aws(t, "s3", "cp", images[1], "s3://"+srv.Original()+"/"+key); err != nil {
		t.Fatalf("aws s3 cp: %v\n%s", err, out)
	}
	p.waitFor("the new job to complete", 3*time.Minute, func(s string) bool { return lineWith(s, key, "completed") })
	p.keys("q")
	p.waitText(20*time.Second, "ADMIN EXITED 0")
}

// lineWith reports whether one line of s holds every part.
func lineWith(s string, parts ...string) bool {
	for _, line := range strings.Split(s, "\n") {
		all := true
		for _, p := range parts {
			if !strings.Contains(line, p) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}
