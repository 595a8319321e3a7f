// Package uploadtoken signs and checks upload tokens: what an app backend
// hands a web page so one user may upload, by itself limited to a key
// prefix, a size, content types and an expiry. The token is stateless
// (HMAC-SHA256 with a key derived from the gateway's token secret), so it
// survives restarts and works on every node sharing that secret, and it is
// URL-safe: Companion clients carry it in the endpoint's path.
package uploadtoken

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Errors of Parse. Test with errors.Is.
var (
	ErrInvalid = errors.New("invalid upload token")
	ErrExpired = errors.New("upload token expired")
)

const (
	version = "iut1"
	// MaxLen bounds a token (and so the claims it can carry).
	MaxLen = 4 << 10
)

// Claims are what a token allows.
type Claims struct {
	Prefix       string   `json:"p"`           // keys in NAME-original must start with it
	MaxBytes     int64    `json:"m,omitempty"` // largest object; 0 = the gateway's limit
	ContentTypes []string `json:"t,omitempty"` // allowed content types; empty = the gateway's list
	Expires      int64    `json:"e"`           // Unix seconds
}

// ExpiresAt is Expires as a time.
func (c Claims) ExpiresAt() time.Time { return time.Unix(c.Expires, 0).UTC() }

// Covers reports whether key lies under the token's prefix.
func (c Claims) Covers(key string) bool { return strings.HasPrefix(key, c.Prefix) }

// AllowsType reports whether an upload of content type ct is allowed
// (parameters such as "; charset" are ignored, case does not matter).
func (c Claims) AllowsType(ct string) bool {
	if len(c.ContentTypes) == 0 {
		return true
	}
	ct, _, _ = strings.Cut(ct, ";")
	return slices.Contains(c.ContentTypes, strings.ToLower(strings.TrimSpace(ct)))
}

// AllowsSize reports whether an object of n bytes fits.
func (c Claims) AllowsSize(n int64) bool { return c.MaxBytes <= 0 || n <= c.MaxBytes }

// Signer signs and checks tokens with one key.
type Signer struct {
	key []byte
}

// NewSigner derives the token key from the gateway's token secret (at
// least 32 bytes), so upload tokens and session tokens never share a MAC key.
func NewSigner(tokenSecret []byte) (*Signer, error) {
	if len(tokenSecret) < 32 {
		return nil, errors.New("uploadtoken: the token secret must be at least 32 bytes")
	}
	m := hmac.New(sha256.New, tokenSecret)
	m.Write([]byte("imgate upload token key"))
	return &Signer{key: m.Sum(nil)}, nil
}

func (s *Signer) mac(payload string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(version))
	m.Write([]byte{'.'})
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// Sign returns the token for c: "iut1.<claims>.<mac>", base64url without padding.
func (s *Signer) Sign(c Claims) (string, error) {
	body, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("uploadtoken: encode: %w", err)
	}
	payload := base64.RawURLEncoding.EncodeToString(body)
	tok := version + "." + payload + "." + base64.RawURLEncoding.EncodeToString(s.mac(payload))
	if len(tok) > MaxLen {
		return "", fmt.Errorf("uploadtoken: token of %d bytes is over %d", len(tok), MaxLen)
	}
	return tok, nil
}

// Parse checks the token's MAC and expiry (against now) and returns its claims.
func (s *Signer) Parse(tok string, now time.Time) (Claims, error) {
	if len(tok) > MaxLen {
		return Claims{}, ErrInvalid
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || parts[0] != version {
		return Claims{}, ErrInvalid
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, s.mac(parts[1])) {
		return Claims{}, ErrInvalid
	}
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return Claims{}, ErrInvalid
	}
	var c Claims
	if err := json.Unmarshal(body, &c); err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if !now.Before(c.ExpiresAt()) {
		return Claims{}, ErrExpired
	}
	return c, nil
}
