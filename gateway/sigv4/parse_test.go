package sigv4

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

const sig64 = "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"

func TestParseAuthorization(t *testing.T) {
	tests := []struct {
		name, header string
		want         *ParsedAuthorization
		err          error
	}{
		{"aws-cli spacing", "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + sig64,
			&ParsedAuthorization{AccessKey: "AK", Region: "us-east-1", Service: "s3", SignedHeaders: []string{"host", "x-amz-date"}, Signature: sig64}, nil},
		{"no spaces", "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=" + sig64,
			&ParsedAuthorization{AccessKey: "AK", Region: "us-east-1", Service: "s3", SignedHeaders: []string{"host"}, Signature: sig64}, nil},
		{"fields reordered", "AWS4-HMAC-SHA256 Signature=" + sig64 + ", SignedHeaders=host, Credential=AK/20130524/eu-west-1/sts/aws4_request",
			&ParsedAuthorization{AccessKey: "AK", Region: "eu-west-1", Service: "sts", SignedHeaders: []string{"host"}, Signature: sig64}, nil},
		{"slash in access key", "AWS4-HMAC-SHA256 Credential=A/K/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=" + sig64,
			&ParsedAuthorization{AccessKey: "A/K", Region: "us-east-1", Service: "s3", SignedHeaders: []string{"host"}, Signature: sig64}, nil},
		{"sigv2", "AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=", nil, ErrSigV2Unsupported},
		{"sigv4a", "AWS4-ECDSA-P256-SHA256 Credential=AK/20130524/s3/aws4_request, SignedHeaders=host, Signature=" + sig64, nil, ErrSigV2Unsupported},
		{"empty", "", nil, ErrSigV2Unsupported},
		{"missing signature", "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=host", nil, ErrAuthorizationHeaderMalformed},
		{"missing credential", "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=" + sig64, nil, ErrAuthorizationHeaderMalformed},
		{"missing headers", "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, Signature=" + sig64, nil, ErrAuthorizationHeaderMalformed},
		{"short credential", "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3, SignedHeaders=host, Signature=" + sig64, nil, ErrAuthorizationHeaderMalformed},
		{"bad terminator", "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws5_request, SignedHeaders=host, Signature=" + sig64, nil, ErrAuthorizationHeaderMalformed},
		{"bad date", "AWS4-HMAC-SHA256 Credential=AK/2013052/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=" + sig64, nil, ErrAuthorizationHeaderMalformed},
		{"empty access key", "AWS4-HMAC-SHA256 Credential=/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=" + sig64, nil, ErrAuthorizationHeaderMalformed},
		{"upper-case signature", "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=" + strings.ToUpper(sig64), nil, ErrAuthorizationHeaderMalformed},
		{"short signature", "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=abc", nil, ErrAuthorizationHeaderMalformed},
		{"upper-case header name", "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=Host, Signature=" + sig64, nil, ErrAuthorizationHeaderMalformed},
		{"duplicate header", "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;host, Signature=" + sig64, nil, ErrAuthorizationHeaderMalformed},
		{"empty header name", "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;;x, Signature=" + sig64, nil, ErrAuthorizationHeaderMalformed},
		{"duplicate field", "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, Credential=B/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=" + sig64, nil, ErrAuthorizationHeaderMalformed},
		{"unknown field", "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=" + sig64 + ", Extra=1", nil, ErrAuthorizationHeaderMalformed},
		{"field without value", "AWS4-HMAC-SHA256 Credential", nil, ErrAuthorizationHeaderMalformed},
		{"too long", "AWS4-HMAC-SHA256 Credential=" + strings.Repeat("a", 20000), nil, ErrAuthorizationHeaderMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAuthorization(tt.header)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err %v, want %v", err, tt.err)
				}
				if e := AsError(err); e.Status != tt.err.(*Error).Status {
					t.Fatalf("status %d", e.Status)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.AccessKey != tt.want.AccessKey || got.Region != tt.want.Region || got.Service != tt.want.Service ||
				strings.Join(got.SignedHeaders, ";") != strings.Join(tt.want.SignedHeaders, ";") || got.Signature != tt.want.Signature ||
				!got.ScopeDate.Equal(time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)) {
				t.Fatalf("got %+v", got)
			}
		})
	}
}

func presignedQuery(mod func(q url.Values)) url.Values {
	q := url.Values{
		"X-Amz-Algorithm":     {Algorithm},
		"X-Amz-Credential":    {"AK/20130524/us-east-1/s3/aws4_request"},
		"X-Amz-Date":          {"20130524T000000Z"},
		"X-Amz-Expires":       {"86400"},
		"X-Amz-SignedHeaders": {"host"},
		"X-Amz-Signature":     {sig64},
	}
	if mod != nil {
		mod(q)
	}
	return q
}

