// Package auth holds imgate's credentials: the root key pair, static keys
// limited to a key prefix, API keys for the /v1 JSON API, and stateless
// temporary (STS-style) credentials. It plugs into sigv4.Verifier through
// Store.Lookup and turns a verified request into an Identity whose Allowed
// method answers "may this caller do that".
package auth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/imgate/imgate/gateway/sigv4"
)

// Errors returned by Store. Test with errors.Is.
var (
	ErrUnknownAPIKey      = errors.New("unknown API key")
	ErrInvalidConfig      = errors.New("invalid credentials configuration")
	ErrInvalidDuration    = errors.New("duration must be between 15 minutes and 12 hours")
	ErrPrefixNotAllowed   = errors.New("prefix is outside the caller's allowed prefix")
	ErrNoTokenSecret      = errors.New("temporary credentials are not configured (no token secret)")
	ErrNotAuthenticated   = errors.New("request is not authenticated by this store")
	ErrTemporaryForbidden = errors.New("operation not allowed with temporary credentials")
)

// Durations of temporary credentials.
const (
	MinDuration     = 15 * time.Minute
	MaxDuration     = 12 * time.Hour
	DefaultDuration = time.Hour
)

// tempPrefix starts every temporary access key id; static keys may not use it.
const tempPrefix = "IGT"

// StaticKey is an extra key pair from the config file, limited to a key prefix.
type StaticKey struct {
	AccessKey string `json:"access_key"`
	SecretKey string `json:"secret_key"`
	Prefix    string `json:"prefix"` // allowed key prefix; "" = everything
}

// APIKey authorizes the /v1 JSON API (Authorization: Bearer <key>).
type APIKey struct {
	Name   string `json:"name"`
	Key    string `json:"key"`
	Prefix string `json:"prefix"` // allowed key prefix; "" = everything
}

// KeysFile is the credentials part of the config JSON:
// {"keys":[{"access_key":..,"secret_key":..,"prefix":"users/alice/"}], "api_keys":[{"name":..,"key":..,"prefix":..}]}.
type KeysFile struct {
	Keys    []StaticKey `json:"keys"`
	APIKeys []APIKey    `json:"api_keys"`
}

