package sigv4

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ParsedAuthorization is the content of an Authorization header or of the
// X-Amz-* parameters of a presigned URL, syntactically checked but not verified.
type ParsedAuthorization struct {
	Algorithm     string
	AccessKey     string
	ScopeDate     time.Time // the date of the credential scope (midnight UTC)
	Region        string
	Service       string
	SignedHeaders []string // lower-case, as listed by the client
	Signature     string   // 64 lower-case hex digits

	// Presigned only.
	Date         time.Time     // X-Amz-Date
	Expires      time.Duration // X-Amz-Expires
	SessionToken string        // X-Amz-Security-Token
	ContentSHA   string        // X-Amz-Content-Sha256, if present in the query
}

// Scope returns the credential scope string.
func (p *ParsedAuthorization) Scope() string {
	return Scope(p.ScopeDate, p.Region, p.Service)
}

const maxAuthLen = 16 << 10

// ParseAuthorization parses an "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..."
// header. Errors are *Error with code AuthorizationHeaderMalformed, or
// InvalidRequest for other algorithms (SigV2 "AWS ak:sig", SigV4a).
func ParseAuthorization(header string) (*ParsedAuthorization, error) {
	bad := func(format string, args ...any) error {
		return ErrAuthorizationHeaderMalformed.Withf("The authorization header is malformed; "+format, args...)
	}
	if len(header) > maxAuthLen {
		return nil, bad("it is too long.")
	}
	alg, rest, _ := strings.Cut(strings.TrimSpace(header), " ")
	switch alg {
	case Algorithm:
	case "AWS":
		return nil, ErrSigV2Unsupported
	default:
		return nil, ErrSigV2Unsupported.Withf("The authorization mechanism %q is not supported. Please use AWS4-HMAC-SHA256.", printable(alg))
	}
	p := &ParsedAuthorization{Algorithm: alg}
	var seenCred, seenHeaders, seenSig bool
	for field := range strings.SplitSeq(rest, ",") {
		field = strings.TrimSpace(field)
		if field == "" {
			continue
		}
		k, v, ok := strings.Cut(field, "=")
		if !ok {
			return nil, bad("the field %q has no value.", printable(k))
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "Credential":
			if seenCred {
				return nil, bad("Credential appears twice.")
			}
			seenCred = true
			if err := parseCredential(p, v); err != nil {
				return nil, bad("%s", err.Error())
			}
		case "SignedHeaders":
			if seenHeaders {
				return nil, bad("SignedHeaders appears twice.")
			}
			seenHeaders = true
			h, err := parseSignedHeaders(v)
			if err != nil {
				return nil, bad("%s", err.Error())
			}
			p.SignedHeaders = h
		case "Signature":
			if seenSig {
				return nil, bad("Signature appears twice.")
			}
			seenSig = true
			if !isHexSignature(v) {
				return nil, bad("the Signature is not 64 lower-case hex digits.")
			}
			p.Signature = v
		default:
			return nil, bad("unknown field %q.", printable(k))
		}
	}
	switch {
	case !seenCred:
		return nil, bad("missing Credential.")
	case !seenHeaders:
		return nil, bad("missing SignedHeaders.")
	case !seenSig:
		return nil, bad("missing Signature.")
	}
	return p, nil
}

// ParsePresigned parses the X-Amz-* parameters of a presigned URL. Errors are
// *Error with code AuthorizationQueryParametersError, or InvalidRequest for
// SigV2 presigned URLs and other algorithms.
func ParsePresigned(q url.Values) (*ParsedAuthorization, error) {
	bad := ErrAuthorizationQueryParametersError.Withf
	one := func(name string) (string, error) { return presignedParam(q, name) }
	if _, ok := q["X-Amz-Algorithm"]; !ok {
		if q.Has("AWSAccessKeyId") || q.Has("Signature") {
			return nil, ErrSigV2Unsupported
		}
	}
	alg, err := one("X-Amz-Algorithm")
	if err != nil {
		return nil, err
	}
	if alg != Algorithm {
		return nil, bad("X-Amz-Algorithm only supports %q.", Algorithm)
	}
	p := &ParsedAuthorization{Algorithm: alg}
	cred, err := one("X-Amz-Credential")
	if err != nil {
		return nil, err
	}
	if err := parseCredential(p, cred); err != nil {
		return nil, bad("Error parsing the X-Amz-Credential parameter; %s", err.Error())
	}
	date, err := one("X-Amz-Date")
	if err != nil {
		return nil, err
	}
	if p.Date, err = time.Parse(AmzDateFormat, date); err != nil {
		return nil, bad("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\".")
	}
	exp, err := one("X-Amz-Expires")
	if err != nil {
		return nil, err
	}
	if p.Expires, err = presignedExpiry(exp); err != nil {
		return nil, err
	}
	sh, err := one("X-Amz-SignedHeaders")
	if err != nil {
		return nil, err
	}
	if p.SignedHeaders, err = parseSignedHeaders(sh); err != nil {
		return nil, bad("X-Amz-SignedHeaders: %s", err.Error())
	}
	sig, err := one("X-Amz-Signature")
	if err != nil {
		return nil, err
	}
	if !isHexSignature(sig) {
		return nil, bad("X-Amz-Signature is not 64 lower-case hex digits.")
	}
	p.Signature = sig
	if v, ok := q["X-Amz-Security-Token"]; ok {
		if len(v) != 1 || len(v[0]) > maxAuthLen {
			return nil, bad("X-Amz-Security-Token must appear once.")
		}
		p.SessionToken = v[0]
	}
	if v, ok := q["X-Amz-Content-Sha256"]; ok {
		if len(v) != 1 {
			return nil, bad("X-Amz-Content-Sha256 must appear once.")
		}
		p.ContentSHA = v[0]
	}
	return p, nil
}

