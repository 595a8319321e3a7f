package companion

import (
	"strings"
	"testing"

	"github.com/imgate/imgate/gateway/storage"
)

func TestNewKey(t *testing.T) {
	for _, tc := range []struct{ filename, suffix string }{
		{"photo.jpg", "-photo.jpg"},
		{"../../etc/passwd", "-passwd"},
		{`C:\Users\me\My Photo.JPG`, "-My_Photo.JPG"},
		{"..hidden.png", "-hidden.png"},
		{"", "-upload"},
		{"ünïcødé.webp", "-_n_c_d_.webp"},
		{strings.Repeat("a", 300) + ".jpg", "-" + strings.Repeat("a", 96) + ".jpg"},
	} {
		k := newKey("users/1/", tc.filename)
		if !strings.HasPrefix(k, "users/1/") || !strings.HasSuffix(k, tc.suffix) || strings.Count(k, "/") != 2 {
			t.Errorf("newKey(%q) = %q, want users/1/<random>%s", tc.filename, k, tc.suffix)
		}
	}
	if a, b := newKey("p/", "a.jpg"), newKey("p/", "a.jpg"); a == b {
		t.Error("two uploads of the same name got the same key")
	}
}

// FuzzNewKey: whatever file name a browser sends, the key stays one valid
// object key directly under the token's prefix.
func FuzzNewKey(f *testing.F) {
	for _, s := range []string{"photo.jpg", "../x", "a/b\\c", "", "\x00", "....", "ü"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		k := newKey("users/1/", name)
		rest, ok := strings.CutPrefix(k, "users/1/")
		if !ok || strings.Contains(rest, "/") || len(rest) > 120 {
			t.Fatalf("newKey(%q) = %q", name, k)
		}
		if err := storage.ValidateKey(k); err != nil {
			t.Fatalf("newKey(%q) = %q: %v", name, k, err)
		}
	})
}
