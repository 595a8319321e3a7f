package sigv4

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7/pkg/signer"
)

const (
	testAK     = "imgatetestkey"
	testSecret = "imgate-test-secret-0123456789"
	tempAK     = "imgatetempkey"
	tempSecret = "imgate-temp-secret-0123456789"
	tempToken  = "the-session-token"
)

func testLookup(ctx context.Context, ak string) (Credential, error) {
	switch ak {
	case testAK:
		return Credential{AccessKey: ak, SecretKey: testSecret}, nil
	case tempAK:
		return Credential{AccessKey: ak, SecretKey: tempSecret, SessionToken: tempToken}, nil
	}
	return Credential{}, fmt.Errorf("test: %q: %w", ak, ErrUnknownAccessKey)
}

// testServer is a real HTTP server that verifies every request and stores
// the decoded body only when Body ended with io.EOF.
type testServer struct {
	*httptest.Server
	v       *Verifier
	service string
	mu      sync.Mutex
	stored  map[string][]byte
	last    *Auth
}

func newTestServer(t *testing.T, now func() time.Time) *testServer {
	ts := &testServer{
		v:       &Verifier{Region: "us-east-1", Lookup: testLookup, Now: now},
		service: "s3",
		stored:  map[string][]byte{},
	}
	ts.Server = httptest.NewServer(http.HandlerFunc(ts.handle))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *testServer) handle(w http.ResponseWriter, r *http.Request) {
	fail := func(err error) {
		e := AsError(err)
		w.Header().Set("X-Error-Code", e.Code)
		w.WriteHeader(e.Status)
		fmt.Fprint(w, e.Message)
	}
	a, err := ts.v.Verify(r.Context(), r, ts.service)
	if err != nil {
		fail(err)
		return
	}
	body, err := a.Body(r)
	if err != nil {
		fail(err)
		return
	}
	defer body.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, body); err != nil {
		fail(err)
		return
	}
	ts.mu.Lock()
	ts.stored[r.URL.Path] = buf.Bytes()
	ts.last = a
	ts.mu.Unlock()
	w.Header().Set("ETag", fmt.Sprintf("%x", md5.Sum(buf.Bytes())))
	w.WriteHeader(http.StatusOK)
}

func (ts *testServer) get(path string) ([]byte, bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	b, ok := ts.stored[path]
	return b, ok
}

// do sends r and returns the status and S3 error code.
func do(t *testing.T, r *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatalf("%s %s: %v", r.Method, r.URL, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Error-Code")
}

func payload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

type sha256Hasher struct{ hash.Hash }

func (sha256Hasher) Close() {}

func newReq(t *testing.T, method, u string, body []byte) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func b64crc32(b []byte) string {
	s := crc32.ChecksumIEEE(b)
	return base64.StdEncoding.EncodeToString([]byte{byte(s >> 24), byte(s >> 16), byte(s >> 8), byte(s)})
}

// flipAt corrupts one byte of a stream at the given offset.
type flipAt struct {
	r   io.ReadCloser
	off int64
	pos int64
}

func (f *flipAt) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	for i := 0; i < n; i++ {
		if f.pos+int64(i) == f.off {
			p[i] ^= 0x20
		}
	}
	f.pos += int64(n)
	return n, err
}
func (f *flipAt) Close() error { return f.r.Close() }

