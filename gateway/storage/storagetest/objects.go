package storagetest

import (
	"bytes"
	"crypto/md5"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/imgate/imgate/gateway/storage"
)

func testBuckets(t *testing.T, s storage.Storage) {
	c := ctx(t)
	if err := s.Ping(c); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	name := "conf-new-" + fmt.Sprint(time.Now().UnixNano()%1e9)
	ok, err := s.BucketExists(c, name)
	if err != nil || ok {
		t.Fatalf("BucketExists(new) = %v, %v; want false, nil", ok, err)
	}
	for range 2 { // idempotent
		if err := s.EnsureBucket(c, name); err != nil {
			t.Fatalf("EnsureBucket: %v", err)
		}
	}
	if ok, err := s.BucketExists(c, name); err != nil || !ok {
		t.Fatalf("BucketExists after EnsureBucket = %v, %v", ok, err)
	}
	wantErr(t, "EnsureBucket(Bad_Name)", s.EnsureBucket(c, "Bad_Name"), storage.ErrInvalidBucket)
}

func testPutGetStat(t *testing.T, s storage.Storage) {
	b := newBucket(t, s)
	data := []byte("hello, imgate\n")
	opts := storage.PutOptions{
		ContentType:  "text/plain; charset=utf-8",
		CacheControl: "max-age=60",
		Metadata:     map[string]string{"color": "blue", "source-id": "42"},
	}
	before := time.Now().Add(-time.Minute)
	info := put(t, s, b, "dir/hello.txt", data, opts)
	if info.ETag != md5hex(data) || info.Size != int64(len(data)) {
		t.Errorf("Put returned ETag %q size %d, want %q %d", info.ETag, info.Size, md5hex(data), len(data))
	}
	check := func(what string, got storage.ObjectInfo) {
		t.Helper()
		if got.Key != "dir/hello.txt" || got.Size != int64(len(data)) || got.ETag != md5hex(data) {
			t.Errorf("%s: key %q size %d etag %q", what, got.Key, got.Size, got.ETag)
		}
		if got.ContentType != opts.ContentType || got.CacheControl != opts.CacheControl {
			t.Errorf("%s: content type %q cache control %q", what, got.ContentType, got.CacheControl)
		}
		if got.Metadata["color"] != "blue" || got.Metadata["source-id"] != "42" || len(got.Metadata) != 2 {
			t.Errorf("%s: metadata %v", what, got.Metadata)
		}
		if got.LastModified.Before(before) || got.LastModified.After(time.Now().Add(time.Minute)) {
			t.Errorf("%s: last modified %v", what, got.LastModified)
		}
	}
	st, err := s.Stat(ctx(t), b, "dir/hello.txt")
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	check("Stat", st)
	body, gi := get(t, s, b, "dir/hello.txt", storage.GetOptions{})
	if !bytes.Equal(body, data) {
		t.Errorf("Get body %q, want %q", body, data)
	}
	check("Get", gi)

	// Without options: S3's default content type.
	put(t, s, b, "plain", []byte("x"), storage.PutOptions{})
	st, err = s.Stat(ctx(t), b, "plain")
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if st.ContentType != "application/octet-stream" || len(st.Metadata) != 0 {
		t.Errorf("default content type %q metadata %v", st.ContentType, st.Metadata)
	}
}

func testSizes(t *testing.T, s storage.Storage) {
	b := newBucket(t, s)
	for _, n := range []int{0, 1, 1000, 6<<20 + 123} {
		for _, unknown := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d-unknown=%v", n, unknown), func(t *testing.T) {
				data := randBytes(n)
				key := fmt.Sprintf("size/%d-%v", n, unknown)
				size := int64(n)
				if unknown {
					size = -1
				}
				info, err := s.Put(ctx(t), b, key, onlyReader{bytes.NewReader(data)}, size, storage.PutOptions{})
				if err != nil {
					t.Fatalf("Put: %v", err)
				}
				if info.Size != int64(n) || info.ETag != md5hex(data) {
					t.Errorf("Put info size %d etag %q, want %d %q", info.Size, info.ETag, n, md5hex(data))
				}
				got, gi := get(t, s, b, key, storage.GetOptions{})
				if !bytes.Equal(got, data) {
					t.Errorf("Get returned %d bytes that differ from the %d put", len(got), n)
				}
				if gi.Size != int64(n) || gi.ETag != md5hex(data) {
					t.Errorf("Get info size %d etag %q", gi.Size, gi.ETag)
				}
			})
		}
	}
	// A body shorter than its declared size must fail and store nothing.
	_, err := s.Put(ctx(t), b, "short", onlyReader{bytes.NewReader([]byte("abc"))}, 10, storage.PutOptions{})
	if err == nil {
		t.Errorf("Put of 3 bytes declared as 10 succeeded")
	}
	wantMissing(t, s, b, "short")
}

