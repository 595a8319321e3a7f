// Package companion serves the S3 routes of Uppy's Companion server under
// an upload token's endpoint, so Uppy's AwsS3 plugin works in its
// companionEndpoint mode against imgate with no Companion server:
//
//	GET    /v1/companion/{token}/s3/params?filename=&type=          → {method, url, fields} (a POST form)
//	POST   /v1/companion/{token}/s3/multipart {filename, type}      → {key, uploadId, bucket}
//	GET    /v1/companion/{token}/s3/multipart/{uploadId}/{part}?key= → {url, expires}
//	GET    /v1/companion/{token}/s3/multipart/{uploadId}?key=        → [{PartNumber, Size, ETag}]
//	POST   /v1/companion/{token}/s3/multipart/{uploadId}/complete?key= {parts} → {location, key, bucket}
//	DELETE /v1/companion/{token}/s3/multipart/{uploadId}?key=        → {}
//
// Uppy sends no custom headers to Companion, so the token travels in the
// path. The token's limits apply on every route: keys are picked by the
// server under its prefix (and any key a request names must lie under it),
// content types are checked where Uppy declares them, and max_bytes is the
// POST form's content-length-range and is checked against the parts before
// a part is signed and before a multipart upload completes. The
// server-side steps are S3 requests to imgate's own S3 handler, signed
// in-process with temporary credentials minted for the token's prefix, so
// they pass through the same checks, limits and hooks as any client's.
// Errors are {"error": "..."}.
package companion

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/imgate/imgate/gateway/auth"
	"github.com/imgate/imgate/gateway/uploadtoken"
	"github.com/imgate/imgate/internal/httpjson"
)

// Config configures the handler.
type Config struct {
	Tokens    *uploadtoken.Signer
	Auth      *auth.Store  // mints the temporary credentials the steps are signed with
	S3        http.Handler // imgate's S3 handler, called in-process
	Bucket    string       // NAME; uploads go to NAME-original
	Region    string
	PublicURL string // base URL browsers reach imgate at
	Logger    *slog.Logger
	Now       func() time.Time // nil: time.Now
}

// urlExpiry is how long a form or part URL lives (never past the token).
const urlExpiry = 15 * time.Minute

type handler struct {
	cfg      Config
	original string
	base     *url.URL
	mux      *http.ServeMux
}

// New returns the handler for /v1/companion/.
func New(cfg Config) (http.Handler, error) {
	if cfg.Tokens == nil || cfg.Auth == nil || cfg.S3 == nil || cfg.Bucket == "" {
		return nil, errors.New("companion: Tokens, Auth, S3 and Bucket are required")
	}
	base, err := url.Parse(strings.TrimSuffix(cfg.PublicURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("companion: PublicURL %q must be an absolute http(s) URL", cfg.PublicURL)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &handler{cfg: cfg, original: cfg.Bucket + "-original", base: base, mux: http.NewServeMux()}
	const p = "/v1/companion/{token}/s3"
	h.mux.HandleFunc("GET "+p+"/params", h.with(h.params))
	h.mux.HandleFunc("POST "+p+"/multipart", h.with(h.createMultipart))
	h.mux.HandleFunc("GET "+p+"/multipart/{uploadId}/{partNumber}", h.with(h.signPart))
	h.mux.HandleFunc("GET "+p+"/multipart/{uploadId}", h.with(h.listParts))
	h.mux.HandleFunc("POST "+p+"/multipart/{uploadId}/complete", h.with(h.complete))
	h.mux.HandleFunc("DELETE "+p+"/multipart/{uploadId}", h.with(h.abort))
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, http.StatusNotFound, "No such Companion route.")
	})
	return h, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	h.mux.ServeHTTP(w, r)
}

// call is one authorised Companion request: the token's claims and the
// temporary credentials the S3 steps are signed with.
type call struct {
	r      *http.Request
	claims uploadtoken.Claims
	creds  auth.TempCredentials
	now    time.Time
}

// apiError is an answer other than 200.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func fail(status int, format string, args ...any) error {
	return &apiError{status, fmt.Sprintf(format, args...)}
}

func writeErr(w http.ResponseWriter, status int, msg string) {
	httpjson.Write(w, status, map[string]string{"error": msg})
}

// with checks the token, mints the step credentials and writes the answer.
func (h *handler) with(fn func(*call) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		now := h.cfg.Now()
		claims, err := h.cfg.Tokens.Parse(r.PathValue("token"), now)
		switch {
		case errors.Is(err, uploadtoken.ErrExpired):
			writeErr(w, http.StatusUnauthorized, "The upload token has expired; ask the app for a new one.")
			return
		case err != nil:
			writeErr(w, http.StatusUnauthorized, "Invalid upload token.")
			return
		}
		lim := auth.Limits{MaxBytes: claims.MaxBytes, ContentTypes: claims.ContentTypes}
		creds, err := h.cfg.Auth.MintLimited(r.Context(), &auth.Identity{AccessKey: "upload-token"}, claims.Prefix, "", auth.MinDuration, lim)
		if err != nil {
			h.cfg.Logger.ErrorContext(r.Context(), "companion: mint credentials", "err", err)
			writeErr(w, http.StatusInternalServerError, "Internal error.")
			return
		}
		res, err := fn(&call{r: r, claims: claims, creds: creds, now: now})
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) {
				h.cfg.Logger.ErrorContext(r.Context(), "companion request failed", "path", r.URL.Path, "err", err)
				ae = &apiError{http.StatusInternalServerError, "Internal error."}
			}
			writeErr(w, ae.status, ae.msg)
			return
		}
		httpjson.Write(w, http.StatusOK, res)
	}
}

// expiry is how long a URL handed out now may live.
func (c *call) expiry() time.Duration {
	return min(urlExpiry, c.claims.ExpiresAt().Sub(c.now).Truncate(time.Second))
}

// newKey picks the object key for an upload of filename under the prefix:
// a random part keeps two uploads of "photo.jpg" apart, the cleaned name
// keeps the key readable.
func newKey(prefix, filename string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := filename
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, name)
	clean = strings.TrimLeft(clean, ".")
	if len(clean) > 100 {
		clean = clean[len(clean)-100:]
	}
	if clean == "" {
		clean = "upload"
	}
	return prefix + hex.EncodeToString(b[:]) + "-" + clean
}

// checkType refuses a content type outside the token's list.
func (c *call) checkType(ct string) error {
	if !c.claims.AllowsType(ct) {
		return fail(http.StatusUnsupportedMediaType, "Content type %q is not allowed by this upload token (allowed: %s).", ct, strings.Join(c.claims.ContentTypes, ", "))
	}
	return nil
}

// keyParam is the ?key= of a multipart route; it must lie under the prefix.
func (c *call) keyParam() (string, error) {
	key := c.r.URL.Query().Get("key")
	if key == "" {
		return "", fail(http.StatusBadRequest, "The key query parameter is required.")
	}
	if !c.claims.Covers(key) {
		return "", fail(http.StatusForbidden, "The key is outside this upload token's prefix.")
	}
	return key, nil
}

func (c *call) ctx() context.Context { return c.r.Context() }