func TestMinioSignerRoundTrips(t *testing.T) {
	ts := newTestServer(t, nil)
	data := payload(200 << 10) // several 64 KiB chunks
	sum := sha256.Sum256(data)

	tests := []struct {
		name    string
		req     func(t *testing.T, path string) *http.Request
		mode    PayloadMode
		wantErr string // S3 code; "" = stored
	}{
		{"signed sha256", func(t *testing.T, p string) *http.Request {
			r := newReq(t, "PUT", ts.URL+p, data)
			r.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
			r.Header.Set("Content-Md5", base64.StdEncoding.EncodeToString(md5sum(data)))
			return signer.SignV4(*r, testAK, testSecret, "", "us-east-1")
		}, SignedSHA256, ""},
		{"unsigned payload with crc32", func(t *testing.T, p string) *http.Request {
			r := newReq(t, "PUT", ts.URL+p+"?x-id=PutObject", data)
			r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
			r.Header.Set("X-Amz-Checksum-Crc32", b64crc32(data))
			return signer.SignV4(*r, testAK, testSecret, "", "us-east-1")
		}, Unsigned, ""},
		{"key needing encoding", func(t *testing.T, p string) *http.Request {
			r := newReq(t, "PUT", ts.URL+p+"/%C3%A9t%C3%A9%20%2B%20(1)%21~*'.jpg?tagging=&partNumber=1&uploadId=a%2Fb", data)
			r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
			r.Header.Set("X-Amz-Meta-Note", "  two   spaces  ")
			return signer.SignV4(*r, testAK, testSecret, "", "us-east-1")
		}, Unsigned, ""},
		{"session token", func(t *testing.T, p string) *http.Request {
			r := newReq(t, "PUT", ts.URL+p, data)
			r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
			return signer.SignV4(*r, tempAK, tempSecret, tempToken, "us-east-1")
		}, Unsigned, ""},
		{"presigned put", func(t *testing.T, p string) *http.Request {
			r := newReq(t, "PUT", ts.URL+p, data)
			return signer.PreSignV4(*r, testAK, testSecret, "", "us-east-1", 300)
		}, Unsigned, ""},
		{"presigned put with token", func(t *testing.T, p string) *http.Request {
			r := newReq(t, "PUT", ts.URL+p, data)
			return signer.PreSignV4(*r, tempAK, tempSecret, tempToken, "us-east-1", 300)
		}, Unsigned, ""},
		{"streaming signed", func(t *testing.T, p string) *http.Request {
			r := newReq(t, "PUT", ts.URL+p, data)
			return signer.StreamingSignV4(r, testAK, testSecret, "", "us-east-1", int64(len(data)), time.Now().UTC(), sha256Hasher{sha256.New()})
		}, StreamingSigned, ""},
		{"streaming signed, empty body", func(t *testing.T, p string) *http.Request {
			r := newReq(t, "PUT", ts.URL+p, nil)
			return signer.StreamingSignV4(r, testAK, testSecret, "", "us-east-1", 0, time.Now().UTC(), sha256Hasher{sha256.New()})
		}, StreamingSigned, ""},
		{"streaming signed with token", func(t *testing.T, p string) *http.Request {
			r := newReq(t, "PUT", ts.URL+p, data)
			return signer.StreamingSignV4(r, tempAK, tempSecret, tempToken, "us-east-1", int64(len(data)), time.Now().UTC(), sha256Hasher{sha256.New()})
		}, StreamingSigned, ""},
		{"streaming signed trailer", func(t *testing.T, p string) *http.Request {
			r := newReq(t, "PUT", ts.URL+p, data)
			r.Trailer = http.Header{"x-amz-checksum-crc32": {b64crc32(data)}}
			return signer.StreamingSignV4(r, testAK, testSecret, "", "us-east-1", int64(len(data)), time.Now().UTC(), sha256Hasher{sha256.New()})
		}, StreamingSignedTrailer, ""},
		{"streaming unsigned trailer", func(t *testing.T, p string) *http.Request {
			r := newReq(t, "PUT", ts.URL+p, data)
			r.Header.Set("X-Amz-Content-Sha256", StreamingUnsigned)
			return signer.SignV4Trailer(*r, testAK, testSecret, "", "us-east-1", http.Header{"x-amz-checksum-crc32": {b64crc32(data)}})
		}, StreamingUnsignedTrailer, ""},

		// Refusals.
		{"wrong secret", func(t *testing.T, p string) *http.Request {
			r := newReq(t, "PUT", ts.URL+p, data)
			r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
			return signer.SignV4(*r, testAK, testSecret+"x", "", "us-east-1")
		}, 0, "SignatureDoesNotMatch"},
		{"unknown key", func(t *testing.T, p string) *http.Request {
			r := newReq(t, "PUT", ts.URL+p, data)
			r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
			return signer.SignV4(*r, "nobody", testSecret, "", "us-east-1")
		}, 0, "InvalidAccessKeyId"},
		{"wrong region", func(t *testing.T, p string) *http.Request {
			r := newReq(t, "PUT", ts.URL+p, data)
			r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
			return signer.SignV4(*r, testAK, testSecret, "", "eu-west-1")
		}, 0, "AuthorizationHeaderMalformed"},
		{"missing session token", func(t *testing.T, p string) *http.Request {
			r := newReq(t, "PUT", ts.URL+p, data)
			r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
			return signer.SignV4(*r, tempAK, tempSecret, "", "us-east-1")
		}, 0, "MissingSecurityHeader"},
		{"forged session token", func(t *testing.T, p string) *http.Request {
			r := newReq(t, "PUT", ts.URL+p, data)
			r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
			return signer.SignV4(*r, tempAK, tempSecret, "forged", "us-east-1")
		}, 0, "InvalidToken"},
		{"token with a static key", func(t *testing.T, p string) *http.Request {
			r := newReq(t, "PUT", ts.URL+p, data)
			r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
			return signer.SignV4(*r, testAK, testSecret, "some-token", "us-east-1")
		}, 0, "InvalidToken"},
		{"body does not match signed sha256", func(t *testing.T, p string) *http.Request {
			r := newReq(t, "PUT", ts.URL+p, data)
			r.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
			r = signer.SignV4(*r, testAK, testSecret, "", "us-east-1")
			r.Body = &flipAt{r: r.Body, off: 1000}
			return r
		}, 0, "XAmzContentSHA256Mismatch"},
		{"bad content-md5", func(t *testing.T, p string) *http.Request {
			r := newReq(t, "PUT", ts.URL+p, data)
			r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
			r.Header.Set("Content-Md5", base64.StdEncoding.EncodeToString(md5sum(data[1:])))
			return signer.SignV4(*r, testAK, testSecret, "", "us-east-1")
		}, 0, "BadDigest"},
		{"malformed content-md5", func(t *testing.T, p string) *http.Request {
			r := newReq(t, "PUT", ts.URL+p, data)
			r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
			r.Header.Set("Content-Md5", "not base64")
			return signer.SignV4(*r, testAK, testSecret, "", "us-east-1")
		}, 0, "InvalidDigest"},
		{"bad crc32 header", func(t *testing.T, p string) *http.Request {
			r := newReq(t, "PUT", ts.URL+p, data)
			r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
			r.Header.Set("X-Amz-Checksum-Crc32", b64crc32(data[1:]))
			return signer.SignV4(*r, testAK, testSecret, "", "us-east-1")
		}, 0, "BadDigest"},
		{"bad chunk signature", func(t *testing.T, p string) *http.Request {
			r := newReq(t, "PUT", ts.URL+p, data)
			r = signer.StreamingSignV4(r, testAK, testSecret, "", "us-east-1", int64(len(data)), time.Now().UTC(), sha256Hasher{sha256.New()})
			r.Body = &flipAt{r: r.Body, off: 70000} // inside the second chunk's data
			return r
		}, 0, "SignatureDoesNotMatch"},
		{"bad chunk in last chunk", func(t *testing.T, p string) *http.Request {
			r := newReq(t, "PUT", ts.URL+p, data)
			r = signer.StreamingSignV4(r, testAK, testSecret, "", "us-east-1", int64(len(data)), time.Now().UTC(), sha256Hasher{sha256.New()})
			r.Body = &flipAt{r: r.Body, off: r.ContentLength - 100}
			return r
		}, 0, "SignatureDoesNotMatch"},
		{"bad trailer checksum (signed)", func(t *testing.T, p string) *http.Request {
			r := newReq(t, "PUT", ts.URL+p, data)
			r.Trailer = http.Header{"x-amz-checksum-crc32": {b64crc32(data[1:])}}
			return signer.StreamingSignV4(r, testAK, testSecret, "", "us-east-1", int64(len(data)), time.Now().UTC(), sha256Hasher{sha256.New()})
		}, 0, "BadDigest"},
		{"tampered trailer (signed)", func(t *testing.T, p string) *http.Request {
			r := newReq(t, "PUT", ts.URL+p, data)
			r.Trailer = http.Header{"x-amz-checksum-crc32": {b64crc32(data)}}
			r = signer.StreamingSignV4(r, testAK, testSecret, "", "us-east-1", int64(len(data)), time.Now().UTC(), sha256Hasher{sha256.New()})
			// The trailer line ends ~100 bytes before the end: flip a checksum character.
			r.Body = &flipAt{r: r.Body, off: r.ContentLength - 100}
			return r
		}, 0, "SignatureDoesNotMatch"},
		{"unsigned x-amz header added", func(t *testing.T, p string) *http.Request {
			r := newReq(t, "PUT", ts.URL+p, data)
			r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
			r = signer.SignV4(*r, testAK, testSecret, "", "us-east-1")
			r.Header.Set("X-Amz-Meta-Injected", "1")
			return r
		}, 0, "AccessDenied"},
		{"unsigned x-amz header on presigned", func(t *testing.T, p string) *http.Request {
			r := newReq(t, "PUT", ts.URL+p, data)
			r = signer.PreSignV4(*r, testAK, testSecret, "", "us-east-1", 300)
			r.Header.Set("X-Amz-Checksum-Crc32", b64crc32(data))
			return r
		}, 0, "AccessDenied"},
		{"bad trailer checksum (unsigned)", func(t *testing.T, p string) *http.Request {
			r := newReq(t, "PUT", ts.URL+p, data)
			r.Header.Set("X-Amz-Content-Sha256", StreamingUnsigned)
			return signer.SignV4Trailer(*r, testAK, testSecret, "", "us-east-1", http.Header{"x-amz-checksum-crc32": {b64crc32(data[1:])}})
		}, 0, "BadDigest"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := fmt.Sprintf("/bucket/obj%d", i)
			r := tt.req(t, path)
			status, code := do(t, r)
			stored, ok := ts.get(r.URL.Path)
			if tt.wantErr == "" {
				if status != 200 {
					t.Fatalf("status %d %s", status, code)
				}
				want := data
				if strings.Contains(tt.name, "empty") {
					want = []byte{}
				}
				if !ok || !bytes.Equal(stored, want) {
					t.Fatalf("stored %d bytes (ok=%v), want %d identical", len(stored), ok, len(want))
				}
				ts.mu.Lock()
				mode := ts.last.Payload
				ts.mu.Unlock()
				if mode != tt.mode {
					t.Fatalf("payload mode %v, want %v", mode, tt.mode)
				}
				return
			}
			if status < 400 || ok {
				t.Fatalf("status %d, stored=%v; want refusal %s", status, ok, tt.wantErr)
			}
			if tt.wantErr != "*" && code != tt.wantErr {
				t.Fatalf("code %q, want %q", code, tt.wantErr)
			}
		})
	}
}