func testMD5(t *testing.T, s storage.Storage) {
	b := newBucket(t, s)
	data := randBytes(100 << 10)
	sum := md5.Sum(data)
	for _, size := range []int64{int64(len(data)), -1} {
		key := fmt.Sprintf("md5/%d", size)
		if _, err := s.Put(ctx(t), b, key, onlyReader{bytes.NewReader(data)}, size, storage.PutOptions{MD5: sum[:]}); err != nil {
			t.Fatalf("Put with right MD5 (size %d): %v", size, err)
		}
		bad := sum
		bad[0] ^= 0xff
		_, err := s.Put(ctx(t), b, key+"-bad", onlyReader{bytes.NewReader(data)}, size, storage.PutOptions{MD5: bad[:]})
		wantErr(t, fmt.Sprintf("Put with wrong MD5 (size %d)", size), err, storage.ErrBadDigest)
		wantMissing(t, s, b, key+"-bad")
		// A refused overwrite keeps the previous object.
		otherSize := int64(5)
		if size < 0 {
			otherSize = -1
		}
		_, err = s.Put(ctx(t), b, key, onlyReader{bytes.NewReader([]byte("other"))}, otherSize, storage.PutOptions{MD5: bad[:]})
		wantErr(t, "overwrite with wrong MD5", err, storage.ErrBadDigest)
		got, _ := get(t, s, b, key, storage.GetOptions{})
		if !bytes.Equal(got, data) {
			t.Errorf("object changed by a refused put")
		}
	}
}

func testOverwrite(t *testing.T, s storage.Storage) {
	b := newBucket(t, s)
	put(t, s, b, "k", []byte("version one, longer"), storage.PutOptions{ContentType: "text/plain", Metadata: map[string]string{"v": "1"}})
	put(t, s, b, "k", []byte("v2"), storage.PutOptions{ContentType: "image/png"})
	got, info := get(t, s, b, "k", storage.GetOptions{})
	if string(got) != "v2" || info.ETag != md5hex([]byte("v2")) || info.ContentType != "image/png" || len(info.Metadata) != 0 {
		t.Errorf("after overwrite: %q %+v", got, info)
	}
	if keys := listKeys(t, s, b, storage.ListOptions{}); len(keys) != 1 {
		t.Errorf("List after overwrite: %q", keys)
	}
}

func testRange(t *testing.T, s storage.Storage) {
	b := newBucket(t, s)
	data := randBytes(1 << 20)
	put(t, s, b, "r", data, storage.PutOptions{})
	for _, tc := range []struct{ off, n, wantOff, wantN int64 }{
		{0, 0, 0, 1 << 20},
		{0, -1, 0, 1 << 20},
		{0, 10, 0, 10},
		{100, 1, 100, 1},
		{1000, -1, 1000, 1<<20 - 1000},
		{1<<20 - 5, 100, 1<<20 - 5, 5},
		{1<<20 - 1, 0, 1<<20 - 1, 1},
	} {
		got, info := get(t, s, b, "r", storage.GetOptions{Offset: tc.off, Length: tc.n})
		if !bytes.Equal(got, data[tc.wantOff:tc.wantOff+tc.wantN]) {
			t.Errorf("range off=%d len=%d: got %d bytes, want %d from %d", tc.off, tc.n, len(got), tc.wantN, tc.wantOff)
		}
		if info.Size != 1<<20 {
			t.Errorf("range off=%d len=%d: info size %d, want the whole object's", tc.off, tc.n, info.Size)
		}
	}
	_, _, err := s.Get(ctx(t), b, "r", storage.GetOptions{Offset: 1 << 20})
	wantErr(t, "Get at offset = size", err, storage.ErrInvalidRange)
}

