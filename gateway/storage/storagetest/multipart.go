package storagetest

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/gateway/storage"
)

// putPart uploads one part and checks its ETag.
func putPart(t *testing.T, s storage.Storage, b, key, id string, n int, data []byte) storage.PartInfo {
	t.Helper()
	sum := md5.Sum(data)
	p, err := s.PutPart(ctx(t), b, key, id, n, onlyReader{bytes.NewReader(data)}, int64(len(data)), sum[:])
	if err != nil {
		t.Fatalf("PutPart(%d, %d bytes): %v", n, len(data), err)
	}
	if p.ETag != md5hex(data) || p.Size != int64(len(data)) || p.PartNumber != n {
		t.Errorf("PutPart(%d) = %+v, want ETag %s size %d", n, p, md5hex(data), len(data))
	}
	return p
}

// multipartETag is S3's ETag of an object assembled from parts.
func multipartETag(parts ...[]byte) string {
	var sums []byte
	for _, p := range parts {
		s := md5.Sum(p)
		sums = append(sums, s[:]...)
	}
	s := md5.Sum(sums)
	return fmt.Sprintf("%s-%d", hex.EncodeToString(s[:]), len(parts))
}

func testMultipart(t *testing.T, s storage.Storage) {
	b := newBucket(t, s)
	c := ctx(t)
	key := "big/assembled.bin"
	opts := storage.PutOptions{ContentType: "image/jpeg", CacheControl: "no-cache", Metadata: map[string]string{"origin": "multipart"}}
	id, err := s.CreateMultipart(c, b, key, opts)
	if err != nil {
		t.Fatalf("CreateMultipart: %v", err)
	}
	parts := [][]byte{randBytes(storage.MinPartSize), randBytes(storage.MinPartSize + 7), randBytes(1000)}
	// Upload out of order; one part twice (the second upload wins), one of unknown size.
	putPart(t, s, b, key, id, 3, parts[2])
	putPart(t, s, b, key, id, 1, randBytes(100))
	putPart(t, s, b, key, id, 1, parts[0])
	p2, err := s.PutPart(c, b, key, id, 2, onlyReader{bytes.NewReader(parts[1])}, -1, nil)
	if err != nil {
		t.Fatalf("PutPart of unknown size: %v", err)
	}
	if p2.ETag != md5hex(parts[1]) {
		t.Errorf("part 2 ETag %q", p2.ETag)
	}

	listed, err := s.ListParts(c, b, key, id)
	if err != nil {
		t.Fatalf("ListParts: %v", err)
	}
	if len(listed) != 3 {
		t.Fatalf("ListParts = %+v, want 3 parts", listed)
	}
	for i, p := range listed {
		if p.PartNumber != i+1 || p.ETag != md5hex(parts[i]) || p.Size != int64(len(parts[i])) {
			t.Errorf("ListParts[%d] = %+v", i, p)
		}
	}
	ups, err := s.ListMultipartUploads(c, b, "big/")
	if err != nil || len(ups) != 1 || ups[0].UploadID != id || ups[0].Key != key {
		t.Errorf("ListMultipartUploads = %+v, %v", ups, err)
	}
	if ups, _ := s.ListMultipartUploads(c, b, "other/"); len(ups) != 0 {
		t.Errorf("ListMultipartUploads(other/) = %+v", ups)
	}
	wantMissing(t, s, b, key)

	info, err := s.CompleteMultipart(c, b, key, id, []storage.CompletePart{
		{PartNumber: 1, ETag: md5hex(parts[0])},
		{PartNumber: 2, ETag: `"` + md5hex(parts[1]) + `"`}, // quotes as clients send them
		{PartNumber: 3, ETag: md5hex(parts[2])},
	})
	if err != nil {
		t.Fatalf("CompleteMultipart: %v", err)
	}
	want := bytes.Join(parts, nil)
	wantETag := multipartETag(parts...)
	if info.ETag != wantETag || !strings.HasSuffix(info.ETag, "-3") || info.Size != int64(len(want)) {
		t.Errorf("CompleteMultipart = ETag %q size %d, want %q %d", info.ETag, info.Size, wantETag, len(want))
	}
	got, gi := get(t, s, b, key, storage.GetOptions{})
	if !bytes.Equal(got, want) {
		t.Errorf("assembled object differs (%d bytes, want %d)", len(got), len(want))
	}
	if gi.ETag != wantETag || gi.ContentType != "image/jpeg" || gi.CacheControl != "no-cache" || gi.Metadata["origin"] != "multipart" {
		t.Errorf("assembled object info %+v", gi)
	}
	if ups, _ := s.ListMultipartUploads(c, b, ""); len(ups) != 0 {
		t.Errorf("upload still listed after completion: %+v", ups)
	}
	_, err = s.ListParts(c, b, key, id)
	wantErr(t, "ListParts after completion", err, storage.ErrUploadNotFound)

}