// ParseKeysFile decodes a KeysFile. Other top-level fields are ignored so the
// keys can live in the main config file.
func ParseKeysFile(b []byte) (KeysFile, error) {
	var f KeysFile
	if err := json.Unmarshal(b, &f); err != nil {
		return KeysFile{}, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return f, nil
}

// Config configures a Store.
type Config struct {
	RootAccessKey, RootSecretKey string
	Keys                         []StaticKey
	APIKeys                      []APIKey
	// TokenSecret signs temporary credentials (at least 32 bytes); keep it
	// stable across restarts or issued credentials stop working. nil
	// disables temporary credentials.
	TokenSecret []byte
	Now         func() time.Time // nil = time.Now
}

// Store answers credential lookups. It is immutable and safe for concurrent use.
type Store struct {
	root    StaticKey
	static  map[string]StaticKey
	apiKeys []APIKey
	secret  []byte
	now     func() time.Time
}

// NewStore validates cfg and builds a Store.
func NewStore(cfg Config) (*Store, error) {
	s := &Store{static: make(map[string]StaticKey), now: cfg.Now, secret: bytes.Clone(cfg.TokenSecret)}
	if s.now == nil {
		s.now = time.Now
	}
	if cfg.TokenSecret != nil && len(cfg.TokenSecret) < 32 {
		return nil, fmt.Errorf("%w: the token secret must be at least 32 bytes", ErrInvalidConfig)
	}
	if cfg.RootAccessKey != "" || cfg.RootSecretKey != "" {
		if err := validateKey(cfg.RootAccessKey, cfg.RootSecretKey); err != nil {
			return nil, fmt.Errorf("%w: root key: %w", ErrInvalidConfig, err)
		}
		s.root = StaticKey{AccessKey: cfg.RootAccessKey, SecretKey: cfg.RootSecretKey}
	}
	for i, k := range cfg.Keys {
		if err := validateKey(k.AccessKey, k.SecretKey); err != nil {
			return nil, fmt.Errorf("%w: key %d: %w", ErrInvalidConfig, i, err)
		}
		if err := CheckPrefix(k.Prefix); err != nil {
			return nil, fmt.Errorf("%w: key %q: %w", ErrInvalidConfig, k.AccessKey, err)
		}
		if _, dup := s.static[k.AccessKey]; dup || k.AccessKey == s.root.AccessKey {
			return nil, fmt.Errorf("%w: access key %q appears twice", ErrInvalidConfig, k.AccessKey)
		}
		s.static[k.AccessKey] = k
	}
	for i, k := range cfg.APIKeys {
		if len(k.Key) < 16 {
			return nil, fmt.Errorf("%w: API key %d (%q) must be at least 16 characters", ErrInvalidConfig, i, k.Name)
		}
		if err := CheckPrefix(k.Prefix); err != nil {
			return nil, fmt.Errorf("%w: API key %q: %w", ErrInvalidConfig, k.Name, err)
		}
		s.apiKeys = append(s.apiKeys, k)
	}
	return s, nil
}

// Lookup finds the credential of an access key; it plugs into sigv4.Verifier.Lookup.
// Temporary keys are checked for forgery and expiry here, and their session
// token when the request is verified.
func (s *Store) Lookup(ctx context.Context, accessKey string) (sigv4.Credential, error) {
	if s.root.AccessKey != "" && accessKey == s.root.AccessKey {
		return sigv4.Credential{AccessKey: accessKey, SecretKey: s.root.SecretKey}, nil
	}
	if k, ok := s.static[accessKey]; ok {
		return sigv4.Credential{AccessKey: accessKey, SecretKey: k.SecretKey}, nil
	}
	if strings.HasPrefix(accessKey, tempPrefix) && s.secret != nil {
		exp, err := s.checkTempAccessKey(accessKey)
		if err != nil {
			return sigv4.Credential{}, err
		}
		if !s.now().Before(exp) {
			return sigv4.Credential{}, sigv4.ErrExpiredToken
		}
		return sigv4.Credential{
			AccessKey: accessKey,
			SecretKey: s.tempSecret(accessKey),
			ValidateToken: func(token string) error {
				_, err := s.parseToken(token, accessKey)
				return err
			},
		}, nil
	}
	return sigv4.Credential{}, fmt.Errorf("auth: access key %q: %w", accessKey, sigv4.ErrUnknownAccessKey)
}

// Identity describes who made a verified request and what it may touch.
type Identity struct {
	AccessKey string
	Root      bool
	Prefix    string         // allowed key prefix in NAME-original; "" = everything
	Policy    *SessionPolicy // temporary credentials: the session policy, nil if none
	Expires   time.Time      // temporary credentials
	Temporary bool
	Parent    string // temporary credentials: the access key that minted them
	APIKey    string // the API key's name, for identities from AuthenticateAPIKey
	Limits    Limits // temporary credentials: what their uploads may hold
}

// Limits narrow what temporary credentials may upload. They are signed into
// the session token with the prefix and policies, so a client cannot drop
// them; the S3 surface enforces them on every PUT, part and POST form.
type Limits struct {
	MaxBytes     int64    // largest object; 0: the gateway's limit
	ContentTypes []string // sniffed content types allowed (lower case); empty: the gateway's list
}

// AllowsType reports whether an upload of sniffed content type ct is allowed.
func (l Limits) AllowsType(ct string) bool {
	return len(l.ContentTypes) == 0 || slices.Contains(l.ContentTypes, ct)
}

// narrow returns the limits of credentials minted with want under l: the
// smaller size cap and the common content types.
func (l Limits) narrow(want Limits) (Limits, error) {
	out := Limits{MaxBytes: l.MaxBytes, ContentTypes: l.ContentTypes}
	if want.MaxBytes < 0 {
		return Limits{}, fmt.Errorf("%w: max bytes must be positive", ErrInvalidConfig)
	}
	if want.MaxBytes > 0 && (out.MaxBytes == 0 || want.MaxBytes < out.MaxBytes) {
		out.MaxBytes = want.MaxBytes
	}
	if len(want.ContentTypes) > 0 {
		var common []string
		for _, ct := range want.ContentTypes {
			if ct = strings.ToLower(strings.TrimSpace(ct)); l.AllowsType(ct) && !slices.Contains(common, ct) {
				common = append(common, ct)
			}
		}
		if len(common) == 0 {
			return Limits{}, fmt.Errorf("%w: none of the content types %v is allowed to the parent credentials", ErrPrefixNotAllowed, want.ContentTypes)
		}
		out.ContentTypes = common
	}
	return out, nil
}

// Identity returns the identity behind a verified request.
func (s *Store) Identity(ctx context.Context, a *sigv4.Auth) (*Identity, error) {
	if a == nil {
		return nil, ErrNotAuthenticated
	}
	if s.root.AccessKey != "" && a.AccessKey == s.root.AccessKey {
		return &Identity{AccessKey: a.AccessKey, Root: true}, nil
	}
	if k, ok := s.static[a.AccessKey]; ok {
		return &Identity{AccessKey: a.AccessKey, Prefix: k.Prefix}, nil
	}
	if strings.HasPrefix(a.AccessKey, tempPrefix) && s.secret != nil {
		t, err := s.parseToken(a.SessionToken, a.AccessKey)
		if err != nil {
			return nil, err
		}
		return t.identity()
	}
	return nil, fmt.Errorf("auth: access key %q: %w", a.AccessKey, ErrNotAuthenticated)
}

// AuthenticateAPIKey returns the identity of a /v1 API key (compared in
// constant time), or an error wrapping ErrUnknownAPIKey.
func (s *Store) AuthenticateAPIKey(ctx context.Context, key string) (*Identity, error) {
	want := sha256.Sum256([]byte(key))
	var found *APIKey
	for i := range s.apiKeys {
		got := sha256.Sum256([]byte(s.apiKeys[i].Key))
		if subtle.ConstantTimeCompare(want[:], got[:]) == 1 {
			found = &s.apiKeys[i]
		}
	}
	if found == nil || key == "" {
		return nil, ErrUnknownAPIKey
	}
	return &Identity{AccessKey: "apikey:" + found.Name, Prefix: found.Prefix, APIKey: found.Name}, nil
}

// TempCredentials are STS-style temporary credentials.
type TempCredentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
	Expiration                                 time.Time
}

