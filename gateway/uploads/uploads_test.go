package uploads_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"encoding/xml"
	"image"
	"image/png"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/imgate/imgate/gateway/auth"
	"github.com/imgate/imgate/gateway/s3api"
	"github.com/imgate/imgate/gateway/sigv4"
	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/gateway/storage/fs"
	"github.com/imgate/imgate/gateway/uploads"
	"github.com/imgate/imgate/gateway/uploadtoken"
)

const (
	apiKey = "key_0123456789abcdef"
	orig   = "imgate-original"
)

type env struct {
	t     *testing.T
	url   string
	store storage.Storage
}

// newEnv serves the S3 surface and the upload API on one test server, over a real fs store.
func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	st, err := fs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{orig, "imgate-resized"} {
		if err := st.EnsureBucket(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	as, err := auth.NewStore(auth.Config{RootAccessKey: "AKROOT", RootSecretKey: "rootsecret123", TokenSecret: secret,
		APIKeys: []auth.APIKey{{Name: "alice", Key: "alice_key_0123456789", Prefix: "users/alice/"}}})
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	s3h, err := s3api.New(s3api.Config{Storage: st, Bucket: "imgate", Verifier: &sigv4.Verifier{Region: "us-east-1", Lookup: as.Lookup}, Auth: as, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	tokens, err := uploadtoken.NewSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	uh, err := uploads.New(uploads.Config{APIKeys: []string{apiKey}, Auth: as, Bucket: "imgate", PublicURL: srv.URL, Logger: quiet, Tokens: tokens})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/v1/uploads", uh)
	mux.Handle("/v1/credentials", uh)
	mux.Handle("/v1/upload-tokens", uh)
	mux.Handle("/", s3h)
	return &env{t: t, url: srv.URL, store: st}
}

func (e *env) call(path, key string, body any, out any) int {
	e.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, e.url+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		e.t.Fatalf("decode %s answer: %v", path, err)
	}
	return resp.StatusCode
}

func (e *env) exists(key string) bool {
	_, err := e.store.Stat(context.Background(), orig, key)
	return err == nil
}

func pngBytes(t *testing.T) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 9, 9))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type errBody struct {
	Error struct{ Code, Message string } `json:"error"`
}

func TestPresignedPutThroughGateway(t *testing.T) {
	e := newEnv(t)
	img := pngBytes(t)
	var res uploads.UploadResponse
	if code := e.call("/v1/uploads", apiKey, map[string]any{"key": "u/a.png", "content_types": []string{"image/png"}, "expires_in": 300}, &res); code != 200 {
		t.Fatalf("status %d", code)
	}
	if res.Method != "PUT" || res.Headers["Content-Type"] != "image/png" || res.ExpiresAt.IsZero() {
		t.Fatalf("answer %+v", res)
	}
	put := func(u string, ct string) *http.Response {
		req, _ := http.NewRequest(http.MethodPut, u, bytes.NewReader(img))
		req.Header.Set("Content-Type", ct)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := put(res.URL, "image/png"); r.StatusCode != 200 || !e.exists("u/a.png") {
		t.Fatalf("PUT with the URL: %d", r.StatusCode)
	}
	// The URL is for that key only: a tampered path fails the signature,
	// and another content type fails too.
	if r := put(strings.Replace(res.URL, "u/a.png", "u/b.png", 1), "image/png"); r.StatusCode != 403 || e.exists("u/b.png") {
		t.Fatalf("tampered key: %d", r.StatusCode)
	}
	if r := put(res.URL, "image/jpeg"); r.StatusCode != 403 {
		t.Fatalf("other content type: %d", r.StatusCode)
	}

	// A prefix gives a fresh key under it.
	var res2 uploads.UploadResponse
	e.call("/v1/uploads", apiKey, map[string]any{"key_prefix": "p/"}, &res2)
	if !strings.HasPrefix(res2.Key, "p/") || len(res2.Key) < 10 {
		t.Fatalf("generated key %q", res2.Key)
	}
	req, _ := http.NewRequest(http.MethodPut, res2.URL, bytes.NewReader(img))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !e.exists(res2.Key) {
		t.Fatalf("PUT generated key: %d", resp.StatusCode)
	}
}

func TestPostFormThroughGateway(t *testing.T) {
	e := newEnv(t)
	img := pngBytes(t)
	var res uploads.UploadResponse
	if code := e.call("/v1/uploads", apiKey, map[string]any{"key_prefix": "forms/", "method": "post", "max_bytes": 1000, "content_types": []string{"image/png"}}, &res); code != 200 {
		t.Fatalf("status %d", code)
	}
	post := func(fields map[string]string, file []byte) (int, string) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		for k, v := range fields {
			_ = mw.WriteField(k, v)
		}
		fw, _ := mw.CreateFormFile("file", "pic.png")
		_, _ = fw.Write(file)
		_ = mw.Close()
		req, _ := http.NewRequest(http.MethodPost, res.URL, &b)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var x struct{ Code string }
		_ = xml.Unmarshal(body, &x)
		return resp.StatusCode, x.Code
	}
	if code, c := post(res.Fields, img); code != 204 || !e.exists("forms/pic.png") {
		t.Fatalf("POST: %d %s", code, c)
	}
	big := append(append([]byte{}, img...), make([]byte, 2000)...)
	f2 := map[string]string{}
	for k, v := range res.Fields {
		f2[k] = v
	}
	f2["key"] = "forms/big.png"
	if code, c := post(f2, big); code != 400 || c != "EntityTooLarge" || e.exists("forms/big.png") {
		t.Fatalf("POST above max_bytes: %d %s", code, c)
	}
	f2["key"] = "other/x.png"
	if code, c := post(f2, img); code != 403 || c != "AccessDenied" || e.exists("other/x.png") {
		t.Fatalf("POST outside prefix: %d %s", code, c)
	}
}

