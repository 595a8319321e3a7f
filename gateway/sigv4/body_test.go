package sigv4

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash/crc32"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/minio/crc64nvme"
	"github.com/minio/minio-go/v7/pkg/signer"
)

func TestChecksumHeaders(t *testing.T) {
	data := []byte(strings.Repeat("checksum me ", 1000))
	enc := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	c32c := crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli))
	nv := crc64nvme.New()
	nv.Write(data)
	s1 := sha1.Sum(data)
	s256 := sha256.Sum256(data)
	good := map[string]string{
		"x-amz-checksum-crc32":     b64crc32(data),
		"x-amz-checksum-crc32c":    enc([]byte{byte(c32c >> 24), byte(c32c >> 16), byte(c32c >> 8), byte(c32c)}),
		"x-amz-checksum-crc64nvme": enc(nv.Sum(nil)),
		"x-amz-checksum-sha1":      enc(s1[:]),
		"x-amz-checksum-sha256":    enc(s256[:]),
		"content-md5":              enc(md5sum(data)),
	}
	// The CRC-64/NVME check value ("123456789") from the specification.
	h, _, _ := NewChecksum("x-amz-checksum-crc64nvme")
	h.Write([]byte("123456789"))
	if got := h.Sum(nil); enc(got) != enc([]byte{0xae, 0x8b, 0x14, 0x86, 0x0a, 0x79, 0x98, 0x88}) {
		t.Fatalf("crc64nvme check value %x", got)
	}
	body := func(hdr map[string]string, payload []byte) (io.ReadCloser, error) {
		r := httptest.NewRequest("PUT", "http://h/b/k", strings.NewReader(string(payload)))
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		a := &Auth{Payload: Unsigned, DecodedLength: -1}
		return a.Body(r)
	}
	for name, v := range good {
		t.Run(name, func(t *testing.T) {
			rc, err := body(map[string]string{name: v}, data)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			if err != nil || len(got) != len(data) {
				t.Fatalf("good: %v", err)
			}
			if name != "content-md5" && rc.(*BodyReader).Checksums()[name] != v {
				t.Fatalf("Checksums() = %v", rc.(*BodyReader).Checksums())
			}
			rc, _ = body(map[string]string{name: v}, append([]byte("x"), data[1:]...))
			if _, err := io.ReadAll(rc); !errors.Is(err, ErrBadDigest) {
				t.Fatalf("tampered body: %v", err)
			}
			want := ErrInvalidRequest
			if name == "content-md5" {
				want = ErrInvalidDigest
			}
			for _, bad := range []string{"", "!!", enc([]byte("short")), v + "AA"} {
				if _, err := body(map[string]string{name: bad}, data); !errors.Is(err, want) {
					t.Fatalf("malformed %q: %v", bad, err)
				}
			}
		})
	}
	rc, err := body(good, data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(rc); err != nil {
		t.Fatalf("all checksums at once: %v", err)
	}
}

