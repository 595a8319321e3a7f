package s3_test

import (
	"bytes"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/gateway/storage/s3"
)

func TestPresignPut(t *testing.T) {
	_, s := startMinIO(t)
	c := t.Context()
	if err := s.EnsureBucket(c, "presigned"); err != nil {
		t.Fatal(err)
	}
	u, err := s.PresignPut(c, "presigned", "direct/photo.jpg", 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("uploaded without the gateway")
	if code := httpPut(t, u, body); code != http.StatusOK {
		t.Fatalf("PUT to presigned URL: status %d", code)
	}
	rc, info, err := s.Get(c, "presigned", "direct/photo.jpg", storage.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, body) || info.Size != int64(len(body)) {
		t.Errorf("object after presigned PUT: %q", got)
	}
	// A URL for another key, or a tampered one, is refused by MinIO.
	bad := strings.Replace(u, "photo.jpg", "other.jpg", 1)
	if code := httpPut(t, bad, body); code != http.StatusForbidden {
		t.Errorf("PUT with a signature for another key: status %d, want 403", code)
	}
	if _, err := s.PresignPut(c, "presigned", "../x", time.Minute); !errors.Is(err, storage.ErrInvalidKey) {
		t.Errorf("PresignPut(../x) = %v", err)
	}
}

func httpPut(t *testing.T, url string, body []byte) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// postForm sends a browser-style POST upload: the policy fields, then the file.
func postForm(t *testing.T, url string, fields map[string]string, override map[string]string, file []byte) (int, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		if o, ok := override[k]; ok {
			v = o
		}
		w.WriteField(k, v)
	}
	for k, v := range override {
		if _, ok := fields[k]; !ok {
			w.WriteField(k, v)
		}
	}
	fw, _ := w.CreateFormFile("file", "upload.bin")
	fw.Write(file)
	w.Close()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, &buf)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestPresignPost(t *testing.T) {
	_, s := startMinIO(t)
	c := t.Context()
	if err := s.EnsureBucket(c, "posted"); err != nil {
		t.Fatal(err)
	}
	u, fields, err := s.PresignPost(c, storage.PostPolicy{
		Bucket:      "posted",
		KeyPrefix:   "users/alice/",
		ContentType: "image/png",
		MaxBytes:    1000,
		Expiry:      5 * time.Minute,
		ExtraFields: map[string]string{"x-amz-meta-owner": "alice"},
	})
	if err != nil {
		t.Fatal(err)
	}
	ok := map[string]string{"key": "users/alice/a.png", "Content-Type": "image/png"}
	if code, body := postForm(t, u, fields, ok, bytes.Repeat([]byte("p"), 500)); code/100 != 2 {
		t.Fatalf("POST within the policy: status %d %s", code, body)
	}
	info, err := s.Stat(c, "posted", "users/alice/a.png")
	if err != nil || info.Size != 500 || info.ContentType != "image/png" || info.Metadata["owner"] != "alice" {
		t.Errorf("posted object: %+v, %v", info, err)
	}
	for _, tc := range []struct {
		name     string
		override map[string]string
		size     int
	}{
		{"too large", ok, 2000},
		{"key outside the prefix", map[string]string{"key": "users/bob/a.png", "Content-Type": "image/png"}, 10},
		{"other content type", map[string]string{"key": "users/alice/b.png", "Content-Type": "text/html"}, 10},
	} {
		code, body := postForm(t, u, fields, tc.override, bytes.Repeat([]byte("p"), tc.size))
		if code/100 == 2 {
			t.Errorf("POST %s accepted (%d)", tc.name, code)
		} else {
			t.Logf("POST %s refused: %d %.120s", tc.name, code, body)
		}
	}
	if _, err := s.Stat(c, "posted", "users/bob/a.png"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("refused POST stored an object: %v", err)
	}
	// An exact key, and several content types as their common prefix.
	u, fields, err = s.PresignPost(c, storage.PostPolicy{
		Bucket: "posted", Key: "exact.gif", ContentTypes: []string{"image/gif", "image/png"},
		MaxBytes: 100, Expiry: time.Minute, SuccessCode: 201,
	})
	if err != nil {
		t.Fatal(err)
	}
	if code, body := postForm(t, u, fields, map[string]string{"Content-Type": "image/gif"}, []byte("GIF89a")); code != http.StatusCreated {
		t.Errorf("POST to an exact key: %d %s", code, body)
	}
	if _, _, err := s.PresignPost(c, storage.PostPolicy{Bucket: "posted", Key: "k", Expiry: time.Minute, ExtraFields: map[string]string{"acl": "public-read"}}); err == nil {
		t.Errorf("unsupported form field accepted")
	}
}

func TestUnavailable(t *testing.T) {
	s, err := s3.New(t.Context(), s3.Config{Endpoint: "127.0.0.1:1", AccessKey: "a", SecretKey: "b", PathStyle: true, Region: "us-east-1", MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(t.Context()); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("Ping of a closed port = %v, want ErrUnavailable", err)
	}
	if _, err := s.Stat(t.Context(), "bucket", "key"); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("Stat on a closed port = %v, want ErrUnavailable", err)
	}
	if _, err := s3.New(t.Context(), s3.Config{Endpoint: "http://x/y", AccessKey: "a"}); err == nil {
		t.Errorf("bad config accepted")
	}
}
