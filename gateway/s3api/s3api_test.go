package s3api

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/signer"

	"github.com/imgate/imgate/gateway/auth"
	"github.com/imgate/imgate/gateway/sigv4"
	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/gateway/storage/fs"
)

const (
	rootAK  = "AKROOTTEST"
	rootSK  = "rootsecretrootsecret"
	aliceAK = "AKALICE"
	aliceSK = "alicesecretalicesecret"
	orig    = "imgate-original"
	resized = "imgate-resized"
)

// gw is an in-process gateway over a real fs store.
type gw struct {
	t       *testing.T
	srv     *httptest.Server
	store   storage.Storage
	h       *handler
	auth    *auth.Store
	mu      sync.Mutex
	hooked  []storage.ObjectInfo
	deleted []string
	hookErr error
}

func newGW(t *testing.T, mod func(*Config)) *gw {
	t.Helper()
	ctx := context.Background()
	st, err := fs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{orig, resized} {
		if err := st.EnsureBucket(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	as, err := auth.NewStore(auth.Config{
		RootAccessKey: rootAK, RootSecretKey: rootSK, TokenSecret: secret,
		Keys: []auth.StaticKey{{AccessKey: aliceAK, SecretKey: aliceSK, Prefix: "users/alice/"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	g := &gw{t: t, store: st, auth: as}
	cfg := Config{
		Storage:  st,
		Bucket:   "imgate",
		Verifier: &sigv4.Verifier{Region: "us-east-1", Lookup: as.Lookup},
		Auth:     as,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Hooks: Hooks{
			Uploaded: func(ctx context.Context, obj storage.ObjectInfo) error {
				g.mu.Lock()
				defer g.mu.Unlock()
				g.hooked = append(g.hooked, obj)
				return g.hookErr
			},
			Deleted: func(ctx context.Context, bucket, key string) error {
				g.mu.Lock()
				defer g.mu.Unlock()
				g.deleted = append(g.deleted, bucket+"/"+key)
				return nil
			},
		},
	}
	if mod != nil {
		mod(&cfg)
	}
	hh, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	g.h = hh.(*handler)
	g.srv = httptest.NewServer(hh)
	t.Cleanup(g.srv.Close)
	return g
}

func (g *gw) host() string { return strings.TrimPrefix(g.srv.URL, "http://") }

func (g *gw) client(ak, sk, token string) *minio.Client {
	return g.clientWith(ak, sk, token, false)
}

func (g *gw) clientWith(ak, sk, token string, trailing bool) *minio.Client {
	g.t.Helper()
	c, err := minio.New(g.host(), &minio.Options{
		Creds: credentials.NewStaticV4(ak, sk, token), Secure: false,
		Region: "us-east-1", BucketLookup: minio.BucketLookupPath, TrailingHeaders: trailing, MaxRetries: 1,
	})
	if err != nil {
		g.t.Fatal(err)
	}
	return c
}

func (g *gw) root() *minio.Client { return g.client(rootAK, rootSK, "") }

// exists reports whether an object is stored.
func (g *gw) exists(bucket, key string) bool {
	g.t.Helper()
	_, err := g.store.Stat(context.Background(), bucket, key)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		g.t.Fatalf("stat %s/%s: %v", bucket, key, err)
	}
	return err == nil
}

func (g *gw) count(bucket string) int {
	n := 0
	for _, err := range g.store.List(context.Background(), bucket, storage.ListOptions{}) {
		if err != nil {
			g.t.Fatal(err)
		}
		n++
	}
	return n
}

// pngBytes returns a real small PNG.
func pngBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// bigImage returns n bytes that sniff as PNG (a PNG signature followed by random bytes).
func bigImage(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, _ = rand.Read(b)
	copy(b, pngBytes(t, 4, 4)[:64])
	return b
}

func s3Code(err error) string {
	return minio.ToErrorResponse(err).Code
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func TestPutGetRoundTripAllPayloadModes(t *testing.T) {
	g := newGW(t, nil)
	ctx := context.Background()
	data := pngBytes(t, 64, 48)
	cases := []struct {
		name     string
		opts     minio.PutObjectOptions
		size     int64
		trailing bool
	}{
		{"streaming-signed", minio.PutObjectOptions{}, int64(len(data)), false},
		{"unsigned-md5", minio.PutObjectOptions{DisableContentSha256: true, SendContentMd5: true}, int64(len(data)), false},
		{"streaming-trailer-crc32c", minio.PutObjectOptions{Checksum: minio.ChecksumCRC32C}, int64(len(data)), true},
		{"unknown-size", minio.PutObjectOptions{PartSize: 5 << 20}, -1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key := "rt/" + tc.name + ".png"
			info, err := g.clientWith(rootAK, rootSK, "", tc.trailing).PutObject(ctx, orig, key, bytes.NewReader(data), tc.size, tc.opts)
			if err != nil {
				t.Fatalf("put: %v", err)
			}
			if tc.size >= 0 && info.ETag != md5hex(data) {
				t.Errorf("etag %q, want %q", info.ETag, md5hex(data))
			}
			obj, err := g.root().GetObject(ctx, orig, key, minio.GetObjectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(obj)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("round trip differs: %d bytes vs %d", len(got), len(data))
			}
			st, err := g.root().StatObject(ctx, orig, key, minio.StatObjectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if st.ContentType != "image/png" {
				t.Errorf("content type %q, want the sniffed image/png", st.ContentType)
			}
		})
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.hooked) != len(cases) {
		t.Errorf("Uploaded hook ran %d times, want %d", len(g.hooked), len(cases))
	}
}

func TestMultipartUploadETagAndSniff(t *testing.T) {
	g := newGW(t, nil)
	ctx := context.Background()
	data := bigImage(t, 11<<20+123)
	info, err := g.root().PutObject(ctx, orig, "mp/big.png", bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{PartSize: 5 << 20, ContentType: "image/png"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(info.ETag, "-3") {
		t.Errorf("multipart etag %q, want the -3 suffix", info.ETag)
	}
	rc, _, err := g.store.Get(ctx, orig, "mp/big.png", storage.GetOptions{Length: -1})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, data) {
		t.Fatal("multipart object differs")
	}

	// A part 1 that is not an image is refused; nothing is completed.
	core := minio.Core{Client: g.root()}
	id, err := core.NewMultipartUpload(ctx, orig, "mp/text.png", minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = core.PutObjectPart(ctx, orig, "mp/text.png", id, 1, strings.NewReader(strings.Repeat("hello ", 1000)), 6000, minio.PutObjectPartOptions{})
	if s3Code(err) != "InvalidArgument" {
		t.Fatalf("text part 1: got %v, want InvalidArgument", err)
	}
	// Completing without part 1 is refused.
	p2, err := core.PutObjectPart(ctx, orig, "mp/text.png", id, 2, bytes.NewReader(data[:6<<20]), 6<<20, minio.PutObjectPartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = core.CompleteMultipartUpload(ctx, orig, "mp/text.png", id, []minio.CompletePart{{PartNumber: 2, ETag: p2.ETag}}, minio.PutObjectOptions{})
	if s3Code(err) != "InvalidPart" {
		t.Fatalf("complete without part 1: got %v, want InvalidPart", err)
	}
	if g.exists(orig, "mp/text.png") {
		t.Fatal("refused multipart upload was stored")
	}
	lp, err := core.ListObjectParts(ctx, orig, "mp/text.png", id, 0, 1000)
	if err != nil || len(lp.ObjectParts) != 1 || lp.ObjectParts[0].PartNumber != 2 {
		t.Fatalf("ListParts: %+v %v", lp, err)
	}
	ups, err := core.ListMultipartUploads(ctx, orig, "mp/", "", "", "", 100)
	if err != nil || len(ups.Uploads) != 1 {
		t.Fatalf("ListMultipartUploads: %+v %v", ups, err)
	}
	if err := core.AbortMultipartUpload(ctx, orig, "mp/text.png", id); err != nil {
		t.Fatal(err)
	}
	_, err = core.ListObjectParts(ctx, orig, "mp/text.png", id, 0, 1000)
	if s3Code(err) != "NoSuchUpload" {
		t.Fatalf("after abort: %v, want NoSuchUpload", err)
	}
}

func TestRefusalsStoreNothing(t *testing.T) {
	g := newGW(t, func(c *Config) { c.MaxObjectBytes = 1 << 20 })
	ctx := context.Background()
	img := pngBytes(t, 16, 16)
	alice := g.client(aliceAK, aliceSK, "")
	cases := []struct {
		name   string
		put    func() error
		bucket string
		key    string
		code   string
	}{
		{"not an image", func() error {
			_, err := g.root().PutObject(ctx, orig, "x/text.png", strings.NewReader("just text"), 9, minio.PutObjectOptions{ContentType: "image/png"})
			return err
		}, orig, "x/text.png", "InvalidArgument"},
		{"html disguised", func() error {
			b := []byte("<html><script>alert(1)</script></html>")
			_, err := g.root().PutObject(ctx, orig, "x/evil.jpg", bytes.NewReader(b), int64(len(b)), minio.PutObjectOptions{ContentType: "image/jpeg"})
			return err
		}, orig, "x/evil.jpg", "InvalidArgument"},
		{"resized bucket", func() error {
			_, err := g.root().PutObject(ctx, resized, "150x/a.png", bytes.NewReader(img), int64(len(img)), minio.PutObjectOptions{})
			return err
		}, resized, "150x/a.png", "AccessDenied"},
		{"outside prefix", func() error {
			_, err := alice.PutObject(ctx, orig, "users/bob/a.png", bytes.NewReader(img), int64(len(img)), minio.PutObjectOptions{})
			return err
		}, orig, "users/bob/a.png", "AccessDenied"},
		{"too large declared", func() error {
			b := bigImage(t, 1<<20+1)
			_, err := g.root().PutObject(ctx, orig, "x/big.png", bytes.NewReader(b), int64(len(b)), minio.PutObjectOptions{DisableMultipart: true})
			return err
		}, orig, "x/big.png", "EntityTooLarge"},
		{"wrong secret", func() error {
			_, err := g.client(rootAK, "wrongwrongwrong", "").PutObject(ctx, orig, "x/ws.png", bytes.NewReader(img), int64(len(img)), minio.PutObjectOptions{})
			return err
		}, orig, "x/ws.png", "SignatureDoesNotMatch"},
		{"bad key", func() error {
			_, err := g.root().PutObject(ctx, orig, "x/../y.png", bytes.NewReader(img), int64(len(img)), minio.PutObjectOptions{})
			return err
		}, orig, "y.png", "InvalidArgument"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.put()
			if got := s3Code(err); got != tc.code {
				t.Fatalf("got %q (%v), want %s", got, err, tc.code)
			}
			if g.exists(tc.bucket, tc.key) {
				t.Fatal("refused object was stored")
			}
		})
	}
	if n := g.count(orig) + g.count(resized); n != 0 {
		t.Fatalf("%d objects stored after refusals", n)
	}
	// Alice inside her prefix works.
	if _, err := alice.PutObject(ctx, orig, "users/alice/ok.png", bytes.NewReader(img), int64(len(img)), minio.PutObjectOptions{}); err != nil {
		t.Fatalf("alice inside her prefix: %v", err)
	}
}

// rawPut sends a PUT signed with a signed payload hash but a wrong Content-MD5.
func TestBadContentMD5(t *testing.T) {
	g := newGW(t, nil)
	img := pngBytes(t, 8, 8)
	req, _ := http.NewRequest(http.MethodPut, g.srv.URL+"/"+orig+"/md5/a.png", bytes.NewReader(img))
	req.ContentLength = int64(len(img))
	wrong := md5.Sum([]byte("other"))
	req.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString(wrong[:]))
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	req = signer.SignV4(*req, rootAK, rootSK, "", "us-east-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	e := readErr(t, resp)
	if e.Code != "BadDigest" || resp.StatusCode != 400 {
		t.Fatalf("got %d %s, want 400 BadDigest", resp.StatusCode, e.Code)
	}
	if g.exists(orig, "md5/a.png") {
		t.Fatal("object with a bad digest stored")
	}
	if e.RequestID == "" || resp.Header.Get("x-amz-request-id") != e.RequestID {
		t.Errorf("request id: body %q header %q", e.RequestID, resp.Header.Get("x-amz-request-id"))
	}
}

func readErr(t *testing.T, resp *http.Response) errorResponse {
	t.Helper()
	var e errorResponse
	b, _ := io.ReadAll(resp.Body)
	if err := xml.Unmarshal(b, &e); err != nil {
		t.Fatalf("error body %q: %v", b, err)
	}
	return e
}

func TestSlowDownWhenFull(t *testing.T) {
	g := newGW(t, func(c *Config) { c.MaxConcurrentUploads = 2 })
	// Occupy every slot, as two uploads in flight would.
	for range 2 {
		g.h.uploads <- struct{}{}
	}
	img := pngBytes(t, 8, 8)
	_, err := g.root().PutObject(context.Background(), orig, "busy.png", bytes.NewReader(img), int64(len(img)), minio.PutObjectOptions{})
	if s3Code(err) != "SlowDown" {
		t.Fatalf("got %v, want SlowDown", err)
	}
	<-g.h.uploads
	if _, err := g.root().PutObject(context.Background(), orig, "busy.png", bytes.NewReader(img), int64(len(img)), minio.PutObjectOptions{}); err != nil {
		t.Fatalf("with a free slot: %v", err)
	}
}

func TestUploadedHookFailureIsSlowDown(t *testing.T) {
	g := newGW(t, nil)
	g.hookErr = errors.New("job store down")
	img := pngBytes(t, 8, 8)
	_, err := g.root().PutObject(context.Background(), orig, "hook.png", bytes.NewReader(img), int64(len(img)), minio.PutObjectOptions{})
	if s3Code(err) != "SlowDown" {
		t.Fatalf("got %v, want SlowDown", err)
	}
}

func TestListingAndReads(t *testing.T) {
	g := newGW(t, nil)
	ctx := context.Background()
	img := pngBytes(t, 8, 8)
	keys := []string{"a/1.png", "a/2.png", "a/b/3.png", "c.png", "d/4.png", "sp ace+plus%.png"}
	for _, k := range keys {
		if _, err := g.root().PutObject(ctx, orig, k, bytes.NewReader(img), int64(len(img)), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for o := range g.root().ListObjects(ctx, orig, minio.ListObjectsOptions{Recursive: true, MaxKeys: 2}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		got = append(got, o.Key)
	}
	if strings.Join(got, ",") != strings.Join(keys, ",") {
		t.Fatalf("recursive list (pages of 2) = %v", got)
	}
	got = nil
	for o := range g.root().ListObjects(ctx, orig, minio.ListObjectsOptions{MaxKeys: 1}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		got = append(got, o.Key)
	}
	if strings.Join(got, ",") != "a/,c.png,d/,sp ace+plus%.png" {
		t.Fatalf("delimited list (pages of 1) = %v", got)
	}
	got = nil
	for o := range g.root().ListObjects(ctx, orig, minio.ListObjectsOptions{UseV1: true, Prefix: "a/", Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		got = append(got, o.Key)
	}
	if strings.Join(got, ",") != "a/1.png,a/2.png,a/b/3.png" {
		t.Fatalf("v1 list = %v", got)
	}
	// Range reads.
	obj, err := g.root().GetObject(ctx, orig, "c.png", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	if _, err := obj.ReadAt(buf, 5); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf, img[5:15]) {
		t.Fatal("range read differs")
	}
	// Buckets.
	bs, err := g.root().ListBuckets(ctx)
	if err != nil || len(bs) != 2 {
		t.Fatalf("ListBuckets: %v %v", bs, err)
	}
	if ok, err := g.root().BucketExists(ctx, resized); err != nil || !ok {
		t.Fatalf("HeadBucket resized: %v %v", ok, err)
	}
	if ok, err := g.root().BucketExists(ctx, "nope-bucket"); err != nil || ok {
		t.Fatalf("HeadBucket unknown: %v %v", ok, err)
	}
	if _, err2 := g.root().StatObject(ctx, orig, "missing.png", minio.StatObjectOptions{}); s3Code(err2) != "NoSuchKey" {
		t.Fatalf("stat missing: %v", err2)
	}
	// Delete runs the hook.
	if err := g.root().RemoveObject(ctx, orig, "c.png", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if g.exists(orig, "c.png") || len(g.deleted) != 1 {
		t.Fatalf("delete: exists=%v hooks=%v", g.exists(orig, "c.png"), g.deleted)
	}
	// DeleteObjects.
	ch := make(chan minio.ObjectInfo, 2)
	ch <- minio.ObjectInfo{Key: "a/1.png"}
	ch <- minio.ObjectInfo{Key: "a/2.png"}
	close(ch)
	for e := range g.root().RemoveObjects(ctx, orig, ch, minio.RemoveObjectsOptions{}) {
		t.Fatalf("RemoveObjects: %v", e.Err)
	}
	if g.exists(orig, "a/1.png") || g.exists(orig, "a/2.png") {
		t.Fatal("DeleteObjects left objects")
	}
}

func TestPresignedAndPostPolicy(t *testing.T) {
	g := newGW(t, nil)
	ctx := context.Background()
	img := pngBytes(t, 20, 20)
	u, err := g.root().PresignedPutObject(ctx, orig, "pre/a.png", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPut, u.String(), bytes.NewReader(img))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !g.exists(orig, "pre/a.png") {
		t.Fatalf("presigned PUT: %d", resp.StatusCode)
	}
	// Tampered: same signature, other key.
	bad := strings.Replace(u.String(), "pre/a.png", "pre/b.png", 1)
	req, _ = http.NewRequest(http.MethodPut, bad, bytes.NewReader(img))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if e := readErr(t, resp); e.Code != "SignatureDoesNotMatch" {
		t.Fatalf("tampered URL: %s", e.Code)
	}
	resp.Body.Close()
	if g.exists(orig, "pre/b.png") {
		t.Fatal("tampered URL stored an object")
	}

	// POST policy.
	post := func(key string, body []byte, max int64) (*http.Response, error) {
		p := minio.NewPostPolicy()
		_ = p.SetBucket(orig)
		_ = p.SetKeyStartsWith("post/")
		_ = p.SetExpires(time.Now().Add(time.Minute))
		_ = p.SetContentLengthRange(1, max)
		pu, fields, err := g.root().PresignedPostPolicy(ctx, p)
		if err != nil {
			return nil, err
		}
		fields["key"] = key
		var b bytes.Buffer
		mw := newMultipart(&b, fields, body)
		req, _ := http.NewRequest(http.MethodPost, pu.String(), &b)
		req.Header.Set("Content-Type", mw)
		return http.DefaultClient.Do(req)
	}
	resp, err = post("post/ok.png", img, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || !g.exists(orig, "post/ok.png") {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
	resp, err = post("post/big.png", bigImage(t, 4096), 1000)
	if err != nil {
		t.Fatal(err)
	}
	if e := readErr(t, resp); e.Code != "EntityTooLarge" {
		t.Fatalf("POST too large: %s", e.Code)
	}
	resp, err = post("elsewhere/x.png", img, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if e := readErr(t, resp); e.Code != "AccessDenied" {
		t.Fatalf("POST outside starts-with: %s", e.Code)
	}
	if g.exists(orig, "post/big.png") || g.exists(orig, "elsewhere/x.png") {
		t.Fatal("refused POST stored an object")
	}
}

// newMultipart writes a form with fields then the file, returns the content type.
func newMultipart(w io.Writer, fields map[string]string, file []byte) string {
	mw := multipart.NewWriter(w)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", "upload.png")
	_, _ = fw.Write(file)
	_ = mw.Close()
	return mw.FormDataContentType()
}

func TestSTSAssumeRole(t *testing.T) {
	g := newGW(t, nil)
	ctx := context.Background()
	img := pngBytes(t, 8, 8)
	creds, err := credentials.NewSTSAssumeRole(g.srv.URL, credentials.STSAssumeRoleOptions{
		AccessKey: aliceAK, SecretKey: aliceSK, Location: "us-east-1", DurationSeconds: 900,
	})
	if err != nil {
		t.Fatal(err)
	}
	v, err := creds.GetWithContext(nil)
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	if !strings.HasPrefix(v.AccessKeyID, "IGT") || v.SessionToken == "" {
		t.Fatalf("credentials: %+v", v.AccessKeyID)
	}
	c, err := minio.New(g.host(), &minio.Options{Creds: creds, Region: "us-east-1", BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, orig, "users/alice/sts.png", bytes.NewReader(img), int64(len(img)), minio.PutObjectOptions{}); err != nil {
		t.Fatalf("temp creds inside prefix: %v", err)
	}
	_, err = c.PutObject(ctx, orig, "users/bob/sts.png", bytes.NewReader(img), int64(len(img)), minio.PutObjectOptions{})
	if s3Code(err) != "AccessDenied" || g.exists(orig, "users/bob/sts.png") {
		t.Fatalf("temp creds outside prefix: %v", err)
	}
	// A wrong action answers an STS error body.
	form := url.Values{"Action": {"GetSessionToken"}, "Version": {"2011-06-15"}}
	req, _ := http.NewRequest(http.MethodPost, g.srv.URL+"/", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	sum := sha256.Sum256([]byte(form.Encode()))
	req.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
	req = signer.SignV4STS(*req, rootAK, rootSK, "us-east-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 400 || !strings.Contains(string(b), "<Code>InvalidAction</Code>") {
		t.Fatalf("GetSessionToken: %d %s", resp.StatusCode, b)
	}
}

func TestParseRange(t *testing.T) {
	cases := []struct {
		h                string
		size             int64
		off, n           int64
		partial, invalid bool
	}{
		{"", 100, 0, 100, false, false},
		{"bytes=0-9", 100, 0, 10, true, false},
		{"bytes=90-", 100, 90, 10, true, false},
		{"bytes=-10", 100, 90, 10, true, false},
		{"bytes=-200", 100, 0, 100, true, false},
		{"bytes=50-1000", 100, 50, 50, true, false},
		{"bytes=100-", 100, 0, 0, false, true},
		{"bytes=-0", 100, 0, 0, false, true},
		{"bytes=5-3", 100, 0, 100, false, false},
		{"bytes=0-1,5-6", 100, 0, 100, false, false},
		{"items=0-1", 100, 0, 100, false, false},
		{"bytes=x-1", 100, 0, 100, false, false},
	}
	for _, c := range cases {
		off, n, partial, err := parseRange(c.h, c.size)
		if (err != nil) != c.invalid {
			t.Errorf("%q: err %v", c.h, err)
			continue
		}
		if !c.invalid && (off != c.off || n != c.n || partial != c.partial) {
			t.Errorf("%q: got %d,%d,%v want %d,%d,%v", c.h, off, n, partial, c.off, c.n, c.partial)
		}
	}
}

func TestSniffContentType(t *testing.T) {
	cases := map[string]string{
		"\xff\xd8\xff\xe0\x00\x10JFIF\x00":                 "image/jpeg",
		"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR":            "image/png",
		"GIF89a\x01\x00\x01\x00":                           "image/gif",
		"RIFF\x10\x00\x00\x00WEBPVP8 ":                     "image/webp",
		"\x00\x00\x00\x1cftypavif\x00\x00":                 "image/avif",
		"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic": "image/heic",
		"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic": "image/heic",
		"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1miaf": "image/heif",
		"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1avif": "image/avif",
		"<html><body>": "text/html",
		"hello":        "text/plain",
	}
	for in, want := range cases {
		if got := sniffContentType([]byte(in)); got != want {
			t.Errorf("%q: %s, want %s", in, got, want)
		}
	}
}

func TestPrefixLimitedIdentityReadsAndLists(t *testing.T) {
	g := newGW(t, nil)
	ctx := context.Background()
	img := pngBytes(t, 8, 8)
	alice := g.client(aliceAK, aliceSK, "")
	for _, k := range []string{"users/alice/a.png", "users/bob/b.png"} {
		if _, err := g.root().PutObject(ctx, orig, k, bytes.NewReader(img), int64(len(img)), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := alice.BucketExists(ctx, orig); err != nil || !ok {
		t.Fatalf("HeadBucket as alice: %v %v", ok, err)
	}
	var got []string
	for o := range alice.ListObjects(ctx, orig, minio.ListObjectsOptions{Prefix: "users/alice/", Recursive: true}) {
		if o.Err != nil {
			t.Fatalf("list inside prefix: %v", o.Err)
		}
		got = append(got, o.Key)
	}
	if strings.Join(got, ",") != "users/alice/a.png" {
		t.Fatalf("alice's listing = %v", got)
	}
	for o := range alice.ListObjects(ctx, orig, minio.ListObjectsOptions{Prefix: "users/", Recursive: true}) {
		if s3Code(o.Err) != "AccessDenied" {
			t.Fatalf("list outside prefix: %+v, want AccessDenied", o)
		}
	}
	if _, err := alice.StatObject(ctx, orig, "users/bob/b.png", minio.StatObjectOptions{}); s3Code(err) != "AccessDenied" {
		t.Fatalf("read outside prefix: %v", err)
	}
	if err := alice.RemoveObject(ctx, orig, "users/bob/b.png", minio.RemoveObjectOptions{}); s3Code(err) != "AccessDenied" || !g.exists(orig, "users/bob/b.png") {
		t.Fatalf("delete outside prefix: %v", err)
	}
}

// CORS belongs to the gateway (package cors, --cors-origins): the S3 handler
// itself answers no preflight and allows no origin.
func TestNoCORSInS3API(t *testing.T) {
	g := newGW(t, nil)
	req, _ := http.NewRequest(http.MethodOptions, g.srv.URL+"/"+orig+"/a.png", nil)
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Access-Control-Request-Method", "PUT")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("OPTIONS: %d %v", resp.StatusCode, resp.Header)
	}
}

// A body without a declared length is cut off at MaxObjectBytes while streaming.
func TestSizeLimitEnforcedWhileStreaming(t *testing.T) {
	g := newGW(t, func(c *Config) { c.MaxObjectBytes = 64 << 10 })
	body := bigImage(t, 200<<10)
	req, _ := http.NewRequest(http.MethodPut, g.srv.URL+"/"+orig+"/stream/big.png", io.MultiReader(bytes.NewReader(body)))
	req.ContentLength = -1 // sent with Transfer-Encoding: chunked
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	req = signer.SignV4(*req, rootAK, rootSK, "", "us-east-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if e := readErr(t, resp); e.Code != "EntityTooLarge" {
		t.Fatalf("got %d %s, want EntityTooLarge", resp.StatusCode, e.Code)
	}
	if g.exists(orig, "stream/big.png") {
		t.Fatal("oversized streamed body was stored")
	}
}

func TestConditionalGet(t *testing.T) {
	g := newGW(t, nil)
	img := pngBytes(t, 8, 8)
	info, err := g.root().PutObject(context.Background(), orig, "c/a.png", bytes.NewReader(img), int64(len(img)), minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		header, value string
		status        int
	}{
		{"If-None-Match", `"` + info.ETag + `"`, 304},
		{"If-None-Match", `"other"`, 200},
		{"If-Match", `"other"`, 412},
		{"If-Match", `"` + info.ETag + `"`, 200},
		{"If-Modified-Since", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat), 304},
		{"If-Unmodified-Since", time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat), 412},
		{"Range", "bytes=0-3", 206},
		{"Range", "bytes=100000-", 416},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(http.MethodGet, g.srv.URL+"/"+orig+"/c/a.png", nil)
		req.Header.Set(c.header, c.value)
		req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		req = signer.SignV4(*req, rootAK, rootSK, "", "us-east-1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("%s: %s → %d, want %d", c.header, c.value, resp.StatusCode, c.status)
		}
		if c.status == 206 && (!bytes.Equal(body, img[:4]) || resp.Header.Get("Content-Range") != fmt.Sprintf("bytes 0-3/%d", len(img))) {
			t.Errorf("range body %x, Content-Range %q", body, resp.Header.Get("Content-Range"))
		}
	}
}

func TestPostSuccessActions(t *testing.T) {
	g := newGW(t, nil)
	img := pngBytes(t, 8, 8)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(key string, extra map[string]string) *http.Response {
		p := minio.NewPostPolicy()
		_ = p.SetBucket(orig)
		_ = p.SetKey(key)
		_ = p.SetExpires(time.Now().Add(time.Minute))
		for k, v := range extra {
			if k == "success_action_status" {
				_ = p.SetSuccessStatusAction(v)
			} else {
				_ = p.SetSuccessActionRedirect(v)
			}
		}
		u, fields, err := g.root().PresignedPostPolicy(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		ct := newMultipart(&b, fields, img)
		req, _ := http.NewRequest(http.MethodPost, u.String(), &b)
		req.Header.Set("Content-Type", ct)
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := post("p/201.png", map[string]string{"success_action_status": "201"})
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 || !strings.Contains(string(body), "<Key>p/201.png</Key>") {
		t.Fatalf("201: %d %s", resp.StatusCode, body)
	}
	resp = post("p/redirect.png", map[string]string{"success_action_redirect": "https://app.example/done?x=1"})
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != 303 || loc.Host != "app.example" || loc.Query().Get("key") != "p/redirect.png" || loc.Query().Get("x") != "1" {
		t.Fatalf("redirect: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestListMultipartUploadsDelimiter(t *testing.T) {
	g := newGW(t, nil)
	core := minio.Core{Client: g.root()}
	ctx := context.Background()
	for _, k := range []string{"u/a/1.png", "u/a/2.png", "u/b.png"} {
		if _, err := core.NewMultipartUpload(ctx, orig, k, minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := core.ListMultipartUploads(ctx, orig, "u/", "", "", "/", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Uploads) != 1 || res.Uploads[0].Key != "u/b.png" || len(res.CommonPrefixes) != 1 || res.CommonPrefixes[0].Prefix != "u/a/" {
		t.Fatalf("uploads %+v prefixes %+v", res.Uploads, res.CommonPrefixes)
	}
}

// Objects that reached the backend without sniffing are never served as active content.
func TestGetServesOnlyImagesInline(t *testing.T) {
	g := newGW(t, nil)
	ctx := context.Background()
	html := "<html><script>alert(1)</script></html>"
	if _, err := g.store.Put(ctx, orig, "direct/page.html", strings.NewReader(html), int64(len(html)), storage.PutOptions{ContentType: "text/html"}); err != nil {
		t.Fatal(err)
	}
	img := pngBytes(t, 4, 4)
	if _, err := g.root().PutObject(ctx, orig, "ok.png", bytes.NewReader(img), int64(len(img)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	get := func(key string) http.Header {
		req, _ := http.NewRequest(http.MethodGet, g.srv.URL+"/"+orig+"/"+key, nil)
		req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		req = signer.SignV4(*req, rootAK, rootSK, "", "us-east-1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header
	}
	h := get("direct/page.html")
	if h.Get("Content-Type") != "application/octet-stream" || h.Get("Content-Disposition") != "attachment" || !strings.Contains(h.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("html object served with %v", h)
	}
	if h := get("ok.png"); h.Get("Content-Type") != "image/png" || h.Get("Content-Disposition") != "" {
		t.Fatalf("png served with %v", h)
	}
}