func TestBodyRequestChecks(t *testing.T) {
	for _, tt := range []struct {
		name string
		a    Auth
		hdr  map[string]string
		want error
	}{
		{"trailer without trailer mode", Auth{Payload: Unsigned}, map[string]string{"X-Amz-Trailer": "x-amz-checksum-crc32"}, ErrInvalidRequest},
		{"unknown trailer", Auth{Payload: StreamingUnsignedTrailer, DecodedLength: -1}, map[string]string{"X-Amz-Trailer": "x-amz-meta-a"}, ErrInvalidArgument},
		{"repeated trailer", Auth{Payload: StreamingUnsignedTrailer, DecodedLength: -1}, map[string]string{"X-Amz-Trailer": "x-amz-checksum-crc32, x-amz-checksum-crc32"}, ErrInvalidArgument},
		{"signed streaming without key", Auth{Payload: StreamingSigned}, nil, ErrInternal},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("PUT", "http://h/b/k", strings.NewReader("x"))
			for k, v := range tt.hdr {
				r.Header.Set(k, v)
			}
			if _, err := tt.a.Body(r); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyRequestShape(t *testing.T) {
	v := &Verifier{Region: "us-east-1", Lookup: testLookup}
	auth := "AWS4-HMAC-SHA256 Credential=" + testAK + "/" + v.now().Format(ScopeDateFormat) + "/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length, Signature=" + sig64
	for _, tt := range []struct {
		name string
		url  string
		hdr  map[string]string
		want error
	}{
		{"header and query", "http://h/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256", map[string]string{"Authorization": auth}, ErrInvalidArgument},
		{"no date", "http://h/b/k", map[string]string{"Authorization": auth, "X-Amz-Content-Sha256": UnsignedPayload}, ErrAccessDenied},
		{"bad date", "http://h/b/k", map[string]string{"Authorization": auth, "X-Amz-Date": "yesterday"}, ErrAccessDenied},
		{"no content sha", "http://h/b/k", map[string]string{"Authorization": auth, "X-Amz-Date": v.now().Format(AmzDateFormat)}, ErrMissingSecurityHeader},
		{"bad content sha", "http://h/b/k", map[string]string{"Authorization": auth, "X-Amz-Date": v.now().Format(AmzDateFormat), "X-Amz-Content-Sha256": "abc"}, ErrInvalidArgument},
		{"streaming without decoded length", "http://h/b/k", map[string]string{"Authorization": auth, "X-Amz-Date": v.now().Format(AmzDateFormat), "X-Amz-Content-Sha256": StreamingPayload}, ErrMissingContentLength},
		{"bad decoded length", "http://h/b/k", map[string]string{"Authorization": auth, "X-Amz-Date": v.now().Format(AmzDateFormat), "X-Amz-Content-Sha256": StreamingPayload, "X-Amz-Decoded-Content-Length": "-1"}, ErrInvalidArgument},
		{"host not signed", "http://h/b/k", map[string]string{"Authorization": strings.Replace(auth, "host;", "", 1), "X-Amz-Date": v.now().Format(AmzDateFormat), "X-Amz-Content-Sha256": UnsignedPayload}, ErrAuthorizationHeaderMalformed},
		{"scope date differs", "http://h/b/k", map[string]string{"Authorization": strings.Replace(auth, v.now().Format(ScopeDateFormat), "20000101", 1), "X-Amz-Date": v.now().Format(AmzDateFormat), "X-Amz-Content-Sha256": UnsignedPayload}, ErrAuthorizationHeaderMalformed},
		{"sigv2 header", "http://h/b/k", map[string]string{"Authorization": "AWS AK:c2ln"}, ErrSigV2Unsupported},
		{"anonymous", "http://h/b/k", nil, ErrAnonymous},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("PUT", tt.url, nil)
			for k, val := range tt.hdr {
				r.Header.Set(k, val)
			}
			_, err := v.Verify(t.Context(), r, "s3")
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if e := AsError(err); e.Message != tt.want.(*Error).Message && tt.want == ErrAnonymous {
				t.Fatalf("message %q", e.Message)
			}
		})
	}
}

func TestStoredContentEncoding(t *testing.T) {
	for in, want := range map[string]string{"": "", "aws-chunked": "", "aws-chunked,gzip": "gzip", "gzip, AWS-CHUNKED": "gzip", "br": "br"} {
		if got := StoredContentEncoding(in); got != want {
			t.Errorf("%q → %q, want %q", in, got, want)
		}
	}
}

