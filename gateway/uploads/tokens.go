package uploads

import (
	"context"
	"encoding/json"
	"github.com/imgate/imgate/resizer"
	"net/http"
	"strings"
	"time"

	"github.com/imgate/imgate/gateway/auth"
	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/gateway/uploadtoken"
)

// Limits of POST /v1/upload-tokens.
const (
	DefaultTokenTTL = time.Hour
	MinTokenTTL     = auth.MinDuration // the credentials inside cannot live shorter
	MaxTokenTTL     = auth.MaxDuration
)

// UploadTokenRequest is the body of POST /v1/upload-tokens.
type UploadTokenRequest struct {
	Prefix       string   `json:"prefix"`
	MaxBytes     int64    `json:"max_bytes,omitempty"`
	ContentTypes []string `json:"content_types,omitempty"`
	ExpiresIn    int64    `json:"expires_in,omitempty"` // seconds; default 3600
}

// UploadTokenResponse is everything a page needs for one user's uploads:
// the token (for /v1/companion/{token} and /v1/images with "Bearer"),
// the Companion endpoint Uppy's companionEndpoint mode takes, and temporary
// S3 credentials for its getCredentials mode, all limited to the prefix and
// expiring together.
type UploadTokenResponse struct {
	Token             string              `json:"token"`
	Prefix            string              `json:"prefix"`
	MaxBytes          int64               `json:"max_bytes,omitempty"`
	ContentTypes      []string            `json:"content_types,omitempty"`
	ExpiresAt         time.Time           `json:"expires_at"`
	CompanionEndpoint string              `json:"companion_endpoint"`
	Credentials       CredentialsResponse `json:"credentials"`
}

func (req *UploadTokenRequest) validate() (time.Duration, error) {
	if req.Prefix == "" {
		return 0, badRequest(`"prefix" is required: the key prefix the page may upload under (e.g. "users/42/").`)
	}
	if err := storage.ValidateKey(req.Prefix + "x"); err != nil || strings.ContainsAny(req.Prefix, "*?") {
		return 0, badRequest("Invalid prefix (no '*' or '?'; a valid key start).")
	}
	if err := auth.CheckPrefix(req.Prefix); err != nil {
		return 0, badRequest("Invalid %s.", err)
	}
	if req.MaxBytes < 0 {
		return 0, badRequest(`"max_bytes" must be positive.`)
	}
	if len(req.ContentTypes) > maxContentTypes {
		return 0, badRequest("At most %d content_types.", maxContentTypes)
	}
	for i, ct := range req.ContentTypes {
		ct = strings.ToLower(strings.TrimSpace(ct))
		if !resizer.Decodable(ct) {
			return 0, badRequest("Content type %q is not an image type imgate accepts (%s).", ct, strings.Join(resizer.ContentTypes(), ", "))
		}
		req.ContentTypes[i] = ct
	}
	ttl := DefaultTokenTTL
	if req.ExpiresIn != 0 {
		ttl = time.Duration(req.ExpiresIn) * time.Second
		if ttl < MinTokenTTL || ttl > MaxTokenTTL {
			return 0, badRequest(`"expires_in" must be between %d and %d seconds.`, int(MinTokenTTL/time.Second), int(MaxTokenTTL/time.Second))
		}
	}
	return ttl, nil
}

// uploadOnlyPolicy lets temporary credentials upload under prefix (PUT,
// the multipart steps) and nothing else: a page has no business listing,
// reading or deleting other uploads.
func uploadOnlyPolicy(bucket, prefix string) string {
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Effect":   "Allow",
			"Action":   []string{"s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"},
			"Resource": []string{"arn:aws:s3:::" + bucket + "/" + prefix + "*"},
		}},
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

func (h *handler) uploadTokens(ctx context.Context, r *http.Request, parent *auth.Identity) (any, error) {
	if h.cfg.Tokens == nil {
		return nil, &apiError{http.StatusNotImplemented, "not_configured", "Upload tokens are not configured on this gateway."}
	}
	var req UploadTokenRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	ttl, err := req.validate()
	if err != nil {
		return nil, err
	}
	lim := auth.Limits{MaxBytes: req.MaxBytes, ContentTypes: req.ContentTypes}
	creds, err := h.cfg.Auth.MintLimited(ctx, parent, req.Prefix, uploadOnlyPolicy(h.original, req.Prefix), ttl, lim)
	if err != nil {
		return nil, h.authError(err)
	}
	claims := uploadtoken.Claims{Prefix: req.Prefix, MaxBytes: req.MaxBytes, ContentTypes: req.ContentTypes,
		Expires: creds.Expiration.Unix()}
	tok, err := h.cfg.Tokens.Sign(claims)
	if err != nil {
		return nil, err
	}
	return &UploadTokenResponse{
		Token: tok, Prefix: req.Prefix, MaxBytes: req.MaxBytes, ContentTypes: req.ContentTypes,
		ExpiresAt: claims.ExpiresAt(), CompanionEndpoint: h.cfg.PublicURL + "/v1/companion/" + tok,
		Credentials: CredentialsResponse{
			AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken,
			Expiration: creds.Expiration.UTC(), Bucket: h.original, Prefix: req.Prefix, Region: h.cfg.Region,
			Endpoint: h.cfg.PublicURL,
		},
	}, nil
}
