package sigv4

import (
	"context"
	"encoding/base64"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// minioPostForm asks minio-go for a POST policy form, the way an app would.
func minioPostForm(t *testing.T, ak, sk, token string, build func(p *minio.PostPolicy)) map[string]string {
	t.Helper()
	c, err := minio.New("127.0.0.1:1", &minio.Options{Creds: credentials.NewStaticV4(ak, sk, token), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	p := minio.NewPostPolicy()
	build(p)
	_, form, err := c.PresignedPostPolicy(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	fields := make(map[string]string, len(form))
	for k, v := range form {
		fields[strings.ToLower(k)] = v
	}
	return fields
}

func TestPostPolicyMinio(t *testing.T) {
	base := func(p *minio.PostPolicy) {
		_ = p.SetBucket("photos-original")
		_ = p.SetKeyStartsWith("uploads/alice/")
		_ = p.SetContentType("image/jpeg")
		_ = p.SetContentLengthRange(1, 1000)
		_ = p.SetExpires(time.Now().UTC().Add(time.Hour))
	}
	v := &Verifier{Region: "us-east-1", Lookup: testLookup}
	ctx := context.Background()

	fields := minioPostForm(t, testAK, testSecret, "", base)
	fields["key"] = "uploads/alice/cat.jpg"
	a, pol, err := v.VerifyPost(ctx, fields)
	if err != nil {
		t.Fatalf("VerifyPost: %v", err)
	}
	if !a.Post || a.AccessKey != testAK {
		t.Fatalf("auth %+v", a)
	}
	if err := pol.CheckFields(fields); err != nil {
		t.Fatalf("CheckFields: %v", err)
	}
	if lo, hi, ok := pol.LengthRange(); !ok || lo != 1 || hi != 1000 {
		t.Fatalf("LengthRange %d %d %v", lo, hi, ok)
	}
	if pol.CheckLength(1000) != nil || !errors.Is(pol.CheckLength(1001), ErrEntityTooLarge) || !errors.Is(pol.CheckLength(0), ErrEntityTooSmall) {
		t.Fatal("CheckLength")
	}

	// Temporary credentials: the token is a form field.
	tf := minioPostForm(t, tempAK, tempSecret, tempToken, base)
	tf["key"] = "uploads/alice/dog.jpg"
	if _, _, err := v.VerifyPost(ctx, tf); err != nil {
		t.Fatalf("with token: %v", err)
	}

	mod := func(f func(m map[string]string)) map[string]string {
		m := maps.Clone(fields)
		f(m)
		return m
	}
	for _, tt := range []struct {
		name   string
		fields map[string]string
		verify error // from VerifyPost
		check  error // from CheckFields
	}{
		{"key outside starts-with", mod(func(m map[string]string) { m["key"] = "uploads/bob/cat.jpg" }), nil, ErrPolicyConditionFailed},
		{"other content type", mod(func(m map[string]string) { m["content-type"] = "text/html" }), nil, ErrPolicyConditionFailed},
		{"other bucket", mod(func(m map[string]string) { m["bucket"] = "photos-resized" }), nil, ErrPolicyConditionFailed},
		{"extra field", mod(func(m map[string]string) { m["x-amz-meta-evil"] = "1" }), nil, ErrPolicyConditionFailed},
		{"x-ignore field", mod(func(m map[string]string) { m["x-ignore-me"] = "1" }), nil, nil},
		{"tampered policy", mod(func(m map[string]string) {
			raw, _ := base64.StdEncoding.DecodeString(m["policy"])
			m["policy"] = base64.StdEncoding.EncodeToString([]byte(strings.Replace(string(raw), "1000", "9000", 1)))
		}), ErrSignatureDoesNotMatch, nil},
		{"tampered signature", mod(func(m map[string]string) { m["x-amz-signature"] = strings.Repeat("0", 64) }), ErrSignatureDoesNotMatch, nil},
		{"missing signature", mod(func(m map[string]string) { delete(m, "x-amz-signature") }), ErrInvalidArgument, nil},
		{"unknown key", mod(func(m map[string]string) {
			m["x-amz-credential"] = strings.Replace(m["x-amz-credential"], testAK, "nobody", 1)
		}), ErrInvalidAccessKeyID, nil},
		{"token with static key", mod(func(m map[string]string) { m["x-amz-security-token"] = "x" }), ErrInvalidToken, nil},
		{"sigv2", map[string]string{"awsaccesskeyid": "a", "signature": "b", "policy": "c"}, ErrSigV2Unsupported, nil},
		{"anonymous", map[string]string{"key": "k"}, ErrAnonymous, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, p, err := v.VerifyPost(ctx, tt.fields)
			if tt.verify != nil {
				if !errors.Is(err, tt.verify) {
					t.Fatalf("VerifyPost: %v, want %v", err, tt.verify)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := p.CheckFields(tt.fields); !errors.Is(err, tt.check) || (tt.check == nil) != (err == nil) {
				t.Fatalf("CheckFields: %v, want %v", err, tt.check)
			}
		})
	}

	// Expired policy.
	later := &Verifier{Region: "us-east-1", Lookup: testLookup, Now: func() time.Time { return time.Now().Add(2 * time.Hour) }}
	if _, _, err := later.VerifyPost(ctx, fields); !errors.Is(err, ErrPolicyExpired) {
		t.Fatalf("expired policy: %v", err)
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestParsePostPolicy(t *testing.T) {
	tests := []struct {
		name, doc string
		want      []Condition
		ok        bool
	}{
		{"AWS example", `{ "expiration": "2015-12-30T12:00:00.000Z",
  "conditions": [
    {"bucket": "sigv4examplebucket"},
    ["starts-with", "$key", "user/user1/"],
    {"acl": "public-read"},
    {"success_action_redirect": "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html"},
    ["starts-with", "$Content-Type", "image/"],
    {"x-amz-meta-uuid": "14365123651274"},
    {"x-amz-server-side-encryption": "AES256"},
    ["starts-with", "$x-amz-meta-tag", ""],
    {"x-amz-credential": "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"},
    {"x-amz-algorithm": "AWS4-HMAC-SHA256"},
    {"x-amz-date": "20151229T000000Z" },
    ["content-length-range", 1, "1048576"]
  ]
}`, []Condition{
			{Op: "eq", Field: "bucket", Value: "sigv4examplebucket"},
			{Op: "starts-with", Field: "key", Value: "user/user1/"},
			{Op: "eq", Field: "acl", Value: "public-read"},
			{Op: "eq", Field: "success_action_redirect", Value: "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html"},
			{Op: "starts-with", Field: "content-type", Value: "image/"},
			{Op: "eq", Field: "x-amz-meta-uuid", Value: "14365123651274"},
			{Op: "eq", Field: "x-amz-server-side-encryption", Value: "AES256"},
			{Op: "starts-with", Field: "x-amz-meta-tag", Value: ""},
			{Op: "eq", Field: "x-amz-credential", Value: "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"},
			{Op: "eq", Field: "x-amz-algorithm", Value: "AWS4-HMAC-SHA256"},
			{Op: "eq", Field: "x-amz-date", Value: "20151229T000000Z"},
			{Op: "content-length-range", Min: 1, Max: 1048576},
		}, true},
		{"eq array", `{"expiration":"2030-01-01T00:00:00Z","conditions":[["eq","$key","a"]]}`, []Condition{{Op: "eq", Field: "key", Value: "a"}}, true},
		{"empty conditions", `{"expiration":"2030-01-01T00:00:00Z","conditions":[]}`, nil, true},
		{"no expiration", `{"conditions":[]}`, nil, false},
		{"no conditions", `{"expiration":"2030-01-01T00:00:00Z"}`, nil, false},
		{"bad expiration", `{"expiration":"tomorrow","conditions":[]}`, nil, false},
		{"unknown field", `{"expiration":"2030-01-01T00:00:00Z","conditions":[],"x":1}`, nil, false},
		{"duplicate field", `{"expiration":"2030-01-01T00:00:00Z","conditions":[],"conditions":[]}`, nil, false},
		{"duplicate in condition", `{"expiration":"2030-01-01T00:00:00Z","conditions":[{"key":"a","key":"b"}]}`, nil, false},
		{"case-variant duplicate field", `{"expiration":"2030-01-01T00:00:00Z","conditions":[["starts-with","$key","up/"]],"Conditions":[]}`, nil, false},
		{"trailing data", `{"expiration":"2030-01-01T00:00:00Z","conditions":[]} {}`, nil, false},
		{"two fields in object", `{"expiration":"2030-01-01T00:00:00Z","conditions":[{"a":"1","b":"2"}]}`, nil, false},
		{"number value", `{"expiration":"2030-01-01T00:00:00Z","conditions":[{"a":1}]}`, nil, false},
		{"unknown op", `{"expiration":"2030-01-01T00:00:00Z","conditions":[["ends-with","$key","a"]]}`, nil, false},
		{"field without $", `{"expiration":"2030-01-01T00:00:00Z","conditions":[["eq","key","a"]]}`, nil, false},
		{"two elements", `{"expiration":"2030-01-01T00:00:00Z","conditions":[["eq","$key"]]}`, nil, false},
		{"negative range", `{"expiration":"2030-01-01T00:00:00Z","conditions":[["content-length-range",-1,10]]}`, nil, false},
		{"inverted range", `{"expiration":"2030-01-01T00:00:00Z","conditions":[["content-length-range",10,1]]}`, nil, false},
		{"float range", `{"expiration":"2030-01-01T00:00:00Z","conditions":[["content-length-range",1.5,10]]}`, nil, false},
		{"string condition", `{"expiration":"2030-01-01T00:00:00Z","conditions":["key"]}`, nil, false},
		{"not JSON", `expiration`, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePostPolicy(b64(tt.doc))
			if !tt.ok {
				if !errors.Is(err, ErrInvalidPolicyDocument) {
					t.Fatalf("err %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Conditions) != len(tt.want) {
				t.Fatalf("conditions %+v", p.Conditions)
			}
			for i := range tt.want {
				if p.Conditions[i] != tt.want[i] {
					t.Fatalf("condition %d: %+v, want %+v", i, p.Conditions[i], tt.want[i])
				}
			}
		})
	}
	if _, err := ParsePostPolicy("!!!"); !errors.Is(err, ErrInvalidPolicyDocument) {
		t.Fatalf("bad base64: %v", err)
	}
	if _, err := ParsePostPolicy(strings.Repeat("A", 40000)); !errors.Is(err, ErrInvalidPolicyDocument) {
		t.Fatalf("too large: %v", err)
	}
}

func FuzzParsePostPolicy(f *testing.F) {
	f.Add(`{"expiration":"2030-01-01T00:00:00Z","conditions":[{"bucket":"b"},["starts-with","$key","u/"],["content-length-range",1,"100"]]}`)
	f.Add(`{"expiration":"2030-01-01T00:00:00.000Z","conditions":[["eq","$Content-Type","image/jpeg"],{"x-amz-meta-a":"b"}]}`)
	f.Add(`{"conditions":[[[[[]]]]],"expiration":""}`)
	f.Fuzz(func(t *testing.T, doc string) {
		p, err := ParsePostPolicy(b64(doc))
		if err != nil {
			if !errors.Is(err, ErrInvalidPolicyDocument) {
				t.Fatalf("unexpected error type: %v", err)
			}
			return
		}
		for _, c := range p.Conditions {
			switch c.Op {
			case "eq", "starts-with":
				if c.Field == "" || strings.ToLower(c.Field) != c.Field {
					t.Fatalf("bad field %+v", c)
				}
			case "content-length-range":
				if c.Min < 0 || c.Min > c.Max {
					t.Fatalf("bad range %+v", c)
				}
			default:
				t.Fatalf("bad op %+v", c)
			}
			_ = c.String()
		}
		fields := map[string]string{"key": "k", "bucket": "b"}
		_ = p.CheckFields(fields)
		_, _, _ = p.LengthRange()
	})
}
