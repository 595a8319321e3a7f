package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"image"
	"image/png"
	"io"
	"net/http"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/imgate/imgate/gateway/uploads"
)

// Issue 9, class 3: limits that hold. What an app asks of /v1/uploads
// (max_bytes, content_types) holds for gateway-signed presigned PUTs and
// POST forms: an attacker holding the URL or form cannot store more bytes
// or another type, while the legitimate upload next to it is stored.
func TestSignedLimitsHold(t *testing.T) {
	srv := startServe(t, serveOptions{})
	ctx := context.Background()
	jpg := genJPEG(t, 200, 150, 3)
	pngData := genPNG(t)
	big := make([]byte, 5<<20)
	_, _ = rand.Read(big)
	copy(big, jpg[:len(jpg)/2])

	presign := func(key string, req map[string]any) uploads.UploadResponse {
		var res uploads.UploadResponse
		req["key"] = key
		s3APIPost(t, srv, "/v1/uploads", req, &res)
		return res
	}
	put := func(res uploads.UploadResponse, body []byte) (int, string) {
		req, _ := http.NewRequest(http.MethodPut, res.URL, bytes.NewReader(body))
		for k, v := range res.Headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("PUT %s: %v", res.Key, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	capped := map[string]any{"max_bytes": 1000}
	if st, body := put(presign("cap/attack.jpg", capped), big); st != 400 || !bytes.Contains([]byte(body), []byte("EntityTooLarge")) {
		t.Errorf("5 MiB through a 1000-byte presigned PUT: %d %s", st, body)
	}
	tiny := genJPEG(t, 8, 8, 1)
	if len(tiny) > 1000 {
		t.Fatalf("test JPEG of %d bytes is over the cap", len(tiny))
	}
	if st, body := put(presign("cap/legit.jpg", map[string]any{"max_bytes": 1000}), tiny); st != 200 {
		t.Errorf("legitimate upload under the cap: %d %s", st, body)
	}
	jpegOnly := map[string]any{"content_types": []string{"image/jpeg"}}
	if st, body := put(presign("type/attack.jpg", jpegOnly), pngData); st != 400 || !bytes.Contains([]byte(body), []byte("image/png")) {
		t.Errorf("PNG through an image/jpeg presigned PUT: %d %s", st, body)
	}
	if st, body := put(presign("type/legit.jpg", map[string]any{"content_types": []string{"image/jpeg"}}), jpg); st != 200 {
		t.Errorf("legitimate JPEG: %d %s", st, body)
	}
	// A POST form for image/jpeg: PNG bytes (declared as image/jpeg) are refused.
	var form uploads.UploadResponse
	s3APIPost(t, srv, "/v1/uploads", map[string]any{"key": "form/attack.jpg", "method": "post", "content_types": []string{"image/jpeg"}}, &form)
	if st, body := s3PostForm(t, form.URL, form.Fields, "a.jpg", pngData); st < 400 {
		t.Errorf("PNG through an image/jpeg form: %d %s", st, body)
	}
	s3APIPost(t, srv, "/v1/uploads", map[string]any{"key": "form/legit.jpg", "method": "post", "content_types": []string{"image/jpeg"}}, &form)
	if st, body := s3PostForm(t, form.URL, form.Fields, "a.jpg", jpg); st >= 300 {
		t.Errorf("JPEG through an image/jpeg form: %d %s", st, body)
	}
	cl := srv.s3Client(t)
	for key, want := range map[string]bool{"cap/attack.jpg": false, "cap/legit.jpg": true, "type/attack.jpg": false,
		"type/legit.jpg": true, "form/attack.jpg": false, "form/legit.jpg": true} {
		_, err := cl.StatObject(ctx, srv.Original(), key, minio.StatObjectOptions{})
		if (err == nil) != want {
			t.Errorf("%s stored = %v, want %v", key, err == nil, want)
		}
	}
}

// genPNG encodes a small generated PNG.
func genPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for i := range img.Pix {
		img.Pix[i] = byte(i)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
