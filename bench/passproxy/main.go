// Command passproxy is the peer bench/upload.sh measures imgate against
// besides the backend itself: a bare HTTP reverse proxy from the Go standard
// library that forwards every request to the backend unchanged, Host header
// included, so the client's SigV4 signature is still the backend's to check.
//
// It does nothing a gateway must do (no authentication, no payload hash, no
// limits, no job), so its cost is the floor any Go gateway in front of the
// backend pays: one more socket read and write of every byte, on the same
// machine here. Comparing imgate with it separates what imgate adds from
// what being a hop at all costs.
//
//	passproxy -listen 127.0.0.1:9100 -backend 127.0.0.1:9000
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	backend := flag.String("backend", "", "backend host:port (plain HTTP), required")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: passproxy -listen ADDR -backend HOST:PORT\n\n"+
			"A bare reverse proxy (the floor any gateway pays), for bench/upload.sh.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if err := run(*listen, *backend); err != nil {
		fmt.Fprintln(os.Stderr, "passproxy:", err)
		os.Exit(1)
	}
}

func run(listen, backend string) error {
	if backend == "" {
		return errors.New("-backend is required")
	}
	if _, _, err := net.SplitHostPort(backend); err != nil {
		return fmt.Errorf("-backend %q: %w", backend, err)
	}
	target := &url.URL{Scheme: "http", Host: backend}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// Keep as many connections as a client uploads parts at once (aws-cli
	// 10), as imgate's backend client (minio-go: 16) does: with the default
	// of 2, most parts would open a new connection.
	tr.MaxIdleConnsPerHost = 16
	p := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host // the signed Host header
		},
		Transport: tr,
		ErrorLog:  log.New(os.Stderr, "passproxy: ", 0),
	}
	srv := &http.Server{Addr: listen, Handler: p, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr().String())
	return srv.Serve(ln)
}
