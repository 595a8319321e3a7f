package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestReadyzURL(t *testing.T) {
	tests := []struct{ listen, want, wantErr string }{
		{listen: "127.0.0.1:8080", want: "http://127.0.0.1:8080/readyz"},
		{listen: "0.0.0.0:8080", want: "http://127.0.0.1:8080/readyz"},
		{listen: ":9", want: "http://127.0.0.1:9/readyz"},
		{listen: "[::]:8080", want: "http://127.0.0.1:8080/readyz"},
		{listen: "[::1]:8080", want: "http://[::1]:8080/readyz"},
		{listen: "imgate:8080", want: "http://imgate:8080/readyz"},
		{listen: "8080", wantErr: "missing port"},
	}
	for _, tt := range tests {
		got, err := readyzURL(tt.listen)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("readyzURL(%q) err = %v, want %q", tt.listen, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("readyzURL(%q) = %q, %v; want %q", tt.listen, got, err, tt.want)
		}
	}
}

func TestHealthcheckExitCodes(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	closed := httptest.NewServer(http.NotFoundHandler())
	closedAddr := strings.TrimPrefix(closed.URL, "http://")
	closed.Close()

	tests := []struct {
		name   string
		status int
		args   []string
		env    string
		want   int
	}{
		{name: "ready by --url", status: 200, args: []string{"--url", srv.URL + "/readyz"}, want: 0},
		{name: "ready by --listen", status: 200, args: []string{"--listen", addr}, want: 0},
		{name: "ready by IMGATE_LISTEN", status: 200, env: addr, want: 0},
		{name: "not ready", status: 503, args: []string{"--listen", addr}, want: 1},
		{name: "nothing listening", status: 200, args: []string{"--listen", closedAddr}, want: 1},
		{name: "bad listen", status: 200, args: []string{"--listen", "nope"}, want: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status = tt.status
			if tt.env != "" {
				t.Setenv("IMGATE_LISTEN", tt.env)
			}
			var out, errb bytes.Buffer
			got := run(context.Background(), append([]string{"healthcheck"}, tt.args...), &out, &errb)
			if got != tt.want {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", got, tt.want, out.String(), errb.String())
			}
		})
	}
}
