package sigv4

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/imgate/imgate/internal/strictjson"
)

// PostPolicy is a decoded browser-upload policy document.
type PostPolicy struct {
	Expiration time.Time
	Conditions []Condition
}

// Condition is one policy condition.
type Condition struct {
	Op       string // "eq", "starts-with", "content-length-range"
	Field    string // lower-case, without '$' (empty for content-length-range)
	Value    string
	Min, Max int64 // content-length-range only
}

// String renders the condition the way S3 quotes it in error messages.
func (c Condition) String() string {
	if c.Op == "content-length-range" {
		return fmt.Sprintf("[\"content-length-range\", %d, %d]", c.Min, c.Max)
	}
	b, _ := json.Marshal([]string{c.Op, "$" + c.Field, c.Value})
	return string(b)
}

// Limits of a policy document.
const (
	MaxPolicySize       = 20 << 10
	maxPolicyConditions = 64
)

// ParsePostPolicy decodes the base64 "policy" form field: strict JSON with
// exactly "expiration" (ISO 8601) and "conditions" (objects {"field":"value"}
// or arrays ["eq"|"starts-with", "$field", "value"] and
// ["content-length-range", min, max]). Errors are InvalidPolicyDocument.
func ParsePostPolicy(policyB64 string) (*PostPolicy, error) {
	bad := func(format string, args ...any) error {
		return ErrInvalidPolicyDocument.Withf("Invalid Policy: "+format, args...)
	}
	if len(policyB64) > base64.StdEncoding.EncodedLen(MaxPolicySize) {
		return nil, bad("the policy document is too large.")
	}
	raw, err := base64.StdEncoding.DecodeString(policyB64)
	if err != nil {
		return nil, bad("the policy is not valid base64.")
	}
	var doc struct {
		Expiration *string           `json:"expiration"`
		Conditions []json.RawMessage `json:"conditions"`
	}
	if err := strictjson.Unmarshal(raw, &doc); err != nil {
		return nil, bad("%s", err.Error())
	}
	if doc.Expiration == nil {
		return nil, bad("Policy missing expiration.")
	}
	exp, err := time.Parse(time.RFC3339Nano, *doc.Expiration)
	if err != nil {
		return nil, bad("Invalid 'expiration' value: %q.", printable(*doc.Expiration))
	}
	if doc.Conditions == nil {
		return nil, bad("Policy missing conditions.")
	}
	if len(doc.Conditions) > maxPolicyConditions {
		return nil, bad("too many conditions.")
	}
	p := &PostPolicy{Expiration: exp.UTC()}
	for _, rc := range doc.Conditions {
		c, err := parseCondition(rc)
		if err != nil {
			return nil, bad("%s", err.Error())
		}
		p.Conditions = append(p.Conditions, c)
	}
	return p, nil
}

// parseCondition decodes one element of "conditions".
func parseCondition(rc json.RawMessage) (Condition, error) {
	rc = bytes.TrimSpace(rc)
	if len(rc) == 0 {
		return Condition{}, errors.New("empty condition")
	}
	switch rc[0] {
	case '{':
		var m map[string]json.RawMessage
		if err := json.Unmarshal(rc, &m); err != nil {
			return Condition{}, fmt.Errorf("malformed condition: %w", err)
		}
		if len(m) != 1 {
			return Condition{}, errors.New("a condition object must have exactly one field")
		}
		for k, v := range m {
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return Condition{}, fmt.Errorf("the condition on %q must be a string", printable(k))
			}
			k = strings.TrimPrefix(k, "$")
			if k == "" {
				return Condition{}, errors.New("a condition has an empty field name")
			}
			return Condition{Op: "eq", Field: strings.ToLower(k), Value: s}, nil
		}
	case '[':
		var a []json.RawMessage
		if err := json.Unmarshal(rc, &a); err != nil {
			return Condition{}, fmt.Errorf("malformed condition: %w", err)
		}
		if len(a) != 3 {
			return Condition{}, errors.New("a condition array must have three elements")
		}
		var op string
		if err := json.Unmarshal(a[0], &op); err != nil {
			return Condition{}, errors.New("a condition's operator must be a string")
		}
		op = strings.ToLower(op)
		switch op {
		case "eq", "starts-with":
			var field, value string
			if json.Unmarshal(a[1], &field) != nil || json.Unmarshal(a[2], &value) != nil {
				return Condition{}, fmt.Errorf("the %s condition needs a field name and a string", op)
			}
			if !strings.HasPrefix(field, "$") || len(field) < 2 {
				return Condition{}, fmt.Errorf("the field %q of a %s condition must start with '$'", printable(field), op)
			}
			return Condition{Op: op, Field: strings.ToLower(field[1:]), Value: value}, nil
		case "content-length-range":
			lo, err1 := policyInt(a[1])
			hi, err2 := policyInt(a[2])
			if err1 != nil || err2 != nil {
				return Condition{}, errors.New("content-length-range needs two non-negative integers")
			}
			if lo > hi {
				return Condition{}, errors.New("content-length-range minimum is above its maximum")
			}
			return Condition{Op: op, Min: lo, Max: hi}, nil
		default:
			return Condition{}, fmt.Errorf("unknown condition operator %q", printable(op))
		}
	}
	return Condition{}, errors.New("a condition must be an object or an array")
}

