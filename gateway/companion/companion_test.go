package companion_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"image"
	"image/jpeg"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/gateway/auth"
	"github.com/imgate/imgate/gateway/companion"
	"github.com/imgate/imgate/gateway/s3api"
	"github.com/imgate/imgate/gateway/sigv4"
	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/gateway/storage/fs"
	"github.com/imgate/imgate/gateway/uploadtoken"
)

const orig = "imgate-original"

type env struct {
	t      *testing.T
	url    string
	store  storage.Storage
	tokens *uploadtoken.Signer
}

// newEnv serves the real S3 handler over an fs store and the Companion
// routes on one test server, as imgate serve does.
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
	as, err := auth.NewStore(auth.Config{RootAccessKey: "AKROOT", RootSecretKey: "rootsecret123", TokenSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := uploadtoken.NewSigner(secret)
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
	ch, err := companion.New(companion.Config{Tokens: tokens, Auth: as, S3: s3h, Bucket: "imgate", PublicURL: srv.URL, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/v1/companion/", ch)
	mux.Handle("/", s3h)
	return &env{t: t, url: srv.URL, store: st, tokens: tokens}
}

func (e *env) endpoint(c uploadtoken.Claims) string {
	if c.Expires == 0 {
		c.Expires = time.Now().Add(time.Hour).Unix()
	}
	tok, err := e.tokens.Sign(c)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.url + "/v1/companion/" + tok + "/s3"
}

// do sends a request and decodes the JSON answer into out; it returns the status.
func (e *env) do(method, u string, body any, out any) int {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u, rd)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			e.t.Fatalf("%s %s: decode: %v", method, u, err)
		}
	}
	return resp.StatusCode
}

