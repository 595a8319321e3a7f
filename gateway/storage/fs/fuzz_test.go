package fs

import (
	"bytes"
	"path"
	"strings"
	"testing"

	"github.com/imgate/imgate/gateway/storage"
)

// FuzzObjectPath checks the key → path mapping for any input: a key the
// backend accepts maps to a clean path below buckets/<bucket>/ whose
// segments fit a file name and decode back to the key; a key
// storage.ValidateKey refuses is refused.
func FuzzObjectPath(f *testing.F) {
	for _, k := range []string{"a", "a/b", "../../etc/passwd", "a\x00b", "", "x/", "a/./b", "ü/ñ", strings.Repeat("s", 255), "d/f"} {
		f.Add("photos", k)
	}
	f.Add("..", "k")
	f.Fuzz(func(t *testing.T, bucket, key string) {
		p, err := objectPath(bucket, key)
		if storage.ValidateKey(key) != nil || storage.ValidateBucket(bucket) != nil {
			if err == nil {
				t.Fatalf("objectPath(%q, %q) accepted an invalid name: %q", bucket, key, p)
			}
			return
		}
		if err != nil {
			return // a segment longer than the file system allows
		}
		base := bucketsDir + "/" + bucket + "/"
		if !strings.HasPrefix(p, base) || path.Clean(p) != p {
			t.Fatalf("objectPath(%q, %q) = %q, not a clean path below %s", bucket, key, p, base)
		}
		segs := strings.Split(strings.TrimPrefix(p, base), "/")
		var dec []string
		for i, s := range segs {
			if len(s) > 255 || s == "." || s == ".." || strings.ContainsRune(s, 0) {
				t.Fatalf("objectPath(%q) segment %q", key, s)
			}
			want := byte('d')
			if i == len(segs)-1 {
				want = 'f'
			}
			if s == "" || s[0] != want {
				t.Fatalf("objectPath(%q) segment %q lacks the %c prefix", key, s, want)
			}
			dec = append(dec, s[1:])
		}
		if strings.Join(dec, "/") != key {
			t.Fatalf("objectPath(%q) = %q does not decode back", key, p)
		}
	})
}

// FuzzTrailer feeds arbitrary file contents to the metadata trailer parser:
// it must not panic, and what it accepts must describe the file consistently.
func FuzzTrailer(f *testing.F) {
	good, _ := appendTrailer(&objMeta{Key: "k", Size: 3, ETag: "abc"})
	f.Add(append([]byte("xyz"), good...))
	f.Add([]byte(footerMagic))
	f.Add([]byte("\xff\xff\xff\xff" + footerMagic))
	f.Add([]byte("{}\x00\x00\x00\x02" + footerMagic))
	f.Fuzz(func(t *testing.T, file []byte) {
		m, err := readTrailer(bytes.NewReader(file), int64(len(file)))
		if err != nil {
			return
		}
		if m.Size < 0 || m.Size > int64(len(file)-footerSize) {
			t.Fatalf("accepted size %d for a %d-byte file", m.Size, len(file))
		}
	})
}
