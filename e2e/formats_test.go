package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/imgate/imgate/internal/testenv"
)

// TestNewFormatsUpload: WebP (lossy, alpha, animated), HEIC and AVIF (one
// with irot/imir and EXIF orientation), and a ProPhoto-tagged JPEG, made by
// scripts/make-samples.sh and uploaded with aws-cli, get the classic
// variants at NAME-resized/PRESET/KEY with ImageMagick's sizes; HEIC and
// AVIF originals get JPEG variants. Also: the default allow-list takes
// HEIC/AVIF (no --allowed-types given).
func TestNewFormatsUpload(t *testing.T) {
	for _, tool := range []string{"heif-enc", "avifenc", "cwebp", "img2webp", "gif2webp", "exiftool", "/usr/bin/convert"} {
		testenv.Tool(t, tool)
	}
	dir := t.TempDir()
	cmd := exec.Command("bash", filepath.Join(testenv.RepoRoot(t), "scripts", "make-samples.sh"), dir, testenv.Corpus(t))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make-samples.sh: %v\n%s", err, out)
	}
	files := []string{"photo.webp", "alpha.webp", "anim.webp", "photo.heic", "photo.avif", "orient6.avif", "deep10.avif", "prophoto.jpg"}
	upload := t.TempDir()
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(upload, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srv := startServe(t, serveOptions{})
	out, err := srv.aws(t, "s3", "cp", "--recursive", "--only-show-errors", upload, "s3://"+srv.Original()+"/formats/")
	if err != nil {
		t.Fatalf("aws s3 cp: %v\n%s", err, out)
	}
	var wants []want
	for _, f := range files {
		for _, preset := range classicPresets {
			wh, ok := computeIMSize(t, filepath.Join(upload, f), preset+">")
			if !ok {
				t.Fatalf("no ImageMagick size for %s %s", f, preset)
			}
			wants = append(wants, want{Preset: preset, Key: "formats/" + f, W: wh[0], H: wh[1]})
		}
	}
	cl := jobsClient(t, srv)
	took := waitStored(t, srv, wants, 3*time.Minute)
	t.Logf("%d variants of %d originals after %s", len(wants), len(files), took.Round(time.Millisecond))
	for _, f := range []string{"photo.heic", "photo.avif", "photo.webp"} {
		st, err := cl.StatObject(context.Background(), srv.Resized(), "150x/formats/"+f, minio.StatObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if st.ContentType != "image/jpeg" {
			t.Errorf("150x/formats/%s: content type %q, want image/jpeg", f, st.ContentType)
		}
	}
}