func TestCredentials(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	img := pngBytes(t)
	var creds uploads.CredentialsResponse
	if code := e.call("/v1/credentials", apiKey, map[string]any{"prefix": "tenant/1/", "duration_seconds": 900}, &creds); code != 200 {
		t.Fatalf("status %d", code)
	}
	if creds.AccessKeyID == "" || creds.SecretAccessKey == "" || creds.SessionToken == "" || time.Until(creds.Expiration) < 14*time.Minute {
		t.Fatalf("credentials %+v", creds)
	}
	c, err := minio.New(strings.TrimPrefix(e.url, "http://"), &minio.Options{
		Creds: credentials.NewStaticV4(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken), Region: "us-east-1",
		BucketLookup: minio.BucketLookupPath, MaxRetries: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, orig, "tenant/1/a.png", bytes.NewReader(img), int64(len(img)), minio.PutObjectOptions{}); err != nil {
		t.Fatalf("inside prefix: %v", err)
	}
	_, err = c.PutObject(ctx, orig, "tenant/2/a.png", bytes.NewReader(img), int64(len(img)), minio.PutObjectOptions{})
	if minio.ToErrorResponse(err).Code != "AccessDenied" || e.exists("tenant/2/a.png") {
		t.Fatalf("outside prefix: %v", err)
	}
	// A prefix-limited API key cannot mint outside its prefix.
	var eb errBody
	if code := e.call("/v1/credentials", "alice_key_0123456789", map[string]any{"prefix": "users/bob/"}, &eb); code != 403 {
		t.Fatalf("alice minting for bob: %d %+v", code, eb)
	}
	if code := e.call("/v1/credentials", "alice_key_0123456789", map[string]any{"prefix": "users/alice/x/"}, &creds); code != 200 {
		t.Fatalf("alice minting inside her prefix: %d", code)
	}
}

func TestRequestErrors(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name, path, key string
		body            any
		status          int
		code            string
	}{
		{"no key", "/v1/uploads", "", map[string]any{"key": "a.png"}, 401, "unauthorized"},
		{"wrong key", "/v1/uploads", "nope_nope_nope_nope", map[string]any{"key": "a.png"}, 401, "unauthorized"},
		{"key and prefix", "/v1/uploads", apiKey, map[string]any{"key": "a", "key_prefix": "b/"}, 400, "invalid_request"},
		{"neither", "/v1/uploads", apiKey, map[string]any{}, 400, "invalid_request"},
		{"bad key", "/v1/uploads", apiKey, map[string]any{"key": "../x"}, 400, "invalid_request"},
		{"bad method", "/v1/uploads", apiKey, map[string]any{"key": "a", "method": "get"}, 400, "invalid_request"},
		{"not an image type", "/v1/uploads", apiKey, map[string]any{"key": "a", "content_types": []string{"text/html"}}, 400, "invalid_request"},
		{"too long", "/v1/uploads", apiKey, map[string]any{"key": "a", "expires_in": 604801}, 400, "invalid_request"},
		{"unknown field", "/v1/uploads", apiKey, map[string]any{"key": "a", "bucket": "x"}, 400, "invalid_request"},
		{"backend on fs", "/v1/uploads", apiKey, map[string]any{"key": "a", "target": "backend"}, 400, "invalid_request"},
		{"no prefix", "/v1/credentials", apiKey, map[string]any{}, 400, "invalid_request"},
		{"short duration", "/v1/credentials", apiKey, map[string]any{"prefix": "a/", "duration_seconds": 60}, 400, "invalid_request"},
		{"token without prefix", "/v1/upload-tokens", apiKey, map[string]any{"max_bytes": 5}, 400, "invalid_request"},
		{"token wildcard prefix", "/v1/upload-tokens", apiKey, map[string]any{"prefix": "a*/"}, 400, "invalid_request"},
		{"prefix without /", "/v1/credentials", apiKey, map[string]any{"prefix": "users/42"}, 400, "invalid_request"},
		{"token prefix without /", "/v1/upload-tokens", apiKey, map[string]any{"prefix": "users/42"}, 400, "invalid_request"},
		{"token too short", "/v1/upload-tokens", apiKey, map[string]any{"prefix": "a/", "expires_in": 60}, 400, "invalid_request"},
		{"token not an image", "/v1/upload-tokens", apiKey, map[string]any{"prefix": "a/", "content_types": []string{"text/html"}}, 400, "invalid_request"},
		{"token without API key", "/v1/upload-tokens", "", map[string]any{"prefix": "a/"}, 401, "unauthorized"},
		{"token outside the key's prefix", "/v1/upload-tokens", "alice_key_0123456789", map[string]any{"prefix": "users/bob/"}, 403, "forbidden"},
		{"bad policy", "/v1/credentials", apiKey, map[string]any{"prefix": "a/", "policy": map[string]any{"Statement": "x"}}, 400, "invalid_request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var eb errBody
			if got := e.call(c.path, c.key, c.body, &eb); got != c.status || eb.Error.Code != c.code || eb.Error.Message == "" {
				t.Fatalf("got %d %+v, want %d %s", got, eb, c.status, c.code)
			}
		})
	}
}