func TestParsePresigned(t *testing.T) {
	tests := []struct {
		name string
		mod  func(q url.Values)
		err  error
	}{
		{"valid", nil, nil},
		{"with token", func(q url.Values) { q.Set("X-Amz-Security-Token", "tok") }, nil},
		{"max expiry", func(q url.Values) { q.Set("X-Amz-Expires", "604800") }, nil},
		{"zero expiry", func(q url.Values) { q.Set("X-Amz-Expires", "0") }, nil},
		{"over a week", func(q url.Values) { q.Set("X-Amz-Expires", "604801") }, ErrAuthorizationQueryParametersError},
		{"negative expiry", func(q url.Values) { q.Set("X-Amz-Expires", "-1") }, ErrAuthorizationQueryParametersError},
		{"plus expiry", func(q url.Values) { q.Set("X-Amz-Expires", "+10") }, ErrAuthorizationQueryParametersError},
		{"huge expiry", func(q url.Values) { q.Set("X-Amz-Expires", "99999999999999999999") }, ErrAuthorizationQueryParametersError},
		{"non-numeric expiry", func(q url.Values) { q.Set("X-Amz-Expires", "1h") }, ErrAuthorizationQueryParametersError},
		{"missing expiry", func(q url.Values) { q.Del("X-Amz-Expires") }, ErrAuthorizationQueryParametersError},
		{"missing date", func(q url.Values) { q.Del("X-Amz-Date") }, ErrAuthorizationQueryParametersError},
		{"bad date", func(q url.Values) { q.Set("X-Amz-Date", "2013-05-24T00:00:00Z") }, ErrAuthorizationQueryParametersError},
		{"missing signature", func(q url.Values) { q.Del("X-Amz-Signature") }, ErrAuthorizationQueryParametersError},
		{"bad signature", func(q url.Values) { q.Set("X-Amz-Signature", "zz") }, ErrAuthorizationQueryParametersError},
		{"missing headers", func(q url.Values) { q.Del("X-Amz-SignedHeaders") }, ErrAuthorizationQueryParametersError},
		{"bad algorithm", func(q url.Values) { q.Set("X-Amz-Algorithm", "AWS4-HMAC-SHA1") }, ErrAuthorizationQueryParametersError},
		{"bad credential", func(q url.Values) { q.Set("X-Amz-Credential", "AK/20130524/us-east-1") }, ErrAuthorizationQueryParametersError},
		{"repeated signature", func(q url.Values) { q.Add("X-Amz-Signature", sig64) }, ErrAuthorizationQueryParametersError},
		{"repeated token", func(q url.Values) { q.Add("X-Amz-Security-Token", "a"); q.Add("X-Amz-Security-Token", "b") }, ErrAuthorizationQueryParametersError},
		{"sigv2", func(q url.Values) {
			for k := range q {
				q.Del(k)
			}
			q.Set("AWSAccessKeyId", "AK")
			q.Set("Signature", "x")
			q.Set("Expires", "1")
		}, ErrSigV2Unsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePresigned(presignedQuery(tt.mod))
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.AccessKey != "AK" || !p.Date.Equal(time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)) || p.Signature != sig64 {
				t.Fatalf("got %+v", p)
			}
		})
	}
}

func TestCanonicalQuery(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"", ""},
		{"uploads", "uploads="},
		{"prefix=J&max-keys=2", "max-keys=2&prefix=J"},
		{"a=2&a=1&b", "a=1&a=2&b="},
		{"key=a%20b%2Bc", "key=a%20b%2Bc"},
		{"key=a+b", "key=a%20b"},
		{"key=%7e%2F", "key=~%2F"},
		{"list-type=2&prefix=%C3%A9", "list-type=2&prefix=%C3%A9"},
		{"bad=%zz", "bad=%25zz"},
		{"&&x=1&", "x=1"},
		{"X-Amz-Signature=abc&a=b", "a=b"},
	}
	for _, tt := range tests {
		if got := CanonicalQuery(tt.raw, "X-Amz-Signature"); got != tt.want {
			t.Errorf("CanonicalQuery(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}

func TestCanonicalURI(t *testing.T) {
	tests := []struct{ path, want string }{
		{"", "/"},
		{"/", "/"},
		{"/bucket/a b+c", "/bucket/a%20b%2Bc"},
		{"/bucket/été", "/bucket/%C3%A9t%C3%A9"},
		{"/bucket/a/../b/./c//d", "/bucket/a/../b/./c//d"}, // S3: no normalisation
		{"/bucket/~x_y-z.jpg", "/bucket/~x_y-z.jpg"},
		{"/bucket/$!*'()", "/bucket/%24%21%2A%27%28%29"},
	}
	for _, tt := range tests {
		if got := CanonicalURI(tt.path); got != tt.want {
			t.Errorf("CanonicalURI(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + sig64)
	f.Add("AWS4-HMAC-SHA256 Credential=A/K/20130524/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=" + sig64)
	f.Add("AWS AK:sig")
	f.Add("AWS4-HMAC-SHA256 ,,,=,")
	f.Fuzz(func(t *testing.T, h string) {
		p, err := ParseAuthorization(h)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status == 0 || e.Code == "" {
				t.Fatalf("error is not an S3 error: %v", err)
			}
			if p != nil {
				t.Fatal("result with error")
			}
			return
		}
		if p.AccessKey == "" || p.Region == "" || p.Service == "" || len(p.SignedHeaders) == 0 || !isHexSignature(p.Signature) {
			t.Fatalf("accepted incomplete header: %+v", p)
		}
		for _, h := range p.SignedHeaders {
			if h == "" || strings.ToLower(h) != h {
				t.Fatalf("bad signed header %q", h)
			}
		}
		_ = p.Scope()
	})
}

func FuzzParsePresigned(f *testing.F) {
	f.Add(presignedQuery(nil).Encode())
	f.Add(presignedQuery(func(q url.Values) { q.Set("X-Amz-Security-Token", "t") }).Encode())
	f.Add("AWSAccessKeyId=a&Signature=b&Expires=1")
	f.Add("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=604800")
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		p, err := ParsePresigned(q)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status == 0 {
				t.Fatalf("error is not an S3 error: %v", err)
			}
			return
		}
		if p.Expires < 0 || p.Expires > MaxPresignedExpiry || p.AccessKey == "" || !isHexSignature(p.Signature) || p.Date.IsZero() {
			t.Fatalf("accepted bad query: %+v", p)
		}
		_ = CanonicalQuery(raw, "X-Amz-Signature")
	})
}
