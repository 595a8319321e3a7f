package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// The healthcheck subcommand lets a container image without curl or a shell
// (the distroless image docker-compose.yml builds) check its own server:
// it GETs /readyz and exits 0 when the answer is 200, 1 otherwise.
func init() {
	register("healthcheck", "exit 0 if a running imgate answers /readyz with 200, else 1", runHealthcheck)
}

func runHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("healthcheck", "[--url URL | --listen ADDR]",
		"GET /readyz of a running imgate serve and exit 0 on 200, 1 otherwise (for container healthchecks).\n"+
			"Without --url the address is serve's --listen (IMGATE_LISTEN), a wildcard host read as loopback.", stderr)
	listen := fs.String("listen", defaultListen, "address imgate serve listens on (the same setting as serve's)")
	url := fs.String("url", "", "readiness URL to GET (default http://<listen>/readyz)")
	timeout := fs.Duration("timeout", 5*time.Second, "give up after this long")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	target := *url
	if target == "" {
		u, err := readyzURL(*listen)
		if err != nil {
			return usagef("--listen: %v", err)
		}
		target = u
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if err := checkReady(ctx, target); err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	fmt.Fprintf(stdout, "ready: %s\n", target)
	return nil
}

// readyzURL turns a listen address into the URL of its /readyz; a wildcard
// or empty host (0.0.0.0, ::, ":8080") is reached on loopback.
func readyzURL(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("parse %q: %w", listen, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/readyz", nil
}

func checkReady(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d: %s", url, resp.StatusCode, body)
	}
	return nil
}