func testDelete(t *testing.T, s storage.Storage) {
	b := newBucket(t, s)
	for _, k := range []string{"d/x", "d/y/z", "x/y/z", "top"} {
		put(t, s, b, k, []byte(k), storage.PutOptions{})
	}
	c := ctx(t)
	for _, k := range []string{"d/y/z", "d/y/z", "x/y/z", "top", "never/was"} {
		if err := s.Delete(c, b, k); err != nil {
			t.Errorf("Delete(%q): %v", k, err)
		}
		wantMissing(t, s, b, k)
	}
	if got := listKeys(t, s, b, storage.ListOptions{}); fmt.Sprint(got) != "[d/x]" {
		t.Errorf("after deletes List = %q, want [d/x]", got)
	}
	if got, _ := get(t, s, b, "d/x", storage.GetOptions{}); string(got) != "d/x" {
		t.Errorf("deleting d/y/z changed d/x: %q", got)
	}
	// A deleted key can be written again, also where directories were pruned.
	put(t, s, b, "x/y/z", []byte("again"), storage.PutOptions{})
	if got, _ := get(t, s, b, "x/y/z", storage.GetOptions{}); string(got) != "again" {
		t.Errorf("rewrite after delete: %q", got)
	}
}

func testNotFound(t *testing.T, s storage.Storage) {
	b := newBucket(t, s)
	put(t, s, b, "dir/file", []byte("x"), storage.PutOptions{})
	c := ctx(t)
	for _, k := range []string{"missing", "dir", "dir/file/below", "dir/fil"} {
		_, err := s.Stat(c, b, k)
		wantErr(t, "Stat("+k+")", err, storage.ErrNotFound)
		rc, _, err := s.Get(c, b, k, storage.GetOptions{})
		if rc != nil {
			rc.Close()
		}
		wantErr(t, "Get("+k+")", err, storage.ErrNotFound)
	}
}

func testMissingBucket(t *testing.T, s storage.Storage) {
	c := ctx(t)
	b := "conf-missing-bucket"
	_, err := s.Put(c, b, "k", bytes.NewReader([]byte("x")), 1, storage.PutOptions{})
	wantErr(t, "Put", err, storage.ErrBucketNotFound)
	_, _, err = s.Get(c, b, "k", storage.GetOptions{})
	wantErr(t, "Get", err, storage.ErrBucketNotFound)
	_, err = s.Stat(c, b, "k")
	wantErr(t, "Stat", err, storage.ErrBucketNotFound)
	wantErr(t, "Delete", s.Delete(c, b, "k"), storage.ErrBucketNotFound)
	for _, err := range s.List(c, b, storage.ListOptions{}) {
		wantErr(t, "List", err, storage.ErrBucketNotFound)
		break
	}
	_, err = s.CreateMultipart(c, b, "k", storage.PutOptions{})
	wantErr(t, "CreateMultipart", err, storage.ErrBucketNotFound)
}

func testInvalidKeys(t *testing.T, s storage.Storage) {
	b := newBucket(t, s)
	c := ctx(t)
	keys := []string{"", "../../etc/passwd", "a/../../b", "a\x00b", "\x00", string(bytes.Repeat([]byte("k"), 2048)), "/abs", "a//b", "./x", "bad\xffutf8", "tab\there"}
	for _, k := range keys {
		name := fmt.Sprintf("%.40q", k)
		_, err := s.Put(c, b, k, bytes.NewReader([]byte("x")), 1, storage.PutOptions{})
		wantErr(t, "Put "+name, err, storage.ErrInvalidKey)
		_, _, err = s.Get(c, b, k, storage.GetOptions{})
		wantErr(t, "Get "+name, err, storage.ErrInvalidKey)
		_, err = s.Stat(c, b, k)
		wantErr(t, "Stat "+name, err, storage.ErrInvalidKey)
		wantErr(t, "Delete "+name, s.Delete(c, b, k), storage.ErrInvalidKey)
		_, err = s.CreateMultipart(c, b, k, storage.PutOptions{})
		wantErr(t, "CreateMultipart "+name, err, storage.ErrInvalidKey)
	}
	if got := listKeys(t, s, b, storage.ListOptions{}); len(got) != 0 {
		t.Errorf("invalid keys stored something: %q", got)
	}
	_, err := s.Put(c, "../etc", "k", bytes.NewReader([]byte("x")), 1, storage.PutOptions{})
	wantErr(t, "Put to bucket ../etc", err, storage.ErrInvalidBucket)
}