func md5sum(b []byte) []byte {
	s := md5.Sum(b)
	return s[:]
}

func TestPresignedRefusals(t *testing.T) {
	var now time.Time
	ts := newTestServer(t, func() time.Time { return now })
	signedAt := time.Now().UTC()
	now = signedAt
	r := newReq(t, "GET", ts.URL+"/bucket/key.jpg", nil)
	// PreSignV4 stamps the current time; the server's clock is moved instead.
	u := signer.PreSignV4(*r, testAK, testSecret, "", "us-east-1", 600).URL.String()

	get := func(u string) string {
		r, err := http.NewRequest("GET", u, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, code := do(t, r)
		return code
	}
	if code := get(u); code != "" {
		t.Fatalf("fresh URL refused: %s", code)
	}
	tamper := func(f func(q url.Values)) string {
		pu, _ := url.Parse(u)
		q := pu.Query()
		f(q)
		pu.RawQuery = q.Encode()
		return pu.String()
	}
	for _, tt := range []struct {
		name string
		u    string
		now  time.Time
		want string
	}{
		{"tampered expiry", tamper(func(q url.Values) { q.Set("X-Amz-Expires", "6000") }), signedAt, "SignatureDoesNotMatch"},
		{"tampered key", strings.Replace(u, "key.jpg", "kez.jpg", 1), signedAt, "SignatureDoesNotMatch"},
		{"added parameter", u + "&uploads", signedAt, "SignatureDoesNotMatch"},
		{"tampered signature", tamper(func(q url.Values) {
			s := []byte(q.Get("X-Amz-Signature"))
			s[0] = "01"[(s[0]-'0'+1)%2&1]
			q.Set("X-Amz-Signature", string(s))
		}), signedAt, "SignatureDoesNotMatch"},
		{"expired", u, signedAt.Add(601 * time.Second), "AccessDenied"},
		{"server 20 min behind", u, signedAt.Add(-20 * time.Minute), "RequestTimeTooSkewed"},
		{"over a week", tamper(func(q url.Values) { q.Set("X-Amz-Expires", "604801") }), signedAt, "AuthorizationQueryParametersError"},
		{"no signature", tamper(func(q url.Values) { q.Del("X-Amz-Signature") }), signedAt, "AuthorizationQueryParametersError"},
		{"sigv2", ts.URL + "/bucket/key.jpg?AWSAccessKeyId=x&Expires=1&Signature=abc", signedAt, "InvalidRequest"},
		{"anonymous", ts.URL + "/bucket/key.jpg", signedAt, "AccessDenied"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			now = tt.now
			if code := get(tt.u); code != tt.want {
				t.Fatalf("code %q, want %q", code, tt.want)
			}
		})
	}
}