// policyInt accepts a JSON integer or a string holding one.
func policyInt(b json.RawMessage) (int64, error) {
	var s string
	if json.Unmarshal(b, &s) != nil {
		s = string(b)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n == math.MaxInt64 {
		return 0, errors.New("not a non-negative integer")
	}
	return n, nil
}

// LengthRange returns the content-length-range (ok=false if none). With
// several, the intersection.
func (p *PostPolicy) LengthRange() (min, max int64, ok bool) {
	min, max = 0, math.MaxInt64
	for _, c := range p.Conditions {
		if c.Op != "content-length-range" {
			continue
		}
		ok = true
		if c.Min > min {
			min = c.Min
		}
		if c.Max < max {
			max = c.Max
		}
	}
	if !ok {
		return 0, 0, false
	}
	return min, max, true
}

// CheckLength checks an upload size against the content-length-range:
// EntityTooSmall or EntityTooLarge.
func (p *PostPolicy) CheckLength(size int64) error {
	lo, hi, ok := p.LengthRange()
	switch {
	case !ok:
		return nil
	case size < lo:
		return ErrEntityTooSmall
	case size > hi:
		return ErrEntityTooLarge
	}
	return nil
}

// postExempt reports whether a form field needs no condition.
func postExempt(name string) bool {
	switch name {
	case "policy", "file", "x-amz-signature", "x-amz-algorithm", "x-amz-credential",
		"x-amz-date", "x-amz-security-token", "bucket":
		return true
	}
	return strings.HasPrefix(name, "x-ignore-")
}

// CheckFields verifies every condition except content-length-range against
// fields (lower-case names; the caller adds "bucket" and passes "key" after
// ${filename} substitution), and that every field except the signature
// ones, "policy", "file", "bucket" and x-ignore-* is covered by a condition.
// Errors are AccessDenied "Invalid according to Policy: ...".
func (p *PostPolicy) CheckFields(fields map[string]string) error {
	covered := make(map[string]bool)
	for _, c := range p.Conditions {
		if c.Op == "content-length-range" {
			continue
		}
		covered[c.Field] = true
		got := fields[c.Field]
		ok := false
		switch c.Op {
		case "eq":
			ok = got == c.Value
		case "starts-with":
			ok = strings.HasPrefix(got, c.Value)
			if !ok && c.Field == "content-type" {
				// S3 applies starts-with to each comma-separated value.
				ok = got != ""
				for v := range strings.SplitSeq(got, ",") {
					if !strings.HasPrefix(strings.TrimSpace(v), c.Value) {
						ok = false
					}
				}
			}
		}
		if !ok {
			return ErrPolicyConditionFailed.With("Invalid according to Policy: Policy Condition failed: " + c.String())
		}
	}
	for name := range fields {
		if !covered[name] && !postExempt(name) {
			return ErrPolicyConditionFailed.Withf("Invalid according to Policy: Extra input fields: %s", printable(name))
		}
	}
	return nil
}

// VerifyPost checks the signature fields of a browser POST form
// (x-amz-algorithm, x-amz-credential, x-amz-date, x-amz-signature, policy,
// x-amz-security-token) and the policy's expiration, and returns the
// verified auth and policy. fields: form field names lower-cased, values as
// sent, the "file" part excluded. The caller then runs CheckFields and,
// while streaming the file, CheckLength.
func (v *Verifier) VerifyPost(ctx context.Context, fields map[string]string) (*Auth, *PostPolicy, error) {
	if v.Lookup == nil {
		return nil, nil, ErrInternal.Wrap(errors.New("sigv4: Verifier.Lookup is nil"))
	}
	if fields["x-amz-algorithm"] == "" && fields["awsaccesskeyid"] != "" {
		return nil, nil, ErrSigV2Unsupported
	}
	if fields["policy"] == "" && fields["x-amz-signature"] == "" && fields["x-amz-credential"] == "" {
		return nil, nil, ErrAnonymous
	}
	now := v.now()
	p, date, err := v.postScope(fields, now)
	if err != nil {
		return nil, nil, err
	}
	sig := fields["x-amz-signature"]
	if !isHexSignature(sig) {
		return nil, nil, ErrSignatureDoesNotMatch
	}
	policy, err := ParsePostPolicy(fields["policy"])
	if err != nil {
		return nil, nil, err
	}
	if now.After(policy.Expiration) {
		return nil, nil, ErrPolicyExpired
	}
	cred, err := v.Lookup(ctx, p.AccessKey)
	if err != nil {
		if errors.Is(err, ErrUnknownAccessKey) {
			return nil, nil, ErrInvalidAccessKeyID.Wrap(err)
		}
		return nil, nil, AsError(fmt.Errorf("sigv4: lookup: %w", err))
	}
	key := v.signingKey(cred.SecretKey, p.ScopeDate, p.Region, p.Service)
	if !SignaturesEqual(Signature(key, fields["policy"]), sig) {
		return nil, nil, ErrSignatureDoesNotMatch
	}
	token := fields["x-amz-security-token"]
	if err := checkToken(cred, token); err != nil {
		return nil, nil, err
	}
	a := &Auth{
		AccessKey:     p.AccessKey,
		Region:        p.Region,
		Service:       p.Service,
		Credential:    cred,
		Date:          date,
		Post:          true,
		Expires:       policy.Expiration,
		Signature:     sig,
		Payload:       Unsigned,
		DecodedLength: -1,
		SessionToken:  token,
		signingKey:    key,
		scope:         p.Scope(),
	}
	return a, policy, nil
}

// postScope checks a POST form's required signature fields, its date
// against the clock and its credential scope.
func (v *Verifier) postScope(fields map[string]string, now time.Time) (p ParsedAuthorization, date time.Time, err error) {
	for _, f := range []string{"x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature", "policy"} {
		if fields[f] == "" {
			return p, date, ErrInvalidArgument.Withf("Bucket POST must contain a field named '%s'.", f)
		}
	}
	if fields["x-amz-algorithm"] != Algorithm {
		return p, date, ErrSigV2Unsupported
	}
	date, err = time.Parse(AmzDateFormat, fields["x-amz-date"])
	if err != nil {
		return p, date, ErrInvalidArgument.With("x-amz-date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\".")
	}
	if date.After(now.Add(v.maxSkew())) {
		return p, date, ErrRequestTimeTooSkewed
	}
	if err := parseCredential(&p, fields["x-amz-credential"]); err != nil {
		return p, date, ErrInvalidArgument.Withf("Error parsing the X-Amz-Credential parameter; %s", err.Error())
	}
	if !sameDay(p.ScopeDate, date) {
		return p, date, ErrInvalidArgument.With("Invalid credential date. Date is not the same as X-Amz-Date.")
	}
	if p.Region != v.Region {
		return p, date, ErrInvalidArgument.Withf("the region '%s' is wrong; expecting '%s'", printable(p.Region), v.Region)
	}
	if p.Service != "s3" {
		return p, date, ErrInvalidArgument.Withf("the service '%s' is wrong; expecting 's3'", printable(p.Service))
	}
	return p, date, nil
}
