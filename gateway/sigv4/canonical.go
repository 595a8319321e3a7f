package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Constants of the SigV4 specification.
const (
	Algorithm          = "AWS4-HMAC-SHA256"
	ChunkAlgorithm     = "AWS4-HMAC-SHA256-PAYLOAD"
	TrailerAlgorithm   = "AWS4-HMAC-SHA256-TRAILER"
	ScopeTerminator    = "aws4_request"
	AmzDateFormat      = "20060102T150405Z"
	ScopeDateFormat    = "20060102"
	UnsignedPayload    = "UNSIGNED-PAYLOAD"
	StreamingPayload   = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	StreamingTrailer   = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	StreamingUnsigned  = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	EmptySHA256        = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	MaxPresignedExpiry = 7 * 24 * time.Hour
)

// URIEncode encodes s the way SigV4 requires: every byte except the
// unreserved characters A-Z a-z 0-9 '-' '_' '.' '~' becomes %XX (upper-case
// hex); '/' is kept when keepSlash is set.
func URIEncode(s string, keepSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9',
			c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		case c == '/' && keepSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

// CanonicalURI is step 1 of the canonical request: the decoded request path,
// URI-encoded once (S3 does not double-encode and does not normalise "." or
// ".." segments). An empty path is "/".
func CanonicalURI(decodedPath string) string {
	if decodedPath == "" {
		return "/"
	}
	return URIEncode(decodedPath, true)
}

// CanonicalQuery is step 2: every parameter of rawQuery except those named in
// exclude (X-Amz-Signature for presigned requests), names and values decoded
// then URI-encoded, sorted by name then value, joined with '&'. A parameter
// without '=' has an empty value.
func CanonicalQuery(rawQuery string, exclude ...string) string {
	if rawQuery == "" {
		return ""
	}
	type pair struct{ k, v string }
	var pairs []pair
	for part := range strings.SplitSeq(rawQuery, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k = queryUnescape(k)
		if contains(exclude, k) {
			continue
		}
		pairs = append(pairs, pair{URIEncode(k, false), URIEncode(queryUnescape(v), false)})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

func queryUnescape(s string) string {
	u, err := url.QueryUnescape(s)
	if err != nil {
		return s // malformed escapes are signed as sent
	}
	return u
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// HeaderValues returns the values of a (lower-case) header name as the
// server received them, including the ones net/http moves out of r.Header
// (Host, Content-Length, Transfer-Encoding).
func HeaderValues(r *http.Request, name string) []string {
	switch name {
	case "host":
		if r.Host != "" {
			return []string{r.Host}
		}
		if r.URL != nil && r.URL.Host != "" {
			return []string{r.URL.Host}
		}
	case "content-length":
		if v := r.Header.Values("Content-Length"); len(v) > 0 {
			return v
		}
		if r.ContentLength >= 0 {
			return []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	case "transfer-encoding":
		if len(r.TransferEncoding) > 0 {
			return r.TransferEncoding
		}
	}
	return r.Header.Values(name)
}

// CanonicalHeaders is step 3: for each signed header (lower-case names, in
// the order given), "name:value\n" where the values are trimmed, inner runs
// of spaces collapsed to one, and multiple values joined with ','.
func CanonicalHeaders(r *http.Request, signed []string) string {
	var b strings.Builder
	for _, name := range signed {
		b.WriteString(name)
		b.WriteByte(':')
		for i, v := range HeaderValues(r, name) {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(trimAll(v))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// trimAll trims surrounding white space and collapses inner runs of spaces.
func trimAll(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// CanonicalRequest is step 4: method, canonical URI, canonical query,
// canonical headers, signed header list and payload hash, one per line.
func CanonicalRequest(method, canonicalURI, canonicalQuery, canonicalHeaders string, signedHeaders []string, payloadHash string) string {
	return method + "\n" + canonicalURI + "\n" + canonicalQuery + "\n" + canonicalHeaders + "\n" +
		strings.Join(signedHeaders, ";") + "\n" + payloadHash
}

// Scope is the credential scope: date/region/service/aws4_request.
func Scope(t time.Time, region, service string) string {
	return t.UTC().Format(ScopeDateFormat) + "/" + region + "/" + service + "/" + ScopeTerminator
}

// StringToSign is step 5: algorithm, request time, scope and the hex
// SHA-256 of the canonical request.
func StringToSign(t time.Time, scope, canonicalRequest string) string {
	return Algorithm + "\n" + t.UTC().Format(AmzDateFormat) + "\n" + scope + "\n" + hashHex([]byte(canonicalRequest))
}

// ChunkStringToSign is the string to sign of one aws-chunked chunk.
func ChunkStringToSign(t time.Time, scope, previousSignature, chunkSHA256Hex string) string {
	return ChunkAlgorithm + "\n" + t.UTC().Format(AmzDateFormat) + "\n" + scope + "\n" +
		previousSignature + "\n" + EmptySHA256 + "\n" + chunkSHA256Hex
}

// TrailerStringToSign is the string to sign of the trailing headers of a
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER body.
func TrailerStringToSign(t time.Time, scope, previousSignature, trailerSHA256Hex string) string {
	return TrailerAlgorithm + "\n" + t.UTC().Format(AmzDateFormat) + "\n" + scope + "\n" +
		previousSignature + "\n" + trailerSHA256Hex
}

// SigningKey is step 6: HMAC chain over date, region, service and
// "aws4_request", keyed first by "AWS4"+secret.
func SigningKey(secret string, t time.Time, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), []byte(t.UTC().Format(ScopeDateFormat)))
	k = hmacSHA256(k, []byte(region))
	k = hmacSHA256(k, []byte(service))
	return hmacSHA256(k, []byte(ScopeTerminator))
}

// Signature is step 7: hex HMAC-SHA256 of the string to sign.
func Signature(signingKey []byte, stringToSign string) string {
	return hex.EncodeToString(hmacSHA256(signingKey, []byte(stringToSign)))
}

// SignaturesEqual compares two hex signatures in constant time.
func SignaturesEqual(a, b string) bool {
	return hmac.Equal([]byte(a), []byte(b))
}

func hmacSHA256(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}

func hashHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
