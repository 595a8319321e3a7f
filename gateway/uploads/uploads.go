// Package uploads serves imgate's upload-authorization API for app backends:
//
//	POST /v1/uploads      → a presigned PUT URL or a browser POST form for one key or key prefix
//	POST /v1/credentials  → temporary S3 credentials limited to a key prefix
//	POST /v1/upload-tokens → an upload token for a web page: credentials and a Companion endpoint
//
// Both take and return JSON and need "Authorization: Bearer <API key>".
// Errors are {"error": {"code": "...", "message": "..."}}.
//
// With "target": "gateway" (the default) URLs and forms are signed against
// imgate itself with temporary credentials minted for exactly that key or
// prefix, so a leaked URL cannot write anywhere else; with "target":
// "backend" they come from the storage backend (MinIO/AWS) directly, and
// imgate learns of the object from bucket events or the reconcile scan.
package uploads

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/imgate/imgate/resizer"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/gateway/auth"
	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/gateway/uploadtoken"
	"github.com/imgate/imgate/internal/httpjson"
)

// Config configures the handler.
type Config struct {
	APIKeys   []string // bearer keys accepted on /v1/uploads and /v1/credentials
	Auth      *auth.Store
	Bucket    string
	Region    string
	PublicURL string            // base URL clients reach the gateway at, e.g. http://127.0.0.1:8080
	Backend   storage.Presigner // nil when the backend cannot presign (fs); "target":"backend" then answers 400
	Logger    *slog.Logger
	// Tokens signs upload tokens (POST /v1/upload-tokens); nil answers 501.
	Tokens *uploadtoken.Signer
	// Now is the clock (nil: time.Now); tests set it.
	Now func() time.Time
}

// Limits of requests.
const (
	DefaultExpiry     = 15 * time.Minute
	MaxExpiry         = 7 * 24 * time.Hour
	DefaultCredsTTL   = time.Hour
	MinCredsTTL       = 15 * time.Minute
	MaxCredsTTL       = 12 * time.Hour
	maxRequestBody    = 64 << 10
	maxContentTypes   = 16
	randomKeyHexBytes = 12
)

// UploadRequest is the body of POST /v1/uploads.
type UploadRequest struct {
	Key          string   `json:"key,omitempty"`
	KeyPrefix    string   `json:"key_prefix,omitempty"`
	ContentTypes []string `json:"content_types,omitempty"`
	MaxBytes     int64    `json:"max_bytes,omitempty"`
	ExpiresIn    int64    `json:"expires_in,omitempty"` // seconds; default 900
	Method       string   `json:"method,omitempty"`     // "put" (default) or "post"
	Target       string   `json:"target,omitempty"`     // "gateway" (default) or "backend"
}

// UploadResponse is the answer of POST /v1/uploads. For "put": URL, Method,
// Headers (send them with the PUT), Key. For "post": URL, Fields (send them
// as multipart/form-data fields before the "file" field), Key (the key or
// its prefix followed by ${filename}).
type UploadResponse struct {
	URL       string            `json:"url"`
	Method    string            `json:"method"`
	Headers   map[string]string `json:"headers,omitempty"`
	Fields    map[string]string `json:"fields,omitempty"`
	Key       string            `json:"key"`
	Bucket    string            `json:"bucket"`
	Target    string            `json:"target"`
	ExpiresAt time.Time         `json:"expires_at"`
}

type handler struct {
	cfg      Config
	log      *slog.Logger
	original string
	keys     [][]byte
}