// testMultipartTwoParts: ETag suffix -2; a range read crosses the part boundary.
func testMultipartTwoParts(t *testing.T, s storage.Storage) {
	b := newBucket(t, s)
	c := ctx(t)
	id2, err := s.CreateMultipart(c, b, "two", storage.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	two := [][]byte{randBytes(storage.MinPartSize), []byte("tail")}
	putPart(t, s, b, "two", id2, 1, two[0])
	putPart(t, s, b, "two", id2, 2, two[1])
	info, err := s.CompleteMultipart(c, b, "two", id2, []storage.CompletePart{cp(1, md5hex(two[0])), cp(2, md5hex(two[1]))})
	if err != nil || info.ETag != multipartETag(two...) || !strings.HasSuffix(info.ETag, "-2") {
		t.Errorf("two-part complete: %+v, %v", info, err)
	}
	got, _ := get(t, s, b, "two", storage.GetOptions{Offset: storage.MinPartSize - 2, Length: 4})
	if string(got) != string(two[0][storage.MinPartSize-2:])+"ta" {
		t.Errorf("range across the part boundary: %q", got)
	}
}

func testMultipartAbort(t *testing.T, s storage.Storage) {
	b := newBucket(t, s)
	c := ctx(t)
	id, err := s.CreateMultipart(c, b, "k", storage.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	putPart(t, s, b, "k", id, 1, []byte("part"))
	if ups, err := s.ListMultipartUploads(c, b, ""); err != nil || len(ups) != 1 {
		t.Fatalf("ListMultipartUploads = %+v, %v", ups, err)
	}
	if err := s.AbortMultipart(c, b, "k", id); err != nil {
		t.Fatalf("AbortMultipart: %v", err)
	}
	if ups, err := s.ListMultipartUploads(c, b, ""); err != nil || len(ups) != 0 {
		t.Errorf("after abort ListMultipartUploads = %+v, %v", ups, err)
	}
	_, err = s.ListParts(c, b, "k", id)
	wantErr(t, "ListParts after abort", err, storage.ErrUploadNotFound)
	_, err = s.PutPart(c, b, "k", id, 2, bytes.NewReader([]byte("x")), 1, nil)
	wantErr(t, "PutPart after abort", err, storage.ErrUploadNotFound)
	_, err = s.CompleteMultipart(c, b, "k", id, []storage.CompletePart{cp(1, md5hex([]byte("part")))})
	wantErr(t, "CompleteMultipart after abort", err, storage.ErrUploadNotFound)
	wantMissing(t, s, b, "k")
}

// testMultipartExpiry: uploads initiated before the cutoff are aborted with
// their parts; a newer one and its parts stay.
func testMultipartExpiry(t *testing.T, s storage.Storage) {
	b := newBucket(t, s)
	c := ctx(t)
	old, err := s.CreateMultipart(c, b, "old", storage.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	putPart(t, s, b, "old", old, 1, []byte("stale part"))
	time.Sleep(750 * time.Millisecond)
	cutoff := time.Now()
	time.Sleep(750 * time.Millisecond)
	fresh, err := s.CreateMultipart(c, b, "fresh", storage.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	putPart(t, s, b, "fresh", fresh, 1, []byte("live part"))
	n, err := storage.AbortExpiredMultipart(c, s, b, cutoff)
	if err != nil || n != 1 {
		t.Fatalf("AbortExpiredMultipart = %d, %v; want 1", n, err)
	}
	ups, err := s.ListMultipartUploads(c, b, "")
	if err != nil || len(ups) != 1 || ups[0].UploadID != fresh {
		t.Fatalf("after expiry ListMultipartUploads = %+v, %v; want only the fresh upload", ups, err)
	}
	_, err = s.ListParts(c, b, "old", old)
	wantErr(t, "ListParts of an expired upload", err, storage.ErrUploadNotFound)
	if parts, err := s.ListParts(c, b, "fresh", fresh); err != nil || len(parts) != 1 {
		t.Fatalf("fresh upload's parts = %+v, %v", parts, err)
	}
	if n, err := storage.AbortExpiredMultipart(c, s, b, cutoff); err != nil || n != 0 {
		t.Fatalf("second sweep = %d, %v; want 0", n, err)
	}
}

func testMultipartErrors(t *testing.T, s storage.Storage) {
	b := newBucket(t, s)
	c := ctx(t)
	id, err := s.CreateMultipart(c, b, "k", storage.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	small := [][]byte{[]byte("small one"), []byte("small two")}
	putPart(t, s, b, "k", id, 1, small[0])
	putPart(t, s, b, "k", id, 2, small[1])

	bad := md5.Sum([]byte("not it"))
	_, err = s.PutPart(c, b, "k", id, 3, bytes.NewReader([]byte("data")), 4, bad[:])
	wantErr(t, "PutPart with wrong MD5", err, storage.ErrBadDigest)

	_, err = s.CompleteMultipart(c, b, "k", id, []storage.CompletePart{cp(2, md5hex(small[1])), cp(1, md5hex(small[0]))})
	wantErr(t, "Complete with parts out of order", err, storage.ErrInvalidPartOrder)
	_, err = s.CompleteMultipart(c, b, "k", id, []storage.CompletePart{cp(1, md5hex(small[1])), cp(2, md5hex(small[1]))})
	wantErr(t, "Complete with a wrong ETag", err, storage.ErrInvalidPart)
	_, err = s.CompleteMultipart(c, b, "k", id, []storage.CompletePart{cp(5, md5hex(small[1]))})
	wantErr(t, "Complete naming a part never uploaded", err, storage.ErrInvalidPart)
	_, err = s.CompleteMultipart(c, b, "k", id, []storage.CompletePart{cp(1, md5hex(small[0])), cp(2, md5hex(small[1]))})
	wantErr(t, "Complete with a too-small first part", err, storage.ErrPartTooSmall)
	wantMissing(t, s, b, "k")

	// A single small part is fine: only the last part may be small.
	info, err := s.CompleteMultipart(c, b, "k", id, []storage.CompletePart{cp(1, md5hex(small[0]))})
	if err != nil || info.ETag != multipartETag(small[0]) {
		t.Errorf("single-part complete: %+v, %v", info, err)
	}

	_, err = s.PutPart(c, b, "k", "0123456789abcdef0123456789abcdef", 1, bytes.NewReader([]byte("x")), 1, nil)
	wantErr(t, "PutPart to an unknown upload", err, storage.ErrUploadNotFound)
	_, err = s.ListParts(c, b, "k", "../../../etc")
	wantErr(t, "ListParts of a hostile upload id", err, storage.ErrUploadNotFound)
	err = s.AbortMultipart(c, b, "k", "0123456789abcdef0123456789abcdef")
	wantErr(t, "Abort of an unknown upload", err, storage.ErrUploadNotFound)
}

// cp names a part for CompleteMultipart.
func cp(n int, etag string) storage.CompletePart {
	return storage.CompletePart{PartNumber: n, ETag: etag}
}
