package cors

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in      []string
		allow   []string
		deny    []string
		wantErr bool
	}{
		{in: nil, deny: []string{"https://a.example", "null", ""}},
		{in: []string{"https://App.example", " http://127.0.0.1:3000 "}, allow: []string{"https://app.example", "http://127.0.0.1:3000"},
			deny: []string{"http://app.example", "https://app.example:444", "http://127.0.0.1:3001", "null"}},
		{in: []string{"https://a.example/"}, allow: []string{"https://a.example"}},
		{in: []string{"*"}, allow: []string{"https://x.example", "http://localhost:1"}, deny: []string{"null", ""}},
		{in: []string{"a.example"}, wantErr: true},
		{in: []string{"ftp://a.example"}, wantErr: true},
		{in: []string{"https://a.example/path"}, wantErr: true},
		{in: []string{"https://u@a.example"}, wantErr: true},
		{in: []string{"https://a.example?x"}, wantErr: true},
	} {
		p, err := Parse(tc.in)
		if (err != nil) != tc.wantErr {
			t.Fatalf("Parse(%q): err %v", tc.in, err)
		}
		for _, o := range tc.allow {
			if !p.Allows(o) {
				t.Errorf("Parse(%q) denies %q", tc.in, o)
			}
		}
		for _, o := range tc.deny {
			if p.Allows(o) {
				t.Errorf("Parse(%q) allows %q", tc.in, o)
			}
		}
	}
}

func serve(t *testing.T, p Policy, method, origin string, hdr map[string]string) (*httptest.ResponseRecorder, bool) {
	t.Helper()
	reached := false
	h := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached = true
		w.Header().Set("ETag", `"x"`)
		w.WriteHeader(http.StatusOK)
	}))
	r := httptest.NewRequest(method, "http://imgate.test/imgate-original/a.jpg", nil)
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w, reached
}

func TestHandler(t *testing.T) {
	p, err := Parse([]string{"https://app.example"})
	if err != nil {
		t.Fatal(err)
	}
	pre := map[string]string{"Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type,x-amz-date"}

	w, reached := serve(t, p, http.MethodOptions, "https://app.example", pre)
	if reached || w.Code != http.StatusNoContent || w.Header().Get("Access-Control-Allow-Origin") != "https://app.example" ||
		w.Header().Get("Access-Control-Allow-Headers") != "content-type,x-amz-date" || w.Header().Get("Access-Control-Allow-Methods") != allowMethods ||
		w.Header().Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("allowed preflight: %d reached=%v %v", w.Code, reached, w.Header())
	}
	w, reached = serve(t, p, http.MethodOptions, "https://evil.example", pre)
	if reached || w.Code != http.StatusForbidden || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("denied preflight: %d reached=%v %v", w.Code, reached, w.Header())
	}
	w, reached = serve(t, p, http.MethodPut, "https://app.example", nil)
	if !reached || w.Header().Get("Access-Control-Allow-Origin") != "https://app.example" || w.Header().Get("Access-Control-Expose-Headers") == "" {
		t.Fatalf("allowed request: reached=%v %v", reached, w.Header())
	}
	w, reached = serve(t, p, http.MethodPut, "https://evil.example", nil)
	if !reached || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("other origin (same-origin or denied) must pass without CORS headers: reached=%v %v", reached, w.Header())
	}
	w, reached = serve(t, p, http.MethodOptions, "", nil)
	if !reached || w.Header().Get("Vary") != "" {
		t.Fatalf("OPTIONS without Origin must reach the handler: reached=%v %v", reached, w.Header())
	}
	// Default: nothing allowed.
	w, _ = serve(t, Policy{}, http.MethodOptions, "https://app.example", pre)
	if w.Code != http.StatusForbidden {
		t.Fatalf("default policy preflight: %d", w.Code)
	}
}