func TestHeaderSkew(t *testing.T) {
	var now time.Time
	ts := newTestServer(t, func() time.Time { return now })
	for _, tt := range []struct {
		skew time.Duration
		want string
	}{
		{0, ""},
		{14 * time.Minute, ""},
		{-14 * time.Minute, ""},
		{20 * time.Minute, "RequestTimeTooSkewed"},
		{-20 * time.Minute, "RequestTimeTooSkewed"},
	} {
		r := newReq(t, "PUT", ts.URL+"/bucket/skew", []byte("x"))
		r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
		r = signer.SignV4(*r, testAK, testSecret, "", "us-east-1")
		now = time.Now().Add(tt.skew)
		if _, code := do(t, r); code != tt.want {
			t.Errorf("skew %v: code %q, want %q", tt.skew, code, tt.want)
		}
	}
	// Skew is checked before the key is looked up: an unknown key 20 min off
	// gets RequestTimeTooSkewed, not InvalidAccessKeyId.
	r := newReq(t, "PUT", ts.URL+"/bucket/skew", []byte("x"))
	r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
	r = signer.SignV4(*r, "nobody", testSecret, "", "us-east-1")
	now = time.Now().Add(20 * time.Minute)
	if _, code := do(t, r); code != "RequestTimeTooSkewed" {
		t.Errorf("unknown key with skew: %q", code)
	}
}