// token is the signed content of a session token.
type token struct {
	AccessKey string   `json:"ak"`
	Expires   int64    `json:"exp"`
	Prefix    string   `json:"pfx,omitempty"`
	Policies  []string `json:"pol,omitempty"`
	Parent    string   `json:"par,omitempty"`
	MaxBytes  int64    `json:"mb,omitempty"`
	Types     []string `json:"ct,omitempty"`
}

func (t *token) identity() (*Identity, error) {
	id := &Identity{AccessKey: t.AccessKey, Prefix: t.Prefix, Temporary: true, Parent: t.Parent, Expires: time.Unix(t.Expires, 0).UTC(),
		Limits: Limits{MaxBytes: t.MaxBytes, ContentTypes: t.Types}}
	// The newest policy first; each older one chained behind it.
	var chain *SessionPolicy
	for _, raw := range t.Policies {
		p, err := ParseSessionPolicy([]byte(raw))
		if err != nil {
			return nil, sigv4.ErrInvalidToken.Wrap(fmt.Errorf("auth: token policy: %w", err))
		}
		p.also = chain
		chain = p
	}
	id.Policy = chain
	return id, nil
}

const tokenVersion = "igt1"

// Mint issues temporary credentials limited to prefix (which must lie
// inside the parent's prefix) and, optionally, an AWS-style session policy,
// valid for d (0 = 1 h; 15 min .. 12 h; never past a temporary parent's
// expiry). They are stateless: the secret is derived from the access key and
// the session token is HMAC-signed with the token secret, so they survive a
// restart and need no storage.
func (s *Store) Mint(ctx context.Context, parent *Identity, prefix string, policyJSON string, d time.Duration) (TempCredentials, error) {
	return s.MintLimited(ctx, parent, prefix, policyJSON, d, Limits{})
}

// MintLimited is Mint with upload limits signed into the session token
// (narrowed by a temporary parent's own limits).
func (s *Store) MintLimited(ctx context.Context, parent *Identity, prefix string, policyJSON string, d time.Duration, lim Limits) (TempCredentials, error) {
	if s.secret == nil {
		return TempCredentials{}, ErrNoTokenSecret
	}
	if parent == nil {
		return TempCredentials{}, ErrNotAuthenticated
	}
	if d == 0 {
		d = DefaultDuration
	}
	if d < MinDuration || d > MaxDuration {
		return TempCredentials{}, ErrInvalidDuration
	}
	if err := validPrefix(prefix); err != nil {
		return TempCredentials{}, fmt.Errorf("%w: %w", ErrPrefixNotAllowed, err)
	}
	if !strings.HasPrefix(prefix, parent.Prefix) {
		return TempCredentials{}, fmt.Errorf("%w: %q is not inside %q", ErrPrefixNotAllowed, prefix, parent.Prefix)
	}
	lim, err := parent.Limits.narrow(lim)
	if err != nil {
		return TempCredentials{}, err
	}
	t := token{Prefix: prefix, Parent: parent.AccessKey, MaxBytes: lim.MaxBytes, Types: lim.ContentTypes}
	if parent.Temporary {
		if t.Policies, err = policiesOf(parent.Policy); err != nil {
			return TempCredentials{}, err
		}
		if parent.Parent != "" {
			t.Parent = parent.Parent
		}
	}
	if policyJSON != "" {
		if _, err := ParseSessionPolicy([]byte(policyJSON)); err != nil {
			return TempCredentials{}, err
		}
		t.Policies = append(t.Policies, policyJSON)
	}
	exp := s.now().Add(d).Truncate(time.Second)
	if parent.Temporary && !parent.Expires.IsZero() && parent.Expires.Before(exp) {
		exp = parent.Expires
	}
	t.Expires = exp.Unix()
	ak, err := s.newTempAccessKey(exp)
	if err != nil {
		return TempCredentials{}, err
	}
	t.AccessKey = ak
	tok, err := s.signToken(&t)
	if err != nil {
		return TempCredentials{}, err
	}
	return TempCredentials{AccessKeyID: ak, SecretAccessKey: s.tempSecret(ak), SessionToken: tok, Expiration: exp.UTC()}, nil
}