func testConcurrentPuts(t *testing.T, s storage.Storage) {
	b := newBucket(t, s)
	const writers = 6
	bodies := make(map[string][]byte, writers)
	for range writers {
		d := randBytes(300 << 10)
		bodies[md5hex(d)] = d
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for _, d := range bodies {
		wg.Go(func() {
			_, err := s.Put(ctx(t), b, "same/key", onlyReader{bytes.NewReader(d)}, int64(len(d)), storage.PutOptions{})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Put: %v", err)
		}
	}
	got, info := get(t, s, b, "same/key", storage.GetOptions{})
	want, ok := bodies[md5hex(got)]
	if !ok || !bytes.Equal(got, want) || info.ETag != md5hex(got) {
		t.Errorf("after concurrent puts the object (%d bytes, ETag %q) is not one whole body", len(got), info.ETag)
	}
}

// testConcurrentPutDelete races puts and deletes of keys sharing parent
// prefixes: a put must never fail because a delete pruned its directory.
func testConcurrentPutDelete(t *testing.T, s storage.Storage) {
	b := newBucket(t, s)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 15 {
				key := fmt.Sprintf("shared/dir/k%d", g)
				data := []byte(fmt.Sprintf("%d-%d", g, i))
				if _, err := s.Put(ctx(t), b, key, bytes.NewReader(data), int64(len(data)), storage.PutOptions{}); err != nil {
					t.Errorf("Put(%s) #%d: %v", key, i, err)
					return
				}
				if err := s.Delete(ctx(t), b, key); err != nil {
					t.Errorf("Delete(%s) #%d: %v", key, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if got := listKeys(t, s, b, storage.ListOptions{}); len(got) != 0 {
		t.Errorf("after put/delete races List = %q", got)
	}
}

// stallReader yields head, then blocks until its context is done, and then
// keeps yielding data: only the backend's own context handling can stop it.
type stallReader struct {
	head    []byte
	stalled chan struct{}
	done    <-chan struct{}
	after   int
	once    sync.Once
}

func (r *stallReader) Read(p []byte) (int, error) {
	if len(r.head) > 0 {
		n := copy(p, r.head)
		r.head = r.head[n:]
		return n, nil
	}
	r.once.Do(func() { close(r.stalled) })
	<-r.done
	if r.after <= 0 {
		return 0, io.EOF
	}
	n := min(len(p), r.after)
	clear(p[:n])
	r.after -= n
	return n, nil
}

func testCancelPut(t *testing.T, s storage.Storage) {
	b := newBucket(t, s)
	for _, known := range []bool{true, false} {
		t.Run(fmt.Sprintf("size-known=%v", known), func(t *testing.T) {
			c, cancel := contextWithCancel(t)
			const head, total = 256 << 10, 2 << 20
			r := &stallReader{head: randBytes(head), stalled: make(chan struct{}), done: c.Done(), after: total - head}
			size := int64(total)
			if !known {
				size = -1
			}
			key := fmt.Sprintf("cancel-%v", known)
			errc := make(chan error, 1)
			go func() {
				_, err := s.Put(c, b, key, r, size, storage.PutOptions{})
				errc <- err
			}()
			<-r.stalled
			cancel()
			if err := <-errc; err == nil {
				t.Fatalf("Put succeeded after its context was cancelled")
			}
			wantMissing(t, s, b, key)
			if got := listKeys(t, s, b, storage.ListOptions{}); len(got) != 0 {
				t.Errorf("cancelled put left %q", got)
			}
		})
	}
}
