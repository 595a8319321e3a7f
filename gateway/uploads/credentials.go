package uploads

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/imgate/imgate/gateway/auth"
	"github.com/imgate/imgate/gateway/storage"
)

// CredentialsRequest is the body of POST /v1/credentials.
type CredentialsRequest struct {
	Prefix          string          `json:"prefix"`
	DurationSeconds int64           `json:"duration_seconds,omitempty"` // default 3600
	Policy          json.RawMessage `json:"policy,omitempty"`           // optional IAM-style session policy (object or JSON string)
}

// CredentialsResponse is the answer of POST /v1/credentials (STS field names).
type CredentialsResponse struct {
	AccessKeyID     string    `json:"AccessKeyId"`
	SecretAccessKey string    `json:"SecretAccessKey"`
	SessionToken    string    `json:"SessionToken"`
	Expiration      time.Time `json:"Expiration"`
	Bucket          string    `json:"Bucket"`
	Prefix          string    `json:"Prefix"`
	Region          string    `json:"Region"`
	Endpoint        string    `json:"Endpoint"`
}

// credentials serves POST /v1/credentials: temporary S3 credentials
// scoped to a prefix, minted by gateway/auth.
func (h *handler) credentials(ctx context.Context, r *http.Request, parent *auth.Identity) (any, error) {
	var req CredentialsRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if req.Prefix == "" {
		return nil, badRequest(`"prefix" is required: the key prefix the credentials may write under (e.g. "users/42/").`)
	}
	if err := storage.ValidateKey(req.Prefix + "x"); err != nil {
		return nil, badRequest("Invalid prefix: %s.", trimSentinel(err))
	}
	if err := auth.CheckPrefix(req.Prefix); err != nil {
		return nil, badRequest("Invalid %s.", err)
	}
	ttl := DefaultCredsTTL
	if req.DurationSeconds != 0 {
		ttl = time.Duration(req.DurationSeconds) * time.Second
		if ttl < MinCredsTTL || ttl > MaxCredsTTL {
			return nil, badRequest(`"duration_seconds" must be between %d and %d.`, int(MinCredsTTL/time.Second), int(MaxCredsTTL/time.Second))
		}
	}
	policy := ""
	if raw := strings.TrimSpace(string(req.Policy)); raw != "" && raw != "null" {
		if strings.HasPrefix(raw, `"`) {
			if err := json.Unmarshal(req.Policy, &policy); err != nil {
				return nil, badRequest(`"policy" must be a JSON object or a string holding one.`)
			}
		} else {
			policy = raw
		}
	}
	creds, err := h.cfg.Auth.Mint(ctx, parent, req.Prefix, policy, ttl)
	if err != nil {
		return nil, h.authError(err)
	}
	return &CredentialsResponse{
		AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken,
		Expiration: creds.Expiration.UTC(), Bucket: h.original, Prefix: req.Prefix, Region: h.cfg.Region,
		Endpoint: h.cfg.PublicURL,
	}, nil
}

// authError maps a minting error: an invalid session policy is the client's fault.
func (h *handler) authError(err error) error {
	switch {
	case errors.Is(err, auth.ErrInvalidPolicy):
		return badRequest("%s", trimSentinel(err))
	case errors.Is(err, auth.ErrPrefixNotAllowed):
		return &apiError{http.StatusForbidden, "forbidden", "This API key may not issue credentials for that prefix."}
	case errors.Is(err, auth.ErrInvalidDuration):
		return badRequest("The duration must be between 15 minutes and 12 hours.")
	case errors.Is(err, auth.ErrNoTokenSecret):
		return &apiError{http.StatusNotImplemented, "not_configured", "Temporary credentials are not configured on this gateway."}
	}
	return err
}