// presignedParam returns the one value of a presigned URL's parameter.
func presignedParam(q url.Values, name string) (string, error) {
	v := q[name]
	switch len(v) {
	case 0:
		return "", ErrAuthorizationQueryParametersError.With("Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
	case 1:
		if len(v[0]) > maxAuthLen {
			return "", ErrAuthorizationQueryParametersError.Withf("%s is too long.", name)
		}
		return v[0], nil
	default:
		return "", ErrAuthorizationQueryParametersError.Withf("%s appears more than once.", name)
	}
}

// presignedExpiry parses X-Amz-Expires: decimal seconds, at most a week.
func presignedExpiry(exp string) (time.Duration, error) {
	bad := ErrAuthorizationQueryParametersError.With
	secs, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || len(exp) > 8 || exp[0] == '+' || exp[0] == '-' {
		return 0, bad("X-Amz-Expires should be a number.")
	}
	if secs < 0 {
		return 0, bad("X-Amz-Expires must be non-negative.")
	}
	if time.Duration(secs)*time.Second > MaxPresignedExpiry {
		return 0, bad("X-Amz-Expires must be less than a week (in seconds) that is 604800.")
	}
	return time.Duration(secs) * time.Second, nil
}

// parseCredential parses "AK/yyyymmdd/region/service/aws4_request" into p.
// The access key is everything before the last four '/'-separated parts.
func parseCredential(p *ParsedAuthorization, v string) error {
	parts := strings.Split(v, "/")
	if len(parts) < 5 {
		return fmt.Errorf("the Credential %q must be access-key/date/region/service/aws4_request", printable(v))
	}
	n := len(parts)
	ak := strings.Join(parts[:n-4], "/")
	date, region, service, term := parts[n-4], parts[n-3], parts[n-2], parts[n-1]
	if ak == "" {
		return fmt.Errorf("the Credential has an empty access key")
	}
	t, err := time.Parse(ScopeDateFormat, date)
	if err != nil || len(date) != 8 {
		return fmt.Errorf("the Credential date %q is not yyyyMMdd", printable(date))
	}
	if region == "" || service == "" {
		return fmt.Errorf("the Credential has an empty region or service")
	}
	if term != ScopeTerminator {
		return fmt.Errorf("the Credential must end with %q", ScopeTerminator)
	}
	p.AccessKey, p.ScopeDate, p.Region, p.Service = ak, t, region, service
	return nil
}

// parseSignedHeaders splits "host;x-amz-date" into names, checking that each
// is a non-empty lower-case token and appears once.
func parseSignedHeaders(v string) ([]string, error) {
	if v == "" {
		return nil, fmt.Errorf("the signed header list is empty")
	}
	names := strings.Split(v, ";")
	if len(names) > 128 {
		return nil, fmt.Errorf("too many signed headers")
	}
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if n == "" || !isLowerToken(n) {
			return nil, fmt.Errorf("the signed header %q is not a lower-case header name", printable(n))
		}
		if seen[n] {
			return nil, fmt.Errorf("the signed header %q appears twice", n)
		}
		seen[n] = true
	}
	return names, nil
}

func isLowerToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}

func isHexSignature(s string) bool {
	if len(s) != 64 {
		return false
	}
	return isLowerHex(s)
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// printable shortens s and replaces non-printable bytes so it can be quoted
// in a public error message.
func printable(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return '?'
		}
		return r
	}, s)
}
