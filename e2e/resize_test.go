package e2e

import (
	"bytes"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgate/imgate/internal/testenv"
)

// TestResizeCommand: imgate resize writes DIR/PRESET/BASENAME for every
// preset, reports a bad file by name with a public reason, still does the
// others, and exits 1. The classic config.json is accepted as-is.
func TestResizeCommand(t *testing.T) {
	bin := testenv.ImgateBinary(t)
	root := testenv.RepoRoot(t)
	in := t.TempDir()
	bad := filepath.Join(in, "bad.jpg")
	if err := os.WriteFile(bad, []byte("this is not an image"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(in, "config.json")
	if err := os.WriteFile(cfg, []byte(`{"sizes": ["50x50", "150x", "x150"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	photo := filepath.Join(root, "resizer", "testdata", "photo.jpg")
	png := filepath.Join(root, "resizer", "testdata", "rgba.png")
	out := t.TempDir()
	cmd := exec.Command(bin, "resize", "--config", cfg, "--out", out, photo, bad, png)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit = %v, want 1\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stderr.String(), "bad.jpg") || !strings.Contains(stderr.String(), "not an image") {
		t.Errorf("stderr does not name the bad file and reason:\n%s", stderr.String())
	}
	if !strings.Contains(stdout.String(), "2 ok, 1 failed") {
		t.Errorf("summary line missing:\n%s", stdout.String())
	}
	for _, src := range []string{photo, png} {
		f, err := os.Open(src)
		if err != nil {
			t.Fatal(err)
		}
		sc, _, err := image.DecodeConfig(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, preset := range []string{"50x50", "150x", "x150"} {
			p := filepath.Join(out, preset, filepath.Base(src))
			f, err := os.Open(p)
			if err != nil {
				t.Errorf("missing variant %s: %v", p, err)
				continue
			}
			c, _, err := image.DecodeConfig(f)
			f.Close()
			if err != nil {
				t.Errorf("variant %s is not an image: %v", p, err)
				continue
			}
			switch preset {
			case "50x50":
				if max(c.Width, c.Height) != min(50, max(sc.Width, sc.Height)) {
					t.Errorf("%s: %dx%d does not fit 50x50 tightly (source %dx%d)", p, c.Width, c.Height, sc.Width, sc.Height)
				}
			case "150x":
				if c.Width != min(150, sc.Width) {
					t.Errorf("%s: width %d, want %d", p, c.Width, min(150, sc.Width))
				}
			case "x150":
				if c.Height != min(150, sc.Height) {
					t.Errorf("%s: height %d, want %d", p, c.Height, min(150, sc.Height))
				}
			}
		}
	}
	if _, err := os.Stat(filepath.Join(out, "50x50", "bad.jpg")); err == nil {
		t.Errorf("a variant was written for the bad file")
	}
}
