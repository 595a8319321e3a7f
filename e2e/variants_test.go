package e2e

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
)

// anonGet is an unsigned GET (or HEAD) with the given headers.
func anonGet(t *testing.T, method, url string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// TestVariantsNegotiatedPublicLazy: imgate serve --public-variants with the
// classic config plus "formats": one variant URL answers AVIF, WebP or JPEG
// by Accept (Vary: Accept, an ETag per representation, 304 on a match);
// originals stay private; a preset created through the admin API is
// rendered on its first GET and then stored; a missing original is 404.
func TestVariantsNegotiatedPublicLazy(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.json")
	if err := os.WriteFile(cfg, []byte(`{"sizes": ["50x50","150x","x150"], "formats": ["avif","webp"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServe(t, serveOptions{Args: []string{"--config", cfg, "--public-variants"}})
	cl := jobsClient(t, srv)
	ctx := context.Background()
	src := genJPEG(t, genW, genH, 3)
	if _, err := cl.PutObject(ctx, srv.Original(), "pics/a.jpg", bytes.NewReader(src), int64(len(src)), minio.PutObjectOptions{ContentType: "image/jpeg"}); err != nil {
		t.Fatal(err)
	}
	url := srv.URL + "/" + srv.Resized() + "/150x/pics/a.jpg"
	// AVIF comes last (after the primaries and WebP): wait for it.
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, _ := anonGet(t, "GET", url, map[string]string{"Accept": "image/avif,image/webp,*/*"})
		if resp.StatusCode == 200 && resp.Header.Get("Content-Type") == "image/avif" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no AVIF representation within 90s (last %d %s)\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), srv.Proc.Output())
		}
		time.Sleep(200 * time.Millisecond)
	}
	etags := map[string]string{}
	for accept, want := range map[string]string{
		"image/avif,image/webp,image/apng,image/*,*/*;q=0.8": "image/avif",
		"image/webp,*/*":                  "image/webp",
		"image/avif;q=0,image/webp;q=0.9": "image/webp",
		"*/*":                             "image/jpeg",
		"":                                "image/jpeg",
	} {
		resp, body := anonGet(t, "GET", url, map[string]string{"Accept": accept})
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != want {
			t.Errorf("Accept %q: %d %s, want 200 %s", accept, resp.StatusCode, resp.Header.Get("Content-Type"), want)
		}
		if resp.Header.Get("Vary") != "Accept" {
			t.Errorf("Accept %q: Vary %q", accept, resp.Header.Get("Vary"))
		}
		if len(body) == 0 || resp.Header.Get("ETag") == "" || resp.Header.Get("Cache-Control") == "" {
			t.Errorf("Accept %q: %d bytes, ETag %q, Cache-Control %q", accept, len(body), resp.Header.Get("ETag"), resp.Header.Get("Cache-Control"))
		}
		etags[want] = resp.Header.Get("ETag")
	}
	if len(etags) != 3 || etags["image/avif"] == etags["image/jpeg"] || etags["image/webp"] == etags["image/jpeg"] {
		t.Errorf("ETags per representation %v", etags)
	}
	resp, _ := anonGet(t, "GET", url, map[string]string{"Accept": "image/avif", "If-None-Match": etags["image/avif"]})
	if resp.StatusCode != http.StatusNotModified || resp.Header.Get("Vary") != "Accept" {
		t.Errorf("If-None-Match: %d (Vary %q), want 304", resp.StatusCode, resp.Header.Get("Vary"))
	}
	resp, body := anonGet(t, "GET", url, map[string]string{"Accept": "image/webp", "Range": "bytes=0-9"})
	if resp.StatusCode != http.StatusPartialContent || len(body) != 10 || string(body[8:10]) != "WE" {
		t.Errorf("Range: %d, %d bytes %q", resp.StatusCode, len(body), body)
	}
	// Originals are never public.
	if resp, _ := anonGet(t, "GET", srv.URL+"/"+srv.Original()+"/pics/a.jpg", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("anonymous GET of an original: %d, want 403", resp.StatusCode)
	}
	// A missing original: 404, and an unknown preset: 404.
	for _, p := range []string{"/150x/pics/missing.jpg", "/nope/pics/a.jpg"} {
		if resp, _ := anonGet(t, "GET", srv.URL+"/"+srv.Resized()+p, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
	// A preset created through the admin API: served on its first GET,
	// without a backfill, and stored.
	if code := jobsAdmin(t, srv, "POST", "/v1/admin/presets", map[string]any{"name": "thumb", "geometry": "64x64"}, nil); code >= 300 {
		t.Fatalf("create preset: %d", code)
	}
	// (A HEAD would render it too: look at the embedded store's file.)
	stored := filepath.Join(srv.DataDir, "objects", "buckets", srv.Resized(), "dthumb", "dpics", "fa.jpg")
	if _, err := os.Stat(stored); err == nil {
		t.Fatal("thumb variant exists before its first GET")
	}
	resp, body = anonGet(t, "GET", srv.URL+"/"+srv.Resized()+"/thumb/pics/a.jpg", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" || len(body) == 0 {
		t.Fatalf("first GET of a new preset: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if _, err := os.Stat(stored); err != nil {
		t.Errorf("lazy variant not stored: %v", err)
	}
}