func TestSTSFormBody(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.service = "sts"
	form := "Action=AssumeRole&Version=2011-06-15&DurationSeconds=900"
	sum := sha256.Sum256([]byte(form))
	r := newReq(t, "POST", ts.URL+"/", []byte(form))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:])) // the signer removes it
	r = signer.SignV4STS(*r, testAK, testSecret, "us-east-1")
	if r.Header.Get("X-Amz-Content-Sha256") != "" {
		t.Fatal("signer kept x-amz-content-sha256")
	}
	if status, code := do(t, r); status != 200 {
		t.Fatalf("STS request refused: %d %s", status, code)
	}
	if got, _ := ts.get("/"); string(got) != form {
		t.Fatalf("form body after Verify: %q", got)
	}
	// An s3-scoped signature is not valid for sts.
	r = newReq(t, "POST", ts.URL+"/", []byte(form))
	r.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
	r = signer.SignV4(*r, testAK, testSecret, "", "us-east-1")
	if _, code := do(t, r); code != "AuthorizationHeaderMalformed" {
		t.Fatalf("s3 scope on sts: %q", code)
	}
}

// TestBodyErrorIsSticky: after a failed check every Read returns the error;
// none returns io.EOF.
func TestBodyErrorIsSticky(t *testing.T) {
	a := &Auth{Payload: SignedSHA256, PayloadHash: EmptySHA256, DecodedLength: -1}
	r := httptest.NewRequest("PUT", "http://h/b/k", strings.NewReader("not empty"))
	rc, err := a.Body(r)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(rc)
	if !errors.Is(err, ErrXAmzContentSHA256Mismatch) {
		t.Fatalf("first: %v", err)
	}
	for range 3 {
		if n, err := rc.Read(make([]byte, 10)); n != 0 || !errors.Is(err, ErrXAmzContentSHA256Mismatch) {
			t.Fatalf("later read: %d %v", n, err)
		}
	}
}
