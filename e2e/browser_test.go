package e2e

// Browser uploads (issue 12): the example app's page, served from another
// origin than imgate, runs Uppy 6 from npm in headless Chromium and uploads
// in both of AwsS3's modes imgate supports.

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/imgate/imgate/internal/testenv"
)

// browserEnv is what the browser tests need: node, Chromium and the npm
// packages (uppy, playwright-core) in $IMGATE_NPM_BROWSER.
type browserEnv struct {
	node, chromium, npm string
}

func needBrowser(t *testing.T) browserEnv {
	t.Helper()
	b := browserEnv{
		node:     testenv.Tool(t, "node"),
		chromium: testenv.Tool(t, "/usr/bin/chromium", "chromium"),
		npm:      os.Getenv("IMGATE_NPM_BROWSER"),
	}
	for _, p := range []string{"uppy/dist/uppy.min.mjs", "playwright-core/package.json"} {
		if b.npm == "" {
			testenv.Missing(t, "IMGATE_NPM_BROWSER (a directory where `npm install uppy@6 playwright-core` ran) is not set")
		}
		if _, err := os.Stat(filepath.Join(b.npm, "node_modules", p)); err != nil {
			testenv.Missing(t, "npm package file %s not in %s/node_modules", p, b.npm)
		}
	}
	return b
}

// startExampleApp builds and starts examples/uppy against srv; it returns the page's URL.
func startExampleApp(t *testing.T, srv *server, b browserEnv, addr string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "uppy-example")
	cmd := exec.Command("go", "build", "-o", bin, "./examples/uppy")
	cmd.Dir = testenv.RepoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the example: %v\n%s", err, out)
	}
	testenv.Start(t, []string{"IMGATE_API_KEY=" + srv.APIKey}, bin, "--listen", addr, "--imgate", srv.URL,
		"--uppy-dist", filepath.Join(b.npm, "node_modules", "uppy", "dist"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := testenv.WaitHTTP(ctx, "http://"+addr+"/", 30*time.Second); err != nil {
		t.Fatal(err)
	}
	return "http://" + addr + "/"
}

// uppyRun is what e2e/browser/uppy.mjs reports.
type uppyRun struct {
	Token struct {
		Prefix, Mode string
	}
	Results []struct {
		Name  string
		OK    bool
		Key   string
		Error string
		Parts int // multipart parts Uppy uploaded (0: one request)
	}
	Shown string
}

func runUppy(t *testing.T, b browserEnv, pageURL string, files ...string) uppyRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.node, append([]string{filepath.Join(testenv.RepoRoot(t), "e2e", "browser", "uppy.mjs"), pageURL}, files...)...)
	cmd.Env = append(os.Environ(), "IMGATE_NPM_BROWSER="+b.npm, "CHROMIUM="+b.chromium)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("uppy.mjs %s: %v\n%s", pageURL, err, stderr.String())
	}
	var run uppyRun
	if err := json.Unmarshal(stdout.Bytes(), &run); err != nil {
		t.Fatalf("uppy.mjs output: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("uppy.mjs %s stderr:\n%s", pageURL, stderr.String())
	}
	return run
}

// noiseJPEG is a w×h JPEG of random pixels: it barely compresses, so the
// file is about as big as asked.
func noiseJPEG(t *testing.T, w, h int, seed uint64) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(seed, seed))
	for i := range img.Pix {
		img.Pix[i] = byte(r.Uint32())
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBrowserUppy(t *testing.T) {
	b := needBrowser(t)
	pageAddr := testenv.FreeAddr(t)
	srv := startServe(t, serveOptions{Args: []string{"--cors-origins", "http://" + pageAddr}})
	pageURL := startExampleApp(t, srv, b, pageAddr)
	if strings.Contains(srv.URL, pageAddr) {
		t.Fatal("the page must be served from another origin than imgate")
	}
	dir := t.TempDir()
	small := writeFile(t, dir, "small.jpg", genJPEG(t, genW, genH, 3))
	// 4:3 like the small one, so the classic presets give the same sizes.
	bigData := noiseJPEG(t, 3800, 2850, 1)
	if len(bigData) < 12<<20 {
		t.Fatalf("big test image is %d bytes, want ≥ 12 MiB", len(bigData))
	}
	big := writeFile(t, dir, "big.jpg", bigData)
	cl := jobsClient(t, srv)
	ctx := context.Background()

	for _, mode := range []string{"credentials", "companion"} {
		t.Run(mode, func(t *testing.T) {
			start := time.Now()
			run := runUppy(t, b, pageURL+"?mode="+mode, small, big)
			t.Logf("%s: 2 files (%d + %d bytes) uploaded in %s", mode, len(genJPEG(t, genW, genH, 3)), len(bigData), time.Since(start).Round(time.Millisecond))
			if run.Token.Mode != mode || !strings.HasPrefix(run.Token.Prefix, "visitors/") || len(run.Results) != 2 {
				t.Fatalf("run: %+v", run)
			}
			var wants []want
			for _, r := range run.Results {
				if !r.OK || !strings.HasPrefix(r.Key, run.Token.Prefix) {
					t.Fatalf("%s: %+v (token prefix %s)", r.Name, r, run.Token.Prefix)
				}
				info, err := cl.StatObject(ctx, srv.Original(), r.Key, minio.StatObjectOptions{})
				if err != nil {
					t.Fatalf("original %s: %v", r.Key, err)
				}
				if r.Name == "big.jpg" && (info.Size != int64(len(bigData)) || r.Parts < 2) {
					t.Fatalf("big original is %d bytes in %d parts, want %d bytes in several", info.Size, r.Parts, len(bigData))
				}
				if r.Name == "small.jpg" && r.Parts != 0 {
					t.Fatalf("small file went multipart (%d parts)", r.Parts)
				}
				wants = append(wants, wantsGen(r.Key)...)
			}
			waitStored(t, srv, wants, 2*time.Minute)
		})
	}

	over := writeFile(t, dir, "over.jpg", noiseJPEG(t, 600, 450, 2))
	for _, mode := range []string{"credentials", "companion"} {
		t.Run("over max_bytes "+mode, func(t *testing.T) {
			run := runUppy(t, b, pageURL+"?mode="+mode+"&max_bytes=100000", over)
			if len(run.Results) != 1 || run.Results[0].OK || !strings.Contains(run.Results[0].Error, "EntityTooLarge") ||
				!strings.Contains(run.Shown, "EntityTooLarge") {
				t.Fatalf("upload over the token's max_bytes: %+v\nshown: %s", run.Results, run.Shown)
			}
		})
	}
}
