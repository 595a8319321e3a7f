package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Credential is what a SecretLookup returns for an access key.
type Credential struct {
	AccessKey string
	SecretKey string
	// SessionToken, when set, is the exact token a request signed with this
	// key must present (X-Amz-Security-Token header or query). "" for static keys.
	SessionToken string
	// ValidateToken, when set, marks a temporary credential whose token is
	// checked by a function instead of by equality (stateless tokens): the
	// request must present a token and ValidateToken(token) must return nil.
	// Return an *Error (ErrInvalidToken, ErrExpiredToken) to choose the answer.
	ValidateToken func(token string) error
}

// SecretLookup finds the secret of an access key. It returns an error
// wrapping ErrUnknownAccessKey when the key is unknown; an *Error is passed
// to the client as is; any other error becomes InternalError.
type SecretLookup func(ctx context.Context, accessKey string) (Credential, error)

// PayloadMode is how the request body is protected.
type PayloadMode int

// Payload modes, from the x-amz-content-sha256 value.
const (
	Unsigned                 PayloadMode = iota // UNSIGNED-PAYLOAD (or presigned without a hash)
	SignedSHA256                                // hex SHA-256 of the body
	StreamingSigned                             // STREAMING-AWS4-HMAC-SHA256-PAYLOAD
	StreamingSignedTrailer                      // STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
	StreamingUnsignedTrailer                    // STREAMING-UNSIGNED-PAYLOAD-TRAILER
)

// String returns the x-amz-content-sha256 spelling of m.
func (m PayloadMode) String() string {
	switch m {
	case Unsigned:
		return UnsignedPayload
	case SignedSHA256:
		return "SHA256"
	case StreamingSigned:
		return StreamingPayload
	case StreamingSignedTrailer:
		return StreamingTrailer
	case StreamingUnsignedTrailer:
		return StreamingUnsigned
	}
	return "PayloadMode(" + strconv.Itoa(int(m)) + ")"
}

// Streaming reports whether the body is aws-chunked.
func (m PayloadMode) Streaming() bool { return m >= StreamingSigned }

// Auth is a verified request.
type Auth struct {
	AccessKey, Region, Service string
	Credential                 Credential
	Date                       time.Time
	Presigned                  bool
	Post                       bool      // a browser POST form (VerifyPost)
	Expires                    time.Time // presigned only
	SignedHeaders              []string
	Signature                  string
	Payload                    PayloadMode
	PayloadHash                string // hex, when SignedSHA256
	DecodedLength              int64  // x-amz-decoded-content-length for streaming, else -1
	SessionToken               string // the token the request presented (verified), "" if none

	signingKey []byte
	scope      string
}

// Verifier checks SigV4 signatures. Its zero value is not usable: set Region
// and Lookup. It is safe for concurrent use; do not copy it after first use.
type Verifier struct {
	Region  string           // e.g. "us-east-1"
	Lookup  SecretLookup     // finds the secret of an access key
	Now     func() time.Time // nil = time.Now
	MaxSkew time.Duration    // 0 = 15 min

	mu   sync.Mutex
	keys map[keyCacheID][]byte
}

type keyCacheID struct{ secret, day, region, service string }

const maxCachedKeys = 4096

// maxSTSBody bounds the form body Verify reads to hash an STS request.
const maxSTSBody = 64 << 10

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now().UTC()
	}
	return time.Now().UTC()
}

func (v *Verifier) maxSkew() time.Duration {
	if v.MaxSkew > 0 {
		return v.MaxSkew
	}
	return 15 * time.Minute
}

// signingKey derives the signing key, cached per secret, day, region and service.
func (v *Verifier) signingKey(secret string, t time.Time, region, service string) []byte {
	id := keyCacheID{secret, t.UTC().Format(ScopeDateFormat), region, service}
	v.mu.Lock()
	k, ok := v.keys[id]
	v.mu.Unlock()
	if ok {
		return k
	}
	k = SigningKey(secret, t, region, service)
	v.mu.Lock()
	if v.keys == nil || len(v.keys) >= maxCachedKeys {
		v.keys = make(map[keyCacheID][]byte)
	}
	v.keys[id] = k
	v.mu.Unlock()
	return k
}

