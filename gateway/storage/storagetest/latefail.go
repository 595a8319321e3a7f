package storagetest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/imgate/imgate/gateway/storage"
)

// errLate is the failure a lateFailReader reports instead of io.EOF.
var errLate = errors.New("storagetest: body refused at its end")

// lateFailReader yields data in full, then fails instead of ending: what
// the S3 surface's verifying body does when a digest or signature over the
// whole body turns out wrong. With withLast, the error comes together with
// the last bytes (n > 0), otherwise on the read after them, a moment later:
// time for a server that already has every byte to take the body as
// complete.
type lateFailReader struct {
	r        *bytes.Reader
	withLast bool
}

func (l *lateFailReader) Read(p []byte) (int, error) {
	n, _ := l.r.Read(p)
	if l.r.Len() > 0 || (n > 0 && !l.withLast) {
		return n, nil
	}
	if n == 0 {
		time.Sleep(200 * time.Millisecond)
	}
	return n, errLate
}

// testLateFailure checks that a body failing after its last byte stores
// nothing, whether its size was declared or not: no object (an existing one
// stays as it was), no part.
func testLateFailure(t *testing.T, s storage.Storage) {
	b := newBucket(t, s)
	data := randBytes(300 << 10)
	put(t, s, b, "kept", []byte("before"), storage.PutOptions{})
	for _, withLast := range []bool{false, true} {
		for _, size := range []int64{int64(len(data)), -1} {
			what := fmt.Sprintf("(size %d, error with last bytes %v)", size, withLast)
			key := fmt.Sprintf("late/%d/%v", size, withLast)
			_, err := s.Put(ctx(t), b, key, &lateFailReader{bytes.NewReader(data), withLast}, size, storage.PutOptions{})
			if err == nil {
				t.Errorf("Put %s of a failing body succeeded", what)
			}
			wantMissing(t, s, b, key)

			_, err = s.Put(ctx(t), b, "kept", &lateFailReader{bytes.NewReader(data), withLast}, size, storage.PutOptions{})
			if err == nil {
				t.Errorf("overwrite %s with a failing body succeeded", what)
			}
			if got, _ := get(t, s, b, "kept", storage.GetOptions{}); string(got) != "before" {
				t.Errorf("overwrite %s with a failing body changed the object to %d bytes", what, len(got))
			}

			id, err := s.CreateMultipart(ctx(t), b, key, storage.PutOptions{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.PutPart(ctx(t), b, key, id, 1, &lateFailReader{bytes.NewReader(data), withLast}, size, nil)
			if err == nil {
				t.Errorf("PutPart %s of a failing body succeeded", what)
			}
			if parts, err := s.ListParts(ctx(t), b, key, id); err != nil || len(parts) != 0 {
				t.Errorf("after PutPart %s of a failing body: parts %+v, %v", what, parts, err)
			}
			if err := s.AbortMultipart(ctx(t), b, key, id); err != nil {
				t.Error(err)
			}
		}
	}
}