// New returns the handler serving POST /v1/uploads and POST /v1/credentials.
func New(cfg Config) (http.Handler, error) {
	if cfg.Auth == nil {
		return nil, errors.New("uploads: Auth is required")
	}
	if cfg.Bucket == "" {
		return nil, errors.New("uploads: Bucket is required")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("uploads: PublicURL %q must be an absolute http(s) URL", cfg.PublicURL)
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &handler{cfg: cfg, log: cfg.Logger, original: cfg.Bucket + "-original"}
	for _, k := range cfg.APIKeys {
		if k != "" {
			h.keys = append(h.keys, []byte(k))
		}
	}
	return h, nil
}

// apiError is a JSON error answer.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func badRequest(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, "invalid_request", fmt.Sprintf(format, args...)}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := newID(8)
	w.Header().Set("X-Request-Id", reqID)
	parent, err := h.authorized(r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="imgate"`)
		h.writeError(w, r, reqID, &apiError{http.StatusUnauthorized, "unauthorized", "A valid API key is required: Authorization: Bearer <API key>."})
		return
	}
	var route func(context.Context, *http.Request, *auth.Identity) (any, error)
	switch r.URL.Path {
	case "/v1/uploads":
		route = h.uploads
	case "/v1/credentials":
		route = h.credentials
	case "/v1/upload-tokens":
		route = h.uploadTokens
	default:
		h.writeError(w, r, reqID, &apiError{http.StatusNotFound, "not_found", "No such endpoint."})
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.writeError(w, r, reqID, &apiError{http.StatusMethodNotAllowed, "method_not_allowed", "Use POST."})
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); r.Header.Get("Content-Type") != "" && (err != nil || mt != "application/json") {
		h.writeError(w, r, reqID, &apiError{http.StatusUnsupportedMediaType, "unsupported_media_type", "The request body must be application/json."})
		return
	}
	res, err := route(r.Context(), r, parent)
	if err != nil {
		h.writeError(w, r, reqID, err)
		return
	}
	httpjson.Write(w, http.StatusOK, res)
}

// authorized checks the bearer API key, in constant time, against the
// configured keys (full access) and then the auth store's named API keys
// (each limited to its prefix), and returns the identity minting runs as.
func (h *handler) authorized(r *http.Request) (*auth.Identity, error) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return nil, auth.ErrUnknownAPIKey
	}
	match := 0
	for _, k := range h.keys {
		match |= subtle.ConstantTimeCompare([]byte(tok), k)
	}
	if match == 1 {
		return &auth.Identity{AccessKey: "apikey", APIKey: "default"}, nil
	}
	return h.cfg.Auth.AuthenticateAPIKey(r.Context(), tok)
}

// decode reads a strict JSON body (unknown fields are errors, so typos are not silently ignored).
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxRequestBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("The request body is not valid JSON for this endpoint: %s.", jsonErrText(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("The request body has data after the JSON object.")
	}
	return nil
}

func jsonErrText(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q must be %s", te.Field, te.Type)
	case errors.Is(err, io.EOF):
		return "empty body"
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "json: unknown field") {
		return strings.TrimPrefix(msg, "json: ")
	}
	return "malformed JSON"
}

// validate checks an upload request and fills in defaults.
func (req *UploadRequest) validate() error {
	req.Method = strings.ToLower(req.Method)
	if req.Method == "" {
		req.Method = "put"
	}
	if req.Method != "put" && req.Method != "post" {
		return badRequest(`"method" must be "put" or "post".`)
	}
	req.Target = strings.ToLower(req.Target)
	if req.Target == "" {
		req.Target = "gateway"
	}
	if req.Target != "gateway" && req.Target != "backend" {
		return badRequest(`"target" must be "gateway" or "backend".`)
	}
	switch {
	case req.Key != "" && req.KeyPrefix != "":
		return badRequest(`Give "key" or "key_prefix", not both.`)
	case req.Key == "" && req.KeyPrefix == "":
		return badRequest(`Give "key" (one object) or "key_prefix" (any key under it).`)
	case req.Key != "":
		if err := storage.ValidateKey(req.Key); err != nil {
			return badRequest("Invalid key: %s.", trimSentinel(err))
		}
	default:
		if err := storage.ValidateKey(req.KeyPrefix + "x"); err != nil {
			return badRequest("Invalid key_prefix: %s.", trimSentinel(err))
		}
	}
	if len(req.ContentTypes) > maxContentTypes {
		return badRequest("At most %d content_types.", maxContentTypes)
	}
	for i, ct := range req.ContentTypes {
		ct = strings.ToLower(strings.TrimSpace(ct))
		if !resizer.Decodable(ct) {
			return badRequest("Content type %q is not an image type imgate accepts (%s).", ct, strings.Join(resizer.ContentTypes(), ", "))
		}
		req.ContentTypes[i] = ct
	}
	if req.MaxBytes < 0 {
		return badRequest(`"max_bytes" must be positive.`)
	}
	if req.ExpiresIn < 0 || time.Duration(req.ExpiresIn)*time.Second > MaxExpiry {
		return badRequest(`"expires_in" must be between 1 and %d seconds.`, int(MaxExpiry/time.Second))
	}
	if req.Method == "put" && req.MaxBytes > 0 && req.Target == "backend" {
		return badRequest(`A presigned PUT cannot cap the size on the backend: use "method": "post" (content-length-range) or "target": "gateway".`)
	}
	return nil
}

func trimSentinel(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}

func newID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (h *handler) uploads(ctx context.Context, r *http.Request, parent *auth.Identity) (any, error) {
	var req UploadRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if err := req.validate(); err != nil {
		return nil, err
	}
	expiry := DefaultExpiry
	if req.ExpiresIn > 0 {
		expiry = time.Duration(req.ExpiresIn) * time.Second
	}
	now := h.cfg.Now().UTC().Truncate(time.Second)
	key := req.Key
	if req.Method == "put" && key == "" {
		// A PUT URL names one object: pick a fresh key under the prefix.
		key = req.KeyPrefix + newID(randomKeyHexBytes)
	}
	contentType := ""
	if len(req.ContentTypes) == 1 {
		contentType = req.ContentTypes[0]
	}
	res := &UploadResponse{Bucket: h.original, Target: req.Target, ExpiresAt: now.Add(expiry)}

	if req.Target == "backend" {
		if h.cfg.Backend == nil {
			return nil, badRequest(`"target": "backend" needs an S3 storage backend (MinIO/AWS); this gateway stores on its filesystem. Use "target": "gateway".`)
		}
		return h.backendUpload(ctx, &req, res, key, contentType, expiry)
	}

	// Gateway target: temporary credentials that can write exactly this key
	// (or only under this prefix), living as long as the URL.
	var policy string
	var prefix string
	if key != "" {
		// The prefix may not hold IAM wildcards; the policy pins the key.
		prefix = key
		if i := strings.IndexAny(key, "*?"); i >= 0 {
			prefix = key[:i]
		}
		policy = exactKeyPolicy(h.original, key)
	} else {
		prefix = req.KeyPrefix
	}
	ttl := max(expiry, MinCredsTTL)
	// max_bytes and content_types are signed into the credentials: the S3
	// surface enforces them whatever the client sends (a presigned PUT has
	// no content-length-range).
	lim := auth.Limits{MaxBytes: req.MaxBytes, ContentTypes: req.ContentTypes}
	creds, err := h.cfg.Auth.MintLimited(ctx, parent, prefix, policy, ttl, lim)
	if err != nil {
		return nil, h.authError(err)
	}
	signer := Signer{BaseURL: h.cfg.PublicURL, Region: h.cfg.Region, AccessKey: creds.AccessKeyID,
		SecretKey: creds.SecretAccessKey, SessionToken: creds.SessionToken}
	if req.Method == "put" {
		u, hdr, err := signer.PresignPut(h.original, key, contentType, now, expiry)
		if err != nil {
			return nil, err
		}
		res.URL, res.Method, res.Key = u, http.MethodPut, key
		res.Headers = flatten(hdr)
		return res, nil
	}
	form := PostForm{Bucket: h.original, Key: key, KeyPrefix: req.KeyPrefix, ContentType: contentType,
		MaxBytes: req.MaxBytes, Expiry: expiry}
	if req.MaxBytes > 0 {
		form.MinBytes = 1
	}
	u, fields, err := signer.PresignPost(form, now)
	if err != nil {
		return nil, err
	}
	res.URL, res.Method, res.Fields, res.Key = u, http.MethodPost, fields, fields["key"]
	return res, nil
}

func (h *handler) backendUpload(ctx context.Context, req *UploadRequest, res *UploadResponse, key, contentType string, expiry time.Duration) (any, error) {
	if req.Method == "put" {
		u, err := h.cfg.Backend.PresignPut(ctx, h.original, key, expiry)
		if err != nil {
			return nil, fmt.Errorf("presign backend PUT: %w", err)
		}
		res.URL, res.Method, res.Key = u, http.MethodPut, key
		if contentType != "" {
			res.Headers = map[string]string{"Content-Type": contentType}
		}
		return res, nil
	}
	p := storage.PostPolicy{Bucket: h.original, Key: key, KeyPrefix: req.KeyPrefix, ContentType: contentType,
		MaxBytes: req.MaxBytes, Expiry: expiry, ContentTypes: req.ContentTypes}
	if req.MaxBytes > 0 {
		p.MinBytes = 1
	}
	u, fields, err := h.cfg.Backend.PresignPost(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("presign backend POST: %w", err)
	}
	if req.KeyPrefix != "" && fields["key"] == req.KeyPrefix {
		// Let the browser's file name complete the key (S3 and MinIO
		// substitute ${filename}; the policy only pins the prefix).
		fields["key"] = req.KeyPrefix + "${filename}"
	}
	res.URL, res.Method, res.Fields = u, http.MethodPost, fields
	res.Key = fields["key"]
	if res.Key == "" {
		res.Key = key
	}
	return res, nil
}

// exactKeyPolicy allows writing exactly one object (and its multipart steps).
func exactKeyPolicy(bucket, key string) string {
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Effect":   "Allow",
			"Action":   []string{"s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"},
			"Resource": []string{"arn:aws:s3:::" + bucket + "/" + escapeWildcards(key)},
		}},
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

// escapeWildcards makes sure a key's '*' and '?' do not widen an ARN
// pattern: IAM has no escape, so such keys get an exact-prefix policy with
// the wildcard characters matched as "any one byte" instead.
func escapeWildcards(key string) string {
	return strings.NewReplacer("*", "?").Replace(key)
}

func flatten(h http.Header) map[string]string {
	if len(h) == 0 {
		return nil
	}
	m := make(map[string]string, len(h))
	for k, v := range h {
		m[k] = strings.Join(v, ",")
	}
	return m
}

func (h *handler) writeError(w http.ResponseWriter, r *http.Request, reqID string, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		h.log.ErrorContext(r.Context(), "upload API request failed", "request_id", reqID, "path", r.URL.Path, "err", err)
		ae = &apiError{http.StatusInternalServerError, "internal_error", "Internal error; retry later (request id " + reqID + ")."}
	} else if ae.status >= 500 {
		h.log.ErrorContext(r.Context(), "upload API request failed", "request_id", reqID, "path", r.URL.Path, "err", err)
	}
	var body adminapi.ErrorBody
	body.Error.Code, body.Error.Message = ae.code, ae.message
	httpjson.Write(w, ae.status, body)
}
