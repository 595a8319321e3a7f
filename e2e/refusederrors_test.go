package e2e

import (
	"crypto/rand"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
)

// Issue 9, class 5: errors users can read. A refused upload of a large
// body reaches aws-cli v2 as S3's error (code and message), not as
// "Connection was closed before we received a valid response": through
// multipart (UploadPart), a single PUT and a POST form, while a
// legitimate upload through the same client is stored.
func TestRefusedLargeUploadsShowS3Errors(t *testing.T) {
	srv := startServe(t, serveOptions{Args: []string{"--max-upload-bytes", "30000000"}})
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	noise := make([]byte, 20<<20)
	_, _ = rand.Read(noise)
	copy(noise, "this is not an image\n")
	notImage := write("notimage.bin", noise)
	huge := make([]byte, 40<<20)
	copy(huge, genJPEG(t, 64, 64, 1))
	tooBig := write("toobig.jpg", huge)
	photo := write("photo.jpg", genJPEG(t, 400, 300, 2))

	cases := []struct {
		name string
		args []string
		want []string // all in aws-cli's output
	}{
		{"multipart non-image", []string{"s3", "cp", notImage, "s3://" + srv.Original() + "/refused/multi.bin"},
			[]string{"InvalidArgument", "imgate accepts only"}},
		{"single PUT non-image", []string{"s3api", "put-object", "--bucket", srv.Original(), "--key", "refused/single.bin", "--body", notImage},
			[]string{"InvalidArgument", "imgate accepts only"}},
		{"single PUT over the size limit", []string{"s3api", "put-object", "--bucket", srv.Original(), "--key", "refused/big.jpg", "--body", tooBig},
			[]string{"EntityTooLarge", "30000000"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			out, err := srv.aws(t, tc.args...)
			if err == nil {
				t.Fatalf("aws-cli succeeded: %s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("aws-cli output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, "Connection was closed") {
				t.Errorf("aws-cli saw a closed connection:\n%s", out)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			t.Logf("%s: refused in %v: %s", tc.name, time.Since(start).Round(time.Millisecond), lines[len(lines)-1])
		})
	}
	if out, err := srv.aws(t, "s3", "cp", photo, "s3://"+srv.Original()+"/ok/photo.jpg"); err != nil {
		t.Fatalf("legitimate upload through aws-cli: %v\n%s", err, out)
	}

	// A POST form of 20 MiB non-image bytes: the XML error is read by a
	// plain HTTP client still sending its body.
	p := minio.NewPostPolicy()
	_ = p.SetBucket(srv.Original())
	_ = p.SetKey("refused/form.bin")
	_ = p.SetExpires(time.Now().Add(time.Minute))
	u, fields, err := srv.s3Client(t).PresignedPostPolicy(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	status, body := s3PostForm(t, u.String(), fields, "x.bin", noise)
	if status != http.StatusBadRequest || !strings.Contains(body, "<Code>InvalidArgument</Code>") {
		t.Errorf("POST of a 20 MiB non-image: %d %s", status, body)
	}

	cl := srv.s3Client(t)
	for _, k := range []string{"refused/multi.bin", "refused/single.bin", "refused/big.jpg", "refused/form.bin"} {
		if _, err := cl.StatObject(t.Context(), srv.Original(), k, minio.StatObjectOptions{}); err == nil {
			t.Errorf("%s was stored", k)
		}
	}
	if _, err := cl.StatObject(t.Context(), srv.Original(), "ok/photo.jpg", minio.StatObjectOptions{}); err != nil {
		t.Errorf("the legitimate upload is missing: %v", err)
	}
}
