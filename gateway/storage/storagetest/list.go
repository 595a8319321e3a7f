package storagetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/imgate/imgate/gateway/storage"
)

// listKeySet mixes keys whose byte order differs from a naive directory walk:
// '-' (0x2d) and '.' (0x2e) sort before '/' (0x2f), '0' after it.
// No key is both an object and a prefix of other keys (see testNestedKeys).
var listKeySet = []string{
	"a/b", "a/c/d", "a-b", "a.b", "a0", "a/", "b",
	"photos/2024/x.jpg", "photos/2024/y.jpg", "photos/2024-old/w.jpg", "photos/2025/z.jpg",
	"z/", "z/deep/er/key", "ü/unicode", "A", "space here",
}

func testList(t *testing.T, s storage.Storage) {
	b := newBucket(t, s)
	sizes := map[string]int{}
	for i, k := range listKeySet {
		data := randBytes(i + 1)
		sizes[k] = len(data)
		put(t, s, b, k, data, storage.PutOptions{})
	}
	all := slices.Clone(listKeySet)
	slices.Sort(all) // Go compares strings bytewise, as S3 does

	// Every field List fills must agree with Stat.
	for info, err := range s.List(ctx(t), b, storage.ListOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		if info.Size != int64(sizes[info.Key]) || len(info.ETag) != 32 || info.LastModified.IsZero() {
			t.Errorf("List entry %q: size %d etag %q modified %v", info.Key, info.Size, info.ETag, info.LastModified)
		}
	}

	cases := []storage.ListOptions{
		{},
		{Prefix: "a"},
		{Prefix: "a/"},
		{Prefix: "a/b"},
		{Prefix: "photos/"},
		{Prefix: "photos/2024"},
		{Prefix: "photos/2024/"},
		{Prefix: "photos/2024/y"},
		{Prefix: "nothing"},
		{Prefix: "nothing/at/all/"},
		{Prefix: "z/deep/"},
		{StartAfter: "a-b"},
		{StartAfter: "a/"},
		{StartAfter: "a/b"},
		{StartAfter: "a/a"},
		{StartAfter: "a/c"},
		{StartAfter: "a"},
		{StartAfter: "photos/2024/x.jpg"},
		{StartAfter: "photos/2024"},
		{StartAfter: "zzz"},
		{Prefix: "a", StartAfter: "a/b"},
		{Prefix: "photos/", StartAfter: "photos/2024-old/w.jpg"},
		{Prefix: "photos/", StartAfter: "a"},
		{Prefix: "a", StartAfter: "b"},
	}
	checkListings(t, s, b, all, cases)
}

// checkListings compares List against a filter of the sorted key set.
func checkListings(t *testing.T, s storage.Storage, b string, all []string, cases []storage.ListOptions) {
	t.Helper()
	for _, o := range cases {
		var want []string
		for _, k := range all {
			if strings.HasPrefix(k, o.Prefix) && k > o.StartAfter {
				want = append(want, k)
			}
		}
		got := listKeys(t, s, b, o)
		if fmt.Sprint(got) != fmt.Sprint(want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("List(prefix %q, start after %q)\n got %q\nwant %q", o.Prefix, o.StartAfter, got, want)
		}
	}
}

// testNestedKeys checks keys that are objects and prefixes at once ("a",
// "a/b", "a/b/c"), which S3 allows.
func testNestedKeys(t *testing.T, s storage.Storage) {
	b := newBucket(t, s)
	keys := []string{"a", "a/b", "a/b/c", "a-b", "a0", "a/", "x/y", "x/y/z"}
	for _, k := range keys {
		put(t, s, b, k, []byte(k), storage.PutOptions{})
	}
	for _, k := range keys {
		if got, _ := get(t, s, b, k, storage.GetOptions{}); string(got) != k {
			t.Errorf("Get(%q) = %q", k, got)
		}
	}
	all := slices.Sorted(slices.Values(keys))
	checkListings(t, s, b, all, []storage.ListOptions{
		{}, {Prefix: "a"}, {Prefix: "a/"}, {Prefix: "a/b"}, {Prefix: "x/y"},
		{StartAfter: "a"}, {StartAfter: "a/b"}, {Prefix: "a", StartAfter: "a-b"},
	})
	c := ctx(t)
	for _, k := range []string{"a/b/c", "a"} {
		if err := s.Delete(c, b, k); err != nil {
			t.Fatalf("Delete(%q): %v", k, err)
		}
		wantMissing(t, s, b, k)
	}
	if got, _ := get(t, s, b, "a/b", storage.GetOptions{}); string(got) != "a/b" {
		t.Errorf("deleting a and a/b/c changed a/b: %q", got)
	}
	if got := listKeys(t, s, b, storage.ListOptions{Prefix: "a"}); fmt.Sprint(got) != "[a-b a/ a/b a0]" {
		t.Errorf("after deletes List(a) = %q", got)
	}
}

func testListEarlyStop(t *testing.T, s storage.Storage) {
	b := newBucket(t, s)
	for i := range 30 {
		put(t, s, b, fmt.Sprintf("k/%02d", i), []byte{byte(i)}, storage.PutOptions{})
	}
	var got []string
	for info, err := range s.List(ctx(t), b, storage.ListOptions{Prefix: "k/"}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, info.Key)
		if len(got) == 3 {
			break
		}
	}
	if fmt.Sprint(got) != "[k/00 k/01 k/02]" {
		t.Errorf("first three keys %q", got)
	}
	// Paging with StartAfter walks the rest.
	rest := listKeys(t, s, b, storage.ListOptions{Prefix: "k/", StartAfter: got[2]})
	if len(rest) != 27 || rest[0] != "k/03" {
		t.Errorf("after %q: %d keys starting %q", got[2], len(rest), rest)
	}
}
