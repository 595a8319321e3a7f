package s3_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/gateway/storage/s3"
	"github.com/imgate/imgate/gateway/storage/storagetest"
	"github.com/imgate/imgate/internal/testenv"
)

// startMinIO starts a real MinIO server and returns a store on it.
func startMinIO(t *testing.T, extraEnv ...string) (*testenv.MinIO, *s3.Store) {
	t.Helper()
	m := testenv.StartMinIO(t, extraEnv...)
	s, err := s3.New(t.Context(), s3.Config{
		Endpoint:  m.Endpoint,
		Region:    "us-east-1",
		AccessKey: m.AccessKey,
		SecretKey: m.SecretKey,
		PathStyle: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return m, s
}

func TestConformance(t *testing.T) {
	t.Run("minio", func(t *testing.T) {
		_, s := startMinIO(t)
		storagetest.Run(t, func(t *testing.T) storage.Storage { return s },
			storagetest.WithoutNestedKeys("MinIO keeps an object and the keys below it (a, a/b) but lists only the first"))
	})
}

// TestStreamingLargeUnknownSize puts more than one PartSize of unknown
// length: the backend's own multipart upload, with MD5 checked at the end.
func TestStreamingLargeUnknownSize(t *testing.T) {
	_, s := startMinIO(t)
	c := t.Context()
	if err := s.EnsureBucket(c, "large"); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, s3.PartSize+s3.PartSize/2)
	for i := range data {
		data[i] = byte(i * 7)
	}
	sum := md5.Sum(data)
	info, err := s.Put(c, "large", "big", struct{ io.Reader }{bytes.NewReader(data)}, -1, storage.PutOptions{MD5: sum[:]})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(info.ETag, "-2") || info.Size != int64(len(data)) {
		t.Errorf("Put = %+v, want a 2-part ETag and size %d", info, len(data))
	}
	rc, _, err := s.Get(c, "large", "big", storage.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, data) {
		t.Errorf("read back %d bytes that differ", len(got))
	}

	bad := sum
	bad[3]++
	_, err = s.Put(c, "large", "bad", struct{ io.Reader }{bytes.NewReader(data)}, -1, storage.PutOptions{MD5: bad[:]})
	if !errors.Is(err, storage.ErrBadDigest) {
		t.Errorf("Put with a wrong MD5 = %v", err)
	}
	if _, err := s.Stat(c, "large", "bad"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("refused put stored an object: %v", err)
	}
	if ups, err := s.ListMultipartUploads(c, "large", ""); err != nil || len(ups) != 0 {
		t.Errorf("refused put left uploads behind: %+v, %v", ups, err)
	}

	// A part of unknown size over PartSize is spooled, not held in memory.
	id, err := s.CreateMultipart(c, "large", "parts", storage.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.PutPart(c, "large", "parts", id, 1, struct{ io.Reader }{bytes.NewReader(data)}, -1, nil)
	if err != nil || p.Size != int64(len(data)) || p.ETag != hex.EncodeToString(sum[:]) {
		t.Errorf("PutPart of unknown size = %+v, %v", p, err)
	}
	if err := s.AbortMultipart(c, "large", "parts", id); err != nil {
		t.Error(err)
	}
}
