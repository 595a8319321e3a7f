package e2e

import (
	"bytes"
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/imgate/imgate/internal/testenv"
)

// Issue 9, class 7: multipart hygiene. An abandoned multipart upload (a
// client that sends a part and walks away, over and over, to fill the
// disk) is aborted with its parts after --multipart-expiry, while a
// legitimate multipart upload started next to it completes and is stored.
func TestMultipartExpiryFS(t *testing.T) {
	srv := startServe(t, serveOptions{Args: []string{"--multipart-expiry", "3s"}})
	multipartExpiry(t, srv, func() []string {
		var parts []string
		_ = filepath.WalkDir(filepath.Join(srv.DataDir, "objects", "uploads"), func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasPrefix(d.Name(), "part.") {
				parts = append(parts, p)
			}
			return nil
		})
		return parts
	})
}

func TestMultipartExpiryMinIO(t *testing.T) {
	m := testenv.StartMinIO(t)
	srv := startServe(t, serveOptions{MinIO: m, Args: []string{"--multipart-expiry", "3s"}})
	direct := minioClient(t, m)
	multipartExpiry(t, srv, func() []string {
		var ids []string
		for u := range direct.ListIncompleteUploads(context.Background(), srv.Original(), "", true) {
			ids = append(ids, u.Key+" "+u.UploadID)
		}
		return ids
	})
}

// multipartExpiry abandons uploads, completes a legitimate one, and checks
// that within expiry + 5 s the abandoned ones and their parts (leftovers()
// lists what the backend still holds) are gone and the legitimate object stays.
func multipartExpiry(t *testing.T, srv *server, leftovers func() []string) {
	ctx := context.Background()
	core := minio.Core{Client: srv.s3Client(t)}
	part := genJPEG(t, 64, 64, 1)
	part = append(part, make([]byte, 5<<20)...)
	var abandoned []string
	for i := range 3 {
		key := "abandoned/" + itoa(i) + ".jpg"
		id, err := core.NewMultipartUpload(ctx, srv.Original(), key, minio.PutObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := core.PutObjectPart(ctx, srv.Original(), key, id, 1, bytes.NewReader(part), int64(len(part)), minio.PutObjectPartOptions{}); err != nil {
			t.Fatal(err)
		}
		abandoned = append(abandoned, id)
	}
	abandonedAt := time.Now()
	if n := len(leftovers()); n < 3 {
		t.Fatalf("backend holds %d leftovers before expiry, want ≥ 3", n)
	}
	// The legitimate client: a multipart upload that completes in time.
	photo := genJPEG(t, 400, 300, 2)
	if _, err := srv.s3Client(t).PutObject(ctx, srv.Original(), "legit/photo.jpg", bytes.NewReader(append(photo, make([]byte, 6<<20)...)), int64(len(photo)+6<<20),
		minio.PutObjectOptions{PartSize: 5 << 20}); err != nil {
		t.Fatalf("legitimate multipart upload: %v", err)
	}
	start := time.Now()
	for {
		ups, err := core.ListMultipartUploads(ctx, srv.Original(), "", "", "", "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		left := leftovers()
		if len(ups.Uploads) == 0 && len(left) == 0 {
			break
		}
		if time.Since(start) > 8*time.Second {
			t.Fatalf("after %v: %d uploads listed, backend still holds %v", time.Since(start), len(ups.Uploads), left)
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("abandoned uploads and their parts gone %v after the last one was abandoned (expiry 3 s)", time.Since(abandonedAt).Round(100*time.Millisecond))
	for i, id := range abandoned {
		_, err := core.ListObjectParts(ctx, srv.Original(), "abandoned/"+itoa(i)+".jpg", id, 0, 100)
		if minio.ToErrorResponse(err).Code != "NoSuchUpload" {
			t.Errorf("ListParts of expired upload %d: %v, want NoSuchUpload", i, err)
		}
	}
	if _, err := srv.s3Client(t).StatObject(ctx, srv.Original(), "legit/photo.jpg", minio.StatObjectOptions{}); err != nil {
		t.Errorf("the legitimate multipart object is missing: %v", err)
	}
}