func TestUploadToken(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	img := pngBytes(t)
	var res uploads.UploadTokenResponse
	if code := e.call("/v1/upload-tokens", apiKey, map[string]any{"prefix": "users/7/", "max_bytes": 1 << 20, "content_types": []string{"image/png"}, "expires_in": 1800}, &res); code != 200 {
		t.Fatalf("status %d", code)
	}
	if res.Prefix != "users/7/" || res.CompanionEndpoint != e.url+"/v1/companion/"+res.Token ||
		time.Until(res.ExpiresAt) < 29*time.Minute || time.Until(res.ExpiresAt) > 31*time.Minute ||
		!res.Credentials.Expiration.Equal(res.ExpiresAt) || res.Credentials.Bucket != orig {
		t.Fatalf("answer %+v", res)
	}
	c, err := minio.New(strings.TrimPrefix(e.url, "http://"), &minio.Options{
		Creds:  credentials.NewStaticV4(res.Credentials.AccessKeyID, res.Credentials.SecretAccessKey, res.Credentials.SessionToken),
		Region: "us-east-1", BucketLookup: minio.BucketLookupPath, MaxRetries: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, orig, "users/7/a.png", bytes.NewReader(img), int64(len(img)), minio.PutObjectOptions{}); err != nil {
		t.Fatalf("upload under the prefix: %v", err)
	}
	_, err = c.PutObject(ctx, orig, "users/8/a.png", bytes.NewReader(img), int64(len(img)), minio.PutObjectOptions{})
	if minio.ToErrorResponse(err).Code != "AccessDenied" {
		t.Fatalf("upload outside the prefix: %v", err)
	}
	// max_bytes is signed into the credentials.
	big := append(append([]byte{}, img...), make([]byte, 1<<20)...)
	_, err = c.PutObject(ctx, orig, "users/7/big.png", bytes.NewReader(big), int64(len(big)), minio.PutObjectOptions{})
	if minio.ToErrorResponse(err).Code != "EntityTooLarge" || e.exists("users/7/big.png") {
		t.Fatalf("upload over max_bytes: %v", err)
	}
	// Upload only: the page cannot read back or delete what is there.
	if _, err := c.StatObject(ctx, orig, "users/7/a.png", minio.StatObjectOptions{}); minio.ToErrorResponse(err).Code != "AccessDenied" {
		t.Fatalf("read with page credentials: %v", err)
	}
	if err := c.RemoveObject(ctx, orig, "users/7/a.png", minio.RemoveObjectOptions{}); minio.ToErrorResponse(err).Code != "AccessDenied" || !e.exists("users/7/a.png") {
		t.Fatalf("delete with page credentials: %v", err)
	}
}
