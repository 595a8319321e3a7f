package uploads

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/imgate/imgate/gateway/sigv4"
)

// Signer presigns requests against imgate's own S3 endpoint with a key pair
// (usually temporary credentials minted for exactly the upload).
type Signer struct {
	BaseURL      string // e.g. http://127.0.0.1:8080 (no trailing slash)
	Region       string
	AccessKey    string
	SecretKey    string
	SessionToken string
}

// PresignPut returns a presigned URL for PUT /bucket/key valid for expiry
// from now, and the headers the client must send with it. With a non-empty
// contentType the Content-Type header is signed, so the URL works only with
// that header.
func (s Signer) PresignPut(bucket, key, contentType string, now time.Time, expiry time.Duration) (string, http.Header, error) {
	base, err := url.Parse(s.BaseURL)
	if err != nil || base.Host == "" {
		return "", nil, fmt.Errorf("uploads: invalid public URL %q", s.BaseURL)
	}
	if expiry <= 0 || expiry > sigv4.MaxPresignedExpiry {
		return "", nil, fmt.Errorf("uploads: expiry %s outside (0, 7 days]", expiry)
	}
	now = now.UTC()
	scope := sigv4.Scope(now, s.Region, "s3")
	path := strings.TrimSuffix(base.Path, "/") + "/" + bucket + "/" + key
	signed := []string{"host"}
	hdr := http.Header{}
	if contentType != "" {
		signed = append(signed, "content-type")
		hdr.Set("Content-Type", contentType)
	}
	sort.Strings(signed)
	q := url.Values{}
	q.Set("X-Amz-Algorithm", sigv4.Algorithm)
	q.Set("X-Amz-Credential", s.AccessKey+"/"+scope)
	q.Set("X-Amz-Date", now.Format(sigv4.AmzDateFormat))
	q.Set("X-Amz-Expires", strconv.Itoa(int(expiry/time.Second)))
	q.Set("X-Amz-SignedHeaders", strings.Join(signed, ";"))
	if s.SessionToken != "" {
		q.Set("X-Amz-Security-Token", s.SessionToken)
	}
	rawQuery := encodeQuery(q)
	var canonHeaders strings.Builder
	for _, h := range signed {
		switch h {
		case "content-type":
			canonHeaders.WriteString("content-type:" + contentType + "\n")
		case "host":
			canonHeaders.WriteString("host:" + base.Host + "\n")
		}
	}
	creq := sigv4.CanonicalRequest(http.MethodPut, sigv4.CanonicalURI(path), sigv4.CanonicalQuery(rawQuery),
		canonHeaders.String(), signed, sigv4.UnsignedPayload)
	sig := sigv4.Signature(sigv4.SigningKey(s.SecretKey, now, s.Region, "s3"), sigv4.StringToSign(now, scope, creq))
	u := base.Scheme + "://" + base.Host + sigv4.URIEncode(path, true) + "?" + rawQuery + "&X-Amz-Signature=" + sig
	return u, hdr, nil
}

// encodeQuery encodes q with SigV4's URI encoding, sorted by name.
func encodeQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		for _, v := range q[k] {
			parts = append(parts, sigv4.URIEncode(k, false)+"="+sigv4.URIEncode(v, false))
		}
	}
	return strings.Join(parts, "&")
}

// PostForm describes a browser POST upload to sign.
type PostForm struct {
	Bucket      string
	Key         string // exact key; or
	KeyPrefix   string // any key starting with it (the form's key field is the prefix + "${filename}")
	ContentType string // exact Content-Type, or ""
	MinBytes    int64
	MaxBytes    int64 // 0: no content-length-range
	Expiry      time.Duration
}

// PresignPost returns the form URL and fields (policy and signature
// included) for a browser POST upload.
func (s Signer) PresignPost(p PostForm, now time.Time) (string, map[string]string, error) {
	base, err := url.Parse(s.BaseURL)
	if err != nil || base.Host == "" {
		return "", nil, fmt.Errorf("uploads: invalid public URL %q", s.BaseURL)
	}
	now = now.UTC()
	scope := sigv4.Scope(now, s.Region, "s3")
	cred := s.AccessKey + "/" + scope
	amzDate := now.Format(sigv4.AmzDateFormat)
	fields := map[string]string{
		"x-amz-algorithm":  sigv4.Algorithm,
		"x-amz-credential": cred,
		"x-amz-date":       amzDate,
	}
	conds := []any{
		map[string]string{"bucket": p.Bucket},
		map[string]string{"x-amz-algorithm": sigv4.Algorithm},
		map[string]string{"x-amz-credential": cred},
		map[string]string{"x-amz-date": amzDate},
	}
	if s.SessionToken != "" {
		fields["x-amz-security-token"] = s.SessionToken
		conds = append(conds, map[string]string{"x-amz-security-token": s.SessionToken})
	}
	if p.Key != "" {
		fields["key"] = p.Key
		conds = append(conds, []string{"eq", "$key", p.Key})
	} else {
		fields["key"] = p.KeyPrefix + "${filename}"
		conds = append(conds, []string{"starts-with", "$key", p.KeyPrefix})
	}
	if p.ContentType != "" {
		fields["Content-Type"] = p.ContentType
		conds = append(conds, []string{"eq", "$Content-Type", p.ContentType})
	}
	if p.MaxBytes > 0 {
		conds = append(conds, []any{"content-length-range", p.MinBytes, p.MaxBytes})
	}
	doc := map[string]any{
		"expiration": now.Add(p.Expiry).Format("2006-01-02T15:04:05.000Z"),
		"conditions": conds,
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return "", nil, fmt.Errorf("uploads: encode policy: %w", err)
	}
	policy := base64.StdEncoding.EncodeToString(raw)
	fields["policy"] = policy
	fields["x-amz-signature"] = sigv4.Signature(sigv4.SigningKey(s.SecretKey, now, s.Region, "s3"), policy)
	u := base.Scheme + "://" + base.Host + strings.TrimSuffix(base.Path, "/") + "/" + p.Bucket
	return u, fields, nil
}