// policiesOf returns the raw policies a temporary identity carries, oldest first.
func policiesOf(p *SessionPolicy) ([]string, error) {
	var out []string
	for ; p != nil; p = p.also {
		raw := p.raw
		if raw == "" {
			b, err := json.Marshal(p.document())
			if err != nil {
				return nil, fmt.Errorf("auth: encode policy: %w", err)
			}
			raw = string(b)
		}
		out = append([]string{raw}, out...)
	}
	return out, nil
}

// document renders p back to IAM JSON.
func (p *SessionPolicy) document() any {
	type st struct {
		Sid      string   `json:"Sid,omitempty"`
		Effect   string   `json:"Effect"`
		Action   []string `json:"Action"`
		Resource []string `json:"Resource"`
	}
	doc := struct {
		Version   string `json:"Version,omitempty"`
		Statement []st   `json:"Statement"`
	}{Version: p.Version}
	for _, s := range p.Statements {
		doc.Statement = append(doc.Statement, st{s.Sid, s.Effect, s.Actions, s.Resources})
	}
	return doc
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

func (s *Store) mac(parts ...string) []byte {
	m := hmac.New(sha256.New, s.secret)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

// newTempAccessKey returns "IGT" + base32(expiry(5) | random(7) | mac(8)).
func (s *Store) newTempAccessKey(exp time.Time) (string, error) {
	var b [20]byte
	var e [8]byte
	binary.BigEndian.PutUint64(e[:], uint64(exp.Unix()))
	copy(b[:5], e[3:])
	if _, err := rand.Read(b[5:12]); err != nil {
		return "", fmt.Errorf("auth: random: %w", err)
	}
	copy(b[12:], s.mac("access-key", string(b[:12])))
	return tempPrefix + b32.EncodeToString(b[:]), nil
}

// checkTempAccessKey verifies a temporary access key's MAC and returns its expiry.
func (s *Store) checkTempAccessKey(ak string) (time.Time, error) {
	raw, err := b32.DecodeString(strings.TrimPrefix(ak, tempPrefix))
	if err != nil || len(raw) != 20 || !hmac.Equal(raw[12:], s.mac("access-key", string(raw[:12]))[:8]) {
		return time.Time{}, fmt.Errorf("auth: temporary access key: %w", sigv4.ErrUnknownAccessKey)
	}
	var e [8]byte
	copy(e[3:], raw[:5])
	return time.Unix(int64(binary.BigEndian.Uint64(e[:])), 0), nil
}

// tempSecret derives the secret of a temporary access key.
func (s *Store) tempSecret(ak string) string {
	return base64.RawURLEncoding.EncodeToString(s.mac("secret-key", ak))[:40]
}

func (s *Store) signToken(t *token) (string, error) {
	body, err := json.Marshal(t)
	if err != nil {
		return "", fmt.Errorf("auth: encode token: %w", err)
	}
	payload := base64.RawURLEncoding.EncodeToString(body)
	sig := base64.RawURLEncoding.EncodeToString(s.mac("session-token", tokenVersion, payload))
	return tokenVersion + "." + payload + "." + sig, nil
}

// maxTokenLen bounds a session token (policies are at most 2 KiB each).
const maxTokenLen = 16 << 10

// parseToken verifies a session token's MAC, that it belongs to accessKey
// and has not expired. Errors are sigv4 *Error values (InvalidToken, ExpiredToken).
func (s *Store) parseToken(tok, accessKey string) (*token, error) {
	if s.secret == nil || tok == "" || len(tok) > maxTokenLen {
		return nil, sigv4.ErrInvalidToken
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || parts[0] != tokenVersion {
		return nil, sigv4.ErrInvalidToken
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, s.mac("session-token", tokenVersion, parts[1])) {
		return nil, sigv4.ErrInvalidToken
	}
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, sigv4.ErrInvalidToken
	}
	var t token
	if err := json.Unmarshal(body, &t); err != nil {
		return nil, sigv4.ErrInvalidToken.Wrap(fmt.Errorf("auth: token: %w", err))
	}
	if subtle.ConstantTimeCompare([]byte(t.AccessKey), []byte(accessKey)) != 1 {
		return nil, sigv4.ErrInvalidToken
	}
	if !s.now().Before(time.Unix(t.Expires, 0)) {
		return nil, sigv4.ErrExpiredToken
	}
	return &t, nil
}
