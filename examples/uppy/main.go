// Command uppy is a tiny app backend showing browser uploads to imgate with
// Uppy: it serves a page (on its own origin, not imgate's) and mints one
// upload token per visitor with the API key, which never reaches the page.
//
//	npm install uppy@6            # Uppy comes from npm, not from this repository
//	IMGATE_API_KEY=… go run ./examples/uppy --imgate http://127.0.0.1:8080 --uppy-dist node_modules/uppy/dist
//
// imgate must allow this page's origin: imgate serve --cors-origins http://127.0.0.1:3000
package main

import (
	"bytes"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

//go:embed index.html
var page []byte

func main() {
	listen := flag.String("listen", "127.0.0.1:3000", "address of this app")
	imgate := flag.String("imgate", "http://127.0.0.1:8080", "imgate's URL (its --public-url)")
	dist := flag.String("uppy-dist", "node_modules/uppy/dist", "directory holding uppy.min.mjs and uppy.min.css (npm install uppy@6)")
	maxBytes := flag.Int64("max-bytes", 50<<20, "largest upload a visitor may make")
	flag.Parse()
	apiKey := os.Getenv("IMGATE_API_KEY")
	if apiKey == "" {
		log.Fatal("set IMGATE_API_KEY (imgate prints it on first start; it is in DATA/secrets.json)")
	}
	app := &app{imgate: strings.TrimSuffix(*imgate, "/"), apiKey: apiKey, maxBytes: *maxBytes}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
	})
	mux.Handle("GET /uppy/", http.StripPrefix("/uppy/", http.FileServer(http.Dir(*dist))))
	mux.HandleFunc("POST /api/upload-token", app.uploadToken)
	log.Printf("example app on http://%s (imgate at %s)", *listen, app.imgate)
	srv := &http.Server{Addr: *listen, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

type app struct {
	imgate, apiKey string
	maxBytes       int64
	client         http.Client
}

// uploadToken asks imgate for a token for this visitor. A real app takes
// the user from its session; here every page load is a new visitor. The
// page may ask for a tighter size limit (?max_bytes=), never a wider one.
func (a *app) uploadToken(w http.ResponseWriter, r *http.Request) {
	limit := a.maxBytes
	if v, err := strconv.ParseInt(r.URL.Query().Get("max_bytes"), 10, 64); err == nil && v > 0 && v < limit {
		limit = v
	}
	var id [6]byte
	_, _ = rand.Read(id[:])
	body, _ := json.Marshal(map[string]any{
		"prefix":        "visitors/" + hex.EncodeToString(id[:]) + "/",
		"max_bytes":     limit,
		"content_types": []string{"image/jpeg", "image/png", "image/webp", "image/gif"},
		"expires_in":    3600,
	})
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, a.imgate+"/v1/upload-tokens", bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	req.Header.Set("Authorization", "Bearer "+a.apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		http.Error(w, fmt.Sprintf("imgate: %v", err), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}
