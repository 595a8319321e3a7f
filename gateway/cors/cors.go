// Package cors answers browsers' cross-origin checks for the whole gateway:
// preflights (OPTIONS with Access-Control-Request-Method) are answered here
// and never reach the S3 surface or the JSON APIs, and actual requests from
// an allowed origin get Access-Control-Allow-Origin plus the response
// headers a page may read (ETag and Location, which Uppy needs).
//
// The default is no origin at all: a page on another origin cannot call
// imgate until the operator lists it (--cors-origins). Credentials (cookies)
// are never allowed: every imgate request carries its own signature or
// bearer token.
package cors

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Methods and headers a preflight is answered with.
const (
	allowMethods  = "GET, HEAD, PUT, POST, DELETE"
	exposeHeaders = "ETag, Location, x-amz-request-id, x-amz-id-2, x-amz-version-id, " +
		"x-amz-checksum-crc32, x-amz-checksum-crc32c, x-amz-checksum-sha1, x-amz-checksum-sha256, x-amz-checksum-crc64nvme, " +
		"X-Request-Id, Retry-After"
	maxAge = "3600"
)

// Policy is a parsed origin list. The zero Policy allows no cross-origin request.
type Policy struct {
	any     bool
	origins []string // normalised scheme://host[:port]
}

// Parse reads a list of origins ("https://app.example", "http://127.0.0.1:3000")
// or "*" for any origin. An empty list allows none.
func Parse(list []string) (Policy, error) {
	var p Policy
	for _, o := range list {
		o = strings.TrimSpace(o)
		switch {
		case o == "":
			continue
		case o == "*":
			p.any = true
			continue
		}
		n, err := normalise(o)
		if err != nil {
			return Policy{}, err
		}
		p.origins = append(p.origins, n)
	}
	return p, nil
}

// normalise checks an origin is scheme://host[:port] with nothing after it.
func normalise(o string) (string, error) {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("cors: origin %q: want scheme://host[:port], e.g. https://app.example", o)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// Allows reports whether a page on origin may call the gateway.
func (p Policy) Allows(origin string) bool {
	if origin == "" || origin == "null" {
		return false
	}
	return p.any || slices.Contains(p.origins, strings.ToLower(origin))
}

// Empty reports whether no origin is allowed.
func (p Policy) Empty() bool { return !p.any && len(p.origins) == 0 }

// Handler wraps next: preflights are answered (204 when the origin is
// allowed, 403 otherwise), other requests from an allowed origin get the
// CORS response headers. Requests without Origin pass untouched.
func (p Policy) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		hd := w.Header()
		hd.Add("Vary", "Origin")
		allowed := p.Allows(origin)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			hd.Add("Vary", "Access-Control-Request-Method, Access-Control-Request-Headers")
			if !allowed {
				http.Error(w, "CORS: origin "+origin+" is not allowed (imgate --cors-origins)", http.StatusForbidden)
				return
			}
			hd.Set("Access-Control-Allow-Origin", origin)
			hd.Set("Access-Control-Allow-Methods", allowMethods)
			if h := r.Header.Get("Access-Control-Request-Headers"); h != "" {
				hd.Set("Access-Control-Allow-Headers", h)
			}
			hd.Set("Access-Control-Max-Age", maxAge)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if allowed {
			hd.Set("Access-Control-Allow-Origin", origin)
			hd.Set("Access-Control-Expose-Headers", exposeHeaders)
		}
		next.ServeHTTP(w, r)
	})
}