func jpegBytes(t *testing.T, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	_, _ = rand.Read(img.Pix) // noise: the file stays big
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type errAnswer struct {
	Error string `json:"error"`
}

func postForm(t *testing.T, u string, fields map[string]string, file []byte) *http.Response {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", "pic.jpg")
	_, _ = fw.Write(file)
	_ = mw.Close()
	resp, err := http.Post(u, mw.FormDataContentType(), &b)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestParamsPostForm(t *testing.T) {
	e := newEnv(t)
	img := jpegBytes(t, 64, 64)
	ep := e.endpoint(uploadtoken.Claims{Prefix: "users/1/", MaxBytes: int64(len(img)) + 10, ContentTypes: []string{"image/jpeg"}})
	var p struct {
		Method, URL string
		Fields      map[string]string
	}
	if code := e.do("GET", ep+"/params?filename="+url.QueryEscape("../My photo.jpg")+"&type=image/jpeg", nil, &p); code != 200 {
		t.Fatalf("params: %d", code)
	}
	key := p.Fields["key"]
	if p.Method != "POST" || !strings.HasSuffix(p.URL, "/"+orig+"/") || !strings.HasPrefix(key, "users/1/") || !strings.HasSuffix(key, "-My_photo.jpg") {
		t.Fatalf("params answer %+v", p)
	}
	if resp := postForm(t, p.URL, p.Fields, img); resp.StatusCode/100 != 2 || resp.Header.Get("ETag") == "" {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
	if _, err := e.store.Stat(context.Background(), orig, key); err != nil {
		t.Fatalf("uploaded object: %v", err)
	}
	// Over max_bytes: the form's content-length-range refuses it.
	if code := e.do("GET", ep+"/params?filename=big.jpg&type=image/jpeg", nil, &p); code != 200 {
		t.Fatal(code)
	}
	if resp := postForm(t, p.URL, p.Fields, append(img, make([]byte, 100)...)); resp.StatusCode != 400 {
		t.Fatalf("POST over max_bytes: %d", resp.StatusCode)
	}
	var ea errAnswer
	if code := e.do("GET", ep+"/params?filename=a.png&type=image/png", nil, &ea); code != 415 || ea.Error == "" {
		t.Fatalf("type outside the token: %d %+v", code, ea)
	}
}

// multipartUpload runs Uppy's companion sequence for body in parts of partSize.
func (e *env) multipartUpload(ep string, body []byte, partSize int) (key string, status int, ea errAnswer) {
	e.t.Helper()
	var c struct{ Key, UploadID, Bucket string }
	if code := e.do("POST", ep+"/multipart", map[string]any{"filename": "big.jpg", "type": "image/jpeg", "metadata": map[string]string{"name": "big.jpg"}}, &c); code != 200 {
		e.t.Fatalf("create: %d", code)
	}
	q := "?key=" + url.QueryEscape(c.Key)
	var parts []map[string]any
	for n, off := 1, 0; off < len(body); n, off = n+1, off+partSize {
		var pu struct {
			URL     string
			Expires int64
		}
		if code := e.do("GET", ep+"/multipart/"+url.PathEscape(c.UploadID)+"/"+strconv.Itoa(n)+q, nil, &pu); code != 200 {
			return c.Key, code, ea
		}
		req, _ := http.NewRequest(http.MethodPut, pu.URL, bytes.NewReader(body[off:min(off+partSize, len(body))]))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			e.t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusBadRequest && n > 1 {
			// The S3 surface refused the part itself (EntityTooLarge: the
			// credentials carry the token's max_bytes).
			return c.Key, resp.StatusCode, ea
		}
		if resp.StatusCode != 200 || resp.Header.Get("ETag") == "" {
			e.t.Fatalf("part %d: %d", n, resp.StatusCode)
		}
		parts = append(parts, map[string]any{"PartNumber": n, "ETag": resp.Header.Get("ETag")})
	}
	var listed []struct {
		PartNumber int
		Size       int64
		ETag       string
	}
	if code := e.do("GET", ep+"/multipart/"+url.PathEscape(c.UploadID)+q, nil, &listed); code != 200 || len(listed) != len(parts) {
		e.t.Fatalf("list parts: %d %+v", code, listed)
	}
	var done struct{ Location, Key, Bucket string }
	raw := json.RawMessage{}
	code := e.do("POST", ep+"/multipart/"+url.PathEscape(c.UploadID)+"/complete"+q, map[string]any{"parts": parts}, &raw)
	_ = json.Unmarshal(raw, &done)
	_ = json.Unmarshal(raw, &ea)
	if code == 200 && (done.Key != c.Key || done.Bucket != orig || !strings.HasSuffix(done.Location, "/"+orig+"/"+c.Key)) {
		e.t.Fatalf("complete answer %+v", done)
	}
	return c.Key, code, ea
}

func TestMultipart(t *testing.T) {
	e := newEnv(t)
	body := jpegBytes(t, 2600, 2600)
	if len(body) < 6<<20 {
		t.Fatalf("test image of %d bytes is too small for two parts", len(body))
	}
	ep := e.endpoint(uploadtoken.Claims{Prefix: "users/2/", MaxBytes: 20 << 20})
	key, code, ea := e.multipartUpload(ep, body, 5<<20)
	if code != 200 || !strings.HasPrefix(key, "users/2/") {
		t.Fatalf("complete: %d %+v", code, ea)
	}
	info, err := e.store.Stat(context.Background(), orig, key)
	if err != nil || info.Size != int64(len(body)) {
		t.Fatalf("stored: %+v %v", info, err)
	}
	// Over max_bytes: the second part is not signed, or refused as it
	// arrives (the part's credentials carry max_bytes).
	small := e.endpoint(uploadtoken.Claims{Prefix: "users/2/", MaxBytes: 5 << 20})
	key, code, _ = e.multipartUpload(small, body, 5<<20)
	if code != http.StatusRequestEntityTooLarge && code != http.StatusBadRequest {
		t.Fatalf("over max_bytes: %d", code)
	}
	if _, err := e.store.Stat(context.Background(), orig, key); err == nil {
		t.Fatal("an upload over max_bytes was stored")
	}
}

func TestLimits(t *testing.T) {
	e := newEnv(t)
	ep := e.endpoint(uploadtoken.Claims{Prefix: "users/3/"})
	var ea errAnswer
	for name, tc := range map[string]struct {
		method, url string
		status      int
	}{
		"bad token":         {"GET", e.url + "/v1/companion/iut1.x.y/s3/params?filename=a.jpg", 401},
		"expired token":     {"GET", e.endpoint(uploadtoken.Claims{Prefix: "p/", Expires: time.Now().Add(-time.Second).Unix()}) + "/params?filename=a.jpg", 401},
		"key outside":       {"GET", ep + "/multipart/x?key=users/4/a.jpg", 403},
		"no key":            {"DELETE", ep + "/multipart/x", 400},
		"bad part number":   {"GET", ep + "/multipart/x/0?key=users/3/a.jpg", 400},
		"unknown upload id": {"GET", ep + "/multipart/nope?key=users/3/a.jpg", 404},
		"unknown route":     {"GET", ep + "/sts", 404},
	} {
		ea = errAnswer{}
		if code := e.do(tc.method, tc.url, nil, &ea); code != tc.status || ea.Error == "" {
			t.Errorf("%s: %d %+v, want %d with an error", name, code, ea, tc.status)
		}
	}
}
