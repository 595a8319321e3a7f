package s3api

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/imgate/imgate/gateway/auth"
	"github.com/imgate/imgate/gateway/storage"
)

func jpegBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, w, h)), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// limited mints temporary credentials of the root key carrying lim.
func (g *gw) limited(lim auth.Limits) *minio.Client {
	g.t.Helper()
	root := &auth.Identity{AccessKey: rootAK, Root: true}
	creds, err := g.auth.MintLimited(context.Background(), root, "", "", time.Hour, lim)
	if err != nil {
		g.t.Fatal(err)
	}
	return g.client(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)
}

// TestSignedLimits: max_bytes and content_types signed into temporary
// credentials hold for PUT (declared and streamed), multipart parts as
// they arrive, and POST forms; what is refused is not stored.
func TestSignedLimits(t *testing.T) {
	g := newGW(t, nil)
	ctx := context.Background()
	small := g.limited(auth.Limits{MaxBytes: 1000})
	big := bigImage(t, 5<<20)
	if _, err := small.PutObject(ctx, orig, "cap/put.png", bytes.NewReader(big), int64(len(big)), minio.PutObjectOptions{}); s3Code(err) != "EntityTooLarge" {
		t.Fatalf("5 MiB PUT under a 1000-byte cap: %v", err)
	}
	// Presigned (no declared size checked by the client; streamed).
	u, err := small.PresignedPutObject(ctx, orig, "cap/presigned.png", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPut, u.String(), bytes.NewReader(big))
	req.ContentLength = -1 // chunked: only the streamed count can refuse it
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if e := readErr(t, resp); e.Code != "EntityTooLarge" {
		t.Fatalf("presigned PUT over the cap: %d %s", resp.StatusCode, e.Code)
	}
	resp.Body.Close()
	tiny := pngBytes(t, 4, 4)
	if _, err := small.PutObject(ctx, orig, "cap/ok.png", bytes.NewReader(tiny), int64(len(tiny)), minio.PutObjectOptions{}); err != nil {
		t.Fatalf("PUT under the cap: %v", err)
	}

	jpegOnly := g.limited(auth.Limits{ContentTypes: []string{"image/jpeg"}})
	png := pngBytes(t, 32, 32)
	if _, err := jpegOnly.PutObject(ctx, orig, "type/x.jpg", bytes.NewReader(png), int64(len(png)), minio.PutObjectOptions{ContentType: "image/jpeg"}); s3Code(err) != "InvalidArgument" {
		t.Fatalf("PNG bytes with image/jpeg-only credentials: %v", err)
	}
	jpg := jpegBytes(t, 32, 32)
	if _, err := jpegOnly.PutObject(ctx, orig, "type/ok.jpg", bytes.NewReader(jpg), int64(len(jpg)), minio.PutObjectOptions{}); err != nil {
		t.Fatalf("JPEG with image/jpeg-only credentials: %v", err)
	}

	// Multipart: part 2 is refused as it arrives once part 1 used the cap.
	mid := g.limited(auth.Limits{MaxBytes: 6 << 20})
	core := minio.Core{Client: mid}
	id, err := core.NewMultipartUpload(ctx, orig, "cap/multi.png", minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	part := bigImage(t, 5<<20)
	if _, err := core.PutObjectPart(ctx, orig, "cap/multi.png", id, 1, bytes.NewReader(part), int64(len(part)), minio.PutObjectPartOptions{}); err != nil {
		t.Fatalf("part 1: %v", err)
	}
	if _, err := core.PutObjectPart(ctx, orig, "cap/multi.png", id, 2, bytes.NewReader(part), int64(len(part)), minio.PutObjectPartOptions{}); s3Code(err) != "EntityTooLarge" {
		t.Fatalf("part 2 past the cap: %v", err)
	}
	parts, err := g.store.ListParts(ctx, orig, "cap/multi.png", id)
	if err != nil || len(parts) != 1 {
		t.Fatalf("stored parts after the refusal: %v %v", parts, err)
	}
	for _, k := range []string{"cap/put.png", "cap/presigned.png", "type/x.jpg"} {
		if g.exists(orig, k) {
			t.Errorf("%s was stored", k)
		}
	}
}

// TestPostSniffedTypeMeetsPolicy: a form whose policy allows only
// image/jpeg stores no PNG bytes, whatever its Content-Type field says.
func TestPostSniffedTypeMeetsPolicy(t *testing.T) {
	g := newGW(t, nil)
	ctx := context.Background()
	post := func(key string, body []byte) *http.Response {
		p := minio.NewPostPolicy()
		_ = p.SetBucket(orig)
		_ = p.SetKey(key)
		_ = p.SetContentType("image/jpeg")
		_ = p.SetExpires(time.Now().Add(time.Minute))
		pu, fields, err := g.root().PresignedPostPolicy(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		ct := newMultipart(&b, fields, body)
		req, _ := http.NewRequest(http.MethodPost, pu.String(), &b)
		req.Header.Set("Content-Type", ct)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := post("form/png.jpg", pngBytes(t, 16, 16))
	if e := readErr(t, resp); resp.StatusCode != http.StatusForbidden || e.Code != "AccessDenied" {
		t.Fatalf("PNG bytes in an image/jpeg form: %d %s", resp.StatusCode, e.Code)
	}
	resp = post("form/ok.jpg", jpegBytes(t, 16, 16))
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("JPEG in an image/jpeg form: %d", resp.StatusCode)
	}
	if g.exists(orig, "form/png.jpg") || !g.exists(orig, "form/ok.jpg") {
		t.Fatal("stored objects do not match the answers")
	}
}

// countingStore counts the part listings asked of a real store.
type countingStore struct {
	storage.Storage
	lists atomic.Int64
}

func (c *countingStore) ListParts(ctx context.Context, bucket, key, uploadID string) ([]storage.PartInfo, error) {
	c.lists.Add(1)
	return c.Storage.ListParts(ctx, bucket, key, uploadID)
}

// TestUploadPartsListedOnce: the part limit of a multipart upload comes
// from the part tally, so its parts are listed on the backend once for the
// parts (within the tally's TTL, here an hour) and once at Complete, not
// once per part; the limit still holds (TestSignedLimits).
func TestUploadPartsListedOnce(t *testing.T) {
	var cs *countingStore
	g := newGW(t, func(c *Config) {
		cs = &countingStore{Storage: c.Storage}
		c.Storage = cs
	})
	g.h.tally = newPartTally(cs.ListParts, time.Hour, time.Now)
	ctx := context.Background()
	core := minio.Core{Client: g.root()}
	id, err := core.NewMultipartUpload(ctx, orig, "mp/listed.png", minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bodies := [][]byte{bigImage(t, 5<<20), bigImage(t, 5<<20), bigImage(t, 5<<20), pngBytes(t, 8, 8)}
	var parts []minio.CompletePart
	for i, b := range bodies {
		p, err := core.PutObjectPart(ctx, orig, "mp/listed.png", id, i+1, bytes.NewReader(b), int64(len(b)), minio.PutObjectPartOptions{})
		if err != nil {
			t.Fatalf("part %d: %v", i+1, err)
		}
		parts = append(parts, minio.CompletePart{PartNumber: i + 1, ETag: p.ETag})
	}
	if n := cs.lists.Load(); n != 1 {
		t.Fatalf("%d part listings for %d parts, want 1", n, len(bodies))
	}
	if _, err := core.CompleteMultipartUpload(ctx, orig, "mp/listed.png", id, parts, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := cs.lists.Load(); n != 2 {
		t.Fatalf("%d part listings after Complete, want 2", n)
	}
	g.h.tally.mu.Lock()
	left := len(g.h.tally.uploads)
	g.h.tally.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d tallies left after Complete, want 0", left)
	}
}