// Verify checks the Authorization header (AWS4-HMAC-SHA256) or the presigned
// query (X-Amz-Algorithm=AWS4-HMAC-SHA256) of r. service is "s3" or "sts"
// and must match the credential scope. Clock skew (and presigned expiry) is
// checked before anything else; signatures are compared in constant time.
//
// Verify does not read the body, with one exception: an "sts" request
// without x-amz-content-sha256 (SDKs do not send it for STS) is signed over
// the SHA-256 of its form body, so Verify reads up to 64 KiB of it, once
// the access key is known, and replaces r.Body with a reader over the same
// bytes.
//
// Errors are *Error: anonymous requests get AccessDenied, SigV2 requests
// InvalidRequest saying only AWS4-HMAC-SHA256 is supported.
func (v *Verifier) Verify(ctx context.Context, r *http.Request, service string) (*Auth, error) {
	if v.Lookup == nil {
		return nil, ErrInternal.Wrap(errors.New("sigv4: Verifier.Lookup is nil"))
	}
	header := r.Header.Get("Authorization")
	q := r.URL.Query()
	presigned := q.Has("X-Amz-Algorithm") || q.Has("X-Amz-Credential") || q.Has("X-Amz-Signature")
	switch {
	case header != "" && presigned:
		return nil, ErrInvalidArgument.With("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.")
	case header == "" && !presigned:
		if q.Has("AWSAccessKeyId") && q.Has("Signature") {
			return nil, ErrSigV2Unsupported
		}
		return nil, ErrAnonymous
	}
	a := &Auth{Presigned: presigned, DecodedLength: -1}
	p, date, token, err := v.parseAuth(r, a)
	if err != nil {
		return nil, err
	}
	if err := v.checkScope(r, p, date, presigned, service); err != nil {
		return nil, err
	}

	// The key first: an unknown one is refused before any body is read.
	cred, err := v.Lookup(ctx, p.AccessKey)
	if err != nil {
		if errors.Is(err, ErrUnknownAccessKey) {
			return nil, ErrInvalidAccessKeyID.Wrap(err)
		}
		return nil, AsError(fmt.Errorf("sigv4: lookup: %w", err))
	}
	payloadHash, err := v.payload(r, a, p, service)
	if err != nil {
		return nil, err
	}

	key := v.signingKey(cred.SecretKey, p.ScopeDate, p.Region, p.Service)
	scope := p.Scope()
	var query string
	if presigned {
		query = CanonicalQuery(r.URL.RawQuery, "X-Amz-Signature")
	} else {
		query = CanonicalQuery(r.URL.RawQuery)
	}
	creq := CanonicalRequest(r.Method, CanonicalURI(r.URL.Path), query, CanonicalHeaders(r, p.SignedHeaders), p.SignedHeaders, payloadHash)
	want := Signature(key, StringToSign(date, scope, creq))
	if !SignaturesEqual(want, p.Signature) {
		return nil, ErrSignatureDoesNotMatch
	}
	if err := checkToken(cred, token); err != nil {
		return nil, err
	}

	a.AccessKey, a.Region, a.Service = p.AccessKey, p.Region, p.Service
	a.Credential = cred
	a.Date = date
	a.SignedHeaders = p.SignedHeaders
	a.Signature = p.Signature
	a.SessionToken = token
	a.signingKey = key
	a.scope = scope
	return a, nil
}

// parseAuth reads the signature from the query (presigned URL) or the
// Authorization header and checks the request time against the clock
// (and a presigned URL's expiry, which it records in a).
func (v *Verifier) parseAuth(r *http.Request, a *Auth) (p *ParsedAuthorization, date time.Time, token string, err error) {
	now, skew := v.now(), v.maxSkew()
	if a.Presigned {
		if p, err = ParsePresigned(r.URL.Query()); err != nil {
			return nil, date, "", err
		}
		date = p.Date
		// Skew and expiry first: a URL from the future is refused, a URL past
		// its X-Amz-Expires is refused.
		if date.After(now.Add(skew)) {
			return nil, date, "", ErrRequestTimeTooSkewed
		}
		a.Expires = date.Add(p.Expires)
		if now.After(a.Expires) {
			return nil, date, "", ErrExpiredRequest
		}
		token = p.SessionToken
		if token == "" {
			token = r.Header.Get("X-Amz-Security-Token")
		}
		return p, date, token, nil
	}
	if p, err = ParseAuthorization(r.Header.Get("Authorization")); err != nil {
		return nil, date, "", err
	}
	if date, err = requestDate(r); err != nil {
		return nil, date, "", err
	}
	if d := now.Sub(date); d > skew || d < -skew {
		return nil, date, "", ErrRequestTimeTooSkewed
	}
	return p, date, r.Header.Get("X-Amz-Security-Token"), nil
}

// checkScope checks the credential scope (day, region, service) and that
// the host and every x-amz-* header are signed.
func (v *Verifier) checkScope(r *http.Request, p *ParsedAuthorization, date time.Time, presigned bool, service string) error {
	malformed := ErrAuthorizationHeaderMalformed
	if presigned {
		malformed = ErrAuthorizationQueryParametersError
	}
	if !sameDay(p.ScopeDate, date) {
		return malformed.With("Invalid credential date. Date is not the same as X-Amz-Date.")
	}
	if p.Region != v.Region {
		return malformed.Withf("The authorization header is malformed; the region '%s' is wrong; expecting '%s'", printable(p.Region), v.Region)
	}
	if p.Service != service {
		return malformed.Withf("The authorization header is malformed; the service '%s' is wrong; expecting '%s'", printable(p.Service), service)
	}
	if !contains(p.SignedHeaders, "host") {
		return malformed.With("The host header must be signed.")
	}
	if name := unsignedAmzHeader(r, p.SignedHeaders, presigned); name != "" {
		return ErrAccessDenied.Withf("There were headers present in the request which were not signed: %s", printable(name))
	}
	return nil
}

