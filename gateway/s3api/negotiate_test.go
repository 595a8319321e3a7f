package s3api

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"github.com/imgate/imgate/gateway/storage"
)

// TestProvisionalPrimary: while a preset's AVIF sibling is not stored yet, a
// client that accepts AVIF gets the primary marked "no-cache" (a CDN must
// revalidate, then gets the AVIF once it exists); a client that accepts
// only JPEG, or a preset without siblings, keeps the stored Cache-Control.
func TestProvisionalPrimary(t *testing.T) {
	g := newGW(t, func(c *Config) {
		c.PublicVariants = true
		c.SiblingFormats = func(_ context.Context, preset string) []string {
			if preset == "150x" {
				return []string{"avif", "webp"}
			}
			return nil
		}
	})
	ctx := context.Background()
	put := func(key, ct string) {
		t.Helper()
		if _, err := g.store.Put(ctx, resized, key, bytes.NewReader([]byte("img")), 3,
			storage.PutOptions{ContentType: ct, CacheControl: "public, max-age=31536000"}); err != nil {
			t.Fatal(err)
		}
	}
	put("150x/a.jpg", "image/jpeg")
	put("50x50/a.jpg", "image/jpeg")
	get := func(path, accept string) (string, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", g.srv.URL+"/"+resized+"/"+path, nil)
		req.Header.Set("Accept", accept)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		return resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control")
	}
	const browser = "image/avif,image/webp,image/apng,*/*;q=0.8"
	for _, tc := range []struct{ path, accept, ct, cc string }{
		{"150x/a.jpg", browser, "image/jpeg", "no-cache"},
		{"150x/a.jpg", "image/webp", "image/jpeg", "no-cache"},
		{"150x/a.jpg", "image/jpeg,*/*", "image/jpeg", "public, max-age=31536000"},
		{"50x50/a.jpg", browser, "image/jpeg", "public, max-age=31536000"},
	} {
		if ct, cc := get(tc.path, tc.accept); ct != tc.ct || cc != tc.cc {
			t.Errorf("GET %s Accept %q: %s, Cache-Control %q; want %s, %q", tc.path, tc.accept, ct, cc, tc.ct, tc.cc)
		}
	}
	// The siblings arrive: each is served with the stored Cache-Control.
	put("150x.avif/a.jpg", "image/avif")
	put("150x.webp/a.jpg", "image/webp")
	for accept, want := range map[string]string{browser: "image/avif", "image/webp": "image/webp"} {
		if ct, cc := get("150x/a.jpg", accept); ct != want || cc != "public, max-age=31536000" {
			t.Errorf("after the siblings, Accept %q: %s, %q", accept, ct, cc)
		}
	}
}