func TestSigningKeyCache(t *testing.T) {
	v := &Verifier{}
	d := chunkDate
	k1 := v.signingKey("secret-one", d, "us-east-1", "s3")
	k2 := v.signingKey("secret-two", d, "us-east-1", "s3")
	k3 := v.signingKey("secret-one", d.AddDate(0, 0, 1), "us-east-1", "s3")
	k4 := v.signingKey("secret-one", d, "us-east-1", "sts")
	if string(k1) == string(k2) || string(k1) == string(k3) || string(k1) == string(k4) {
		t.Fatal("cache mixes keys")
	}
	if string(v.signingKey("secret-one", d, "us-east-1", "s3")) != string(SigningKey("secret-one", d, "us-east-1", "s3")) {
		t.Fatal("cached key differs")
	}
	for i := range maxCachedKeys + 10 {
		v.signingKey("s", d.AddDate(0, 0, i), "r", "s3")
	}
	if len(v.keys) > maxCachedKeys {
		t.Fatalf("cache grew to %d", len(v.keys))
	}
}

// failReader fails the test if anything reads it.
type failReader struct{ t *testing.T }

func (f failReader) Read([]byte) (int, error) {
	f.t.Error("Verify read the body")
	return 0, io.ErrUnexpectedEOF
}

func TestVerifyDoesNotReadBody(t *testing.T) {
	v := &Verifier{Region: "us-east-1", Lookup: testLookup}
	for _, mode := range []string{UnsignedPayload, EmptySHA256, StreamingPayload} {
		r := httptest.NewRequest("PUT", "http://h/b/k", nil)
		r.Body = io.NopCloser(failReader{t})
		r.Header.Set("X-Amz-Content-Sha256", mode)
		r.Header.Set("X-Amz-Decoded-Content-Length", "10")
		r = signer.SignV4(*r, testAK, testSecret, "", "us-east-1")
		if _, err := v.Verify(t.Context(), r, "s3"); err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
	}
}

// ContentMD5CheckedElsewhere skips only the MD5 (left to the storage
// backend); the other digests are still verified.
func TestBodyContentMD5CheckedElsewhere(t *testing.T) {
	data := []byte(strings.Repeat("md5 elsewhere ", 100))
	wrongMD5 := base64.StdEncoding.EncodeToString(md5sum(data[1:]))
	open := func(hdr map[string]string, opts ...BodyOption) error {
		r := httptest.NewRequest("PUT", "http://h/b/k", strings.NewReader(string(data)))
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		rc, err := (&Auth{Payload: Unsigned, DecodedLength: -1}).Body(r, opts...)
		if err != nil {
			return err
		}
		_, err = io.ReadAll(rc)
		return err
	}
	if err := open(map[string]string{"Content-Md5": wrongMD5}); !errors.Is(err, ErrBadDigest) {
		t.Fatalf("without the option: %v, want BadDigest", err)
	}
	if err := open(map[string]string{"Content-Md5": wrongMD5}, ContentMD5CheckedElsewhere()); err != nil {
		t.Fatalf("with the option: %v, want the MD5 left unchecked", err)
	}
	if err := open(map[string]string{"Content-Md5": wrongMD5, "x-amz-checksum-crc32": b64crc32(data[1:])}, ContentMD5CheckedElsewhere()); !errors.Is(err, ErrBadDigest) {
		t.Fatalf("crc32 with the option: %v, want BadDigest", err)
	}
}

// TestVerifySTSBodyAfterKey: an STS form body (signed over its hash) is
// read only once the access key is known, and never past 64 KiB.
func TestVerifySTSBodyAfterKey(t *testing.T) {
	v := &Verifier{Region: "us-east-1", Lookup: testLookup}
	for _, tc := range []struct {
		name, ak string
		length   int64
		want     *Error
	}{
		{"unknown key", "UNKNOWNKEY", 100, ErrInvalidAccessKeyID},
		{"declared too large", testAK, 65<<10 + 1, ErrInvalidRequest},
	} {
		r := httptest.NewRequest("POST", "http://h/", nil)
		r.Body = io.NopCloser(failReader{t})
		r.ContentLength = tc.length
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r = signer.SignV4STS(*r, tc.ak, testSecret, "us-east-1")
		r.Header.Del("X-Amz-Content-Sha256")
		_, err := v.Verify(t.Context(), r, "sts")
		var e *Error
		if !errors.As(err, &e) || e.Code != tc.want.Code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.want.Code)
		}
	}
}