// unsignedAmzHeader returns the first x-amz-* request header that is not
// signed (AWS refuses those: they would let a replayed request change
// metadata or checksums). A presigned URL may carry x-amz-content-sha256
// unsigned, as it does not change what was signed.
func unsignedAmzHeader(r *http.Request, signed []string, presigned bool) string {
	for k := range r.Header {
		name := strings.ToLower(k)
		if !strings.HasPrefix(name, "x-amz-") || contains(signed, name) {
			continue
		}
		if presigned && name == "x-amz-content-sha256" {
			continue
		}
		return name
	}
	return ""
}

// checkToken applies the session-token rule of a credential.
func checkToken(cred Credential, token string) error {
	switch {
	case cred.ValidateToken != nil:
		if token == "" {
			return ErrMissingSecurityHeader.With("Temporary credentials require the X-Amz-Security-Token header or parameter.")
		}
		if err := cred.ValidateToken(token); err != nil {
			var e *Error
			if errors.As(err, &e) {
				return e
			}
			return ErrInvalidToken.Wrap(err)
		}
	case cred.SessionToken != "":
		if token == "" {
			return ErrMissingSecurityHeader.With("Temporary credentials require the X-Amz-Security-Token header or parameter.")
		}
		if !SignaturesEqual(token, cred.SessionToken) {
			return ErrInvalidToken
		}
	case token != "":
		return ErrInvalidToken.With("A security token was sent with a credential that does not use one.")
	}
	return nil
}

// payload determines the payload mode and the hash that goes into the
// canonical request.
func (v *Verifier) payload(r *http.Request, a *Auth, p *ParsedAuthorization, service string) (string, error) {
	var h string
	if a.Presigned {
		h = p.ContentSHA
		if h == "" {
			h = r.Header.Get("X-Amz-Content-Sha256")
		}
		if h == "" {
			h = UnsignedPayload
		}
	} else {
		h = r.Header.Get("X-Amz-Content-Sha256")
		if h == "" {
			if service != "sts" {
				return "", ErrMissingSecurityHeader.With("Missing required header for this request: x-amz-content-sha256")
			}
			sum, err := hashBody(r)
			if err != nil {
				return "", err
			}
			a.Payload = SignedSHA256
			a.PayloadHash = sum
			return sum, nil
		}
	}
	switch h {
	case UnsignedPayload:
		a.Payload = Unsigned
	case StreamingPayload:
		a.Payload = StreamingSigned
	case StreamingTrailer:
		a.Payload = StreamingSignedTrailer
	case StreamingUnsigned:
		a.Payload = StreamingUnsignedTrailer
	default:
		if len(h) != 64 || !isLowerHex(strings.ToLower(h)) {
			return "", ErrInvalidArgument.With("x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-UNSIGNED-PAYLOAD-TRAILER or a valid sha256 value.")
		}
		a.Payload = SignedSHA256
		a.PayloadHash = strings.ToLower(h)
	}
	if a.Payload.Streaming() {
		if a.Presigned {
			return "", ErrInvalidRequest.With("Streaming payloads are not allowed with presigned URLs.")
		}
		dl := r.Header.Get("X-Amz-Decoded-Content-Length")
		switch {
		case dl != "":
			n, err := strconv.ParseInt(dl, 10, 64)
			if err != nil || n < 0 || dl[0] == '+' {
				return "", ErrInvalidArgument.With("x-amz-decoded-content-length must be a non-negative integer.")
			}
			a.DecodedLength = n
		case a.Payload != StreamingUnsignedTrailer:
			return "", ErrMissingContentLength.With("You must provide the x-amz-decoded-content-length header with a streaming payload.")
		}
	}
	return h, nil
}

// hashBody reads a small form body, hashes it and puts it back.
func hashBody(r *http.Request) (string, error) {
	if r.Body == nil {
		return EmptySHA256, nil
	}
	if r.ContentLength > maxSTSBody {
		return "", ErrInvalidRequest.With("The request body is too large.")
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxSTSBody+1))
	if err != nil {
		return "", ErrIncompleteBody.Wrap(fmt.Errorf("sigv4: read sts body: %w", err))
	}
	if len(b) > maxSTSBody {
		return "", ErrInvalidRequest.With("The request body is too large.")
	}
	_ = r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(b))
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:]), nil
}

// requestDate returns X-Amz-Date, or the Date header when it is absent.
func requestDate(r *http.Request) (time.Time, error) {
	if v := r.Header.Get("X-Amz-Date"); v != "" {
		t, err := time.Parse(AmzDateFormat, v)
		if err != nil {
			return time.Time{}, ErrAccessDenied.With("AWS authentication requires a valid Date or x-amz-date header")
		}
		return t, nil
	}
	if v := r.Header.Get("Date"); v != "" {
		t, err := http.ParseTime(v)
		if err != nil {
			return time.Time{}, ErrAccessDenied.With("AWS authentication requires a valid Date or x-amz-date header")
		}
		return t.UTC(), nil
	}
	return time.Time{}, ErrAccessDenied.With("AWS authentication requires a valid Date or x-amz-date header")
}

func sameDay(a, b time.Time) bool {
	a, b = a.UTC(), b.UTC()
	return a.Year() == b.Year() && a.YearDay() == b.YearDay()
}
