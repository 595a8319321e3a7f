package sigv4

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The examples below are AWS's published SigV4 examples (the sigv4 test
// suite's get-vanilla and the S3 "Signature Calculations" pages); their
// signatures are documented facts, reproduced here independently.

const (
	exampleAK     = "AKIAIOSFODNN7EXAMPLE"
	exampleSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

func exampleVerifier(now time.Time) *Verifier {
	return &Verifier{
		Region: "us-east-1",
		Now:    func() time.Time { return now },
		Lookup: func(ctx context.Context, ak string) (Credential, error) {
			if ak == exampleAK {
				return Credential{AccessKey: ak, SecretKey: exampleSecret}, nil
			}
			return Credential{}, fmt.Errorf("test: %w", ErrUnknownAccessKey)
		},
	}
}

func TestGetVanilla(t *testing.T) {
	date := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	r := httptest.NewRequest("GET", "http://example.amazonaws.com/", nil)
	r.Header.Set("X-Amz-Date", "20150830T123600Z")
	signed := []string{"host", "x-amz-date"}
	creq := CanonicalRequest("GET", CanonicalURI(r.URL.Path), CanonicalQuery(r.URL.RawQuery), CanonicalHeaders(r, signed), signed, EmptySHA256)
	wantCreq := "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" + EmptySHA256
	if creq != wantCreq {
		t.Fatalf("canonical request:\n%q\nwant\n%q", creq, wantCreq)
	}
	sts := StringToSign(date, Scope(date, "us-east-1", "service"), creq)
	wantSTS := "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
	if sts != wantSTS {
		t.Fatalf("string to sign:\n%q\nwant\n%q", sts, wantSTS)
	}
	key := SigningKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", date, "us-east-1", "service")
	if got, want := Signature(key, sts), "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"; got != want {
		t.Fatalf("signature %s, want %s", got, want)
	}
}

// TestS3Examples verifies the header-auth examples of the S3 SigV4 documentation.
func TestS3Examples(t *testing.T) {
	day := time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name, method, url string
		headers           map[string]string
		signed            string
		body              string
		sig               string
	}{
		{
			name: "GET object", method: "GET", url: "http://examplebucket.s3.amazonaws.com/test.txt",
			headers: map[string]string{"Range": "bytes=0-9", "X-Amz-Content-Sha256": EmptySHA256, "X-Amz-Date": "20130524T000000Z"},
			signed:  "host;range;x-amz-content-sha256;x-amz-date",
			sig:     "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
		},
		{
			name: "PUT object", method: "PUT", url: "http://examplebucket.s3.amazonaws.com/test$file.text",
			headers: map[string]string{
				"Date":                 "Fri, 24 May 2013 00:00:00 GMT",
				"X-Amz-Date":           "20130524T000000Z",
				"X-Amz-Storage-Class":  "REDUCED_REDUNDANCY",
				"X-Amz-Content-Sha256": "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
			},
			signed: "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
			body:   "Welcome to Amazon S3.",
			sig:    "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
		},
		{
			name: "GET bucket lifecycle", method: "GET", url: "http://examplebucket.s3.amazonaws.com/?lifecycle",
			headers: map[string]string{"X-Amz-Content-Sha256": EmptySHA256, "X-Amz-Date": "20130524T000000Z"},
			signed:  "host;x-amz-content-sha256;x-amz-date",
			sig:     "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
		},
		{
			name: "GET bucket list", method: "GET", url: "http://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J",
			headers: map[string]string{"X-Amz-Content-Sha256": EmptySHA256, "X-Amz-Date": "20130524T000000Z"},
			signed:  "host;x-amz-content-sha256;x-amz-date",
			sig:     "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := exampleVerifier(day)
			mk := func(sig, body string) *http.Request {
				r := httptest.NewRequest(tt.method, tt.url, strings.NewReader(body))
				for k, val := range tt.headers {
					r.Header.Set(k, val)
				}
				r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+exampleAK+"/20130524/us-east-1/s3/aws4_request,SignedHeaders="+tt.signed+",Signature="+sig)
				return r
			}
			r := mk(tt.sig, tt.body)
			a, err := v.Verify(context.Background(), r, "s3")
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			rc, err := a.Body(r)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			if err != nil || string(got) != tt.body {
				t.Fatalf("body %q, %v", got, err)
			}
			// One flipped signature digit is refused.
			bad := []byte(tt.sig)
			bad[10] ^= 1
			if _, err := v.Verify(context.Background(), mk(string(bad), tt.body), "s3"); !errors.Is(err, ErrSignatureDoesNotMatch) {
				t.Fatalf("tampered signature: %v", err)
			}
			if tt.body != "" {
				// The signature holds but the body does not match its hash.
				r := mk(tt.sig, tt.body+"!")
				a, err := v.Verify(context.Background(), r, "s3")
				if err != nil {
					t.Fatal(err)
				}
				rc, _ := a.Body(r)
				if _, err := io.ReadAll(rc); !errors.Is(err, ErrXAmzContentSHA256Mismatch) {
					t.Fatalf("tampered body: %v", err)
				}
			}
		})
	}
}

func TestS3PresignedExample(t *testing.T) {
	day := time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)
	const u = "http://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
	for _, tt := range []struct {
		name string
		now  time.Time
		url  string
		want error
	}{
		{"valid", day.Add(time.Hour), u, nil},
		{"last second", day.Add(24 * time.Hour), u, nil},
		{"expired", day.Add(24*time.Hour + time.Second), u, ErrExpiredRequest},
		{"from the future", day.Add(-20 * time.Minute), u, ErrRequestTimeTooSkewed},
		{"tampered path", day, strings.Replace(u, "test.txt", "test.txu", 1), ErrSignatureDoesNotMatch},
		{"tampered expiry", day, strings.Replace(u, "86400", "86401", 1), ErrSignatureDoesNotMatch},
		{"added parameter", day, u + "&x-id=GetObject", ErrSignatureDoesNotMatch},
		{"expiry over a week", day, strings.Replace(u, "86400", "604801", 1), ErrAuthorizationQueryParametersError},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tt.url, nil)
			a, err := exampleVerifier(tt.now).Verify(context.Background(), r, "s3")
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if !a.Presigned || a.Payload != Unsigned || !a.Expires.Equal(day.Add(24*time.Hour)) {
					t.Fatalf("auth %+v", a)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// chunkedExample builds AWS's documented chunked upload: 66560 bytes of 'a'
// in a 64 KiB chunk, a 1 KiB chunk and the final chunk.
func chunkedExample(sigs [3]string) *http.Request {
	var body bytes.Buffer
	fmt.Fprintf(&body, "10000;chunk-signature=%s\r\n%s\r\n", sigs[0], strings.Repeat("a", 65536))
	fmt.Fprintf(&body, "400;chunk-signature=%s\r\n%s\r\n", sigs[1], strings.Repeat("a", 1024))
	fmt.Fprintf(&body, "0;chunk-signature=%s\r\n\r\n", sigs[2])
	r := httptest.NewRequest("PUT", "http://s3.amazonaws.com/examplebucket/chunkObject.txt", &body)
	r.Header.Set("X-Amz-Date", "20130524T000000Z")
	r.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
	r.Header.Set("X-Amz-Content-Sha256", StreamingPayload)
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Decoded-Content-Length", "66560")
	r.Header.Set("Content-Length", "66824")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9")
	return r
}

var exampleChunkSigs = [3]string{
	"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
	"0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
	"b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
}

func TestS3ChunkedExample(t *testing.T) {
	day := time.Date(2013, 5, 24, 0, 5, 0, 0, time.UTC)
	v := exampleVerifier(day)
	r := chunkedExample(exampleChunkSigs)
	if r.ContentLength != 66824 {
		t.Fatalf("example body is %d bytes, the documentation says 66824", r.ContentLength)
	}
	a, err := v.Verify(context.Background(), r, "s3")
	if err != nil {
		t.Fatal(err)
	}
	if a.Payload != StreamingSigned || a.DecodedLength != 66560 {
		t.Fatalf("auth %+v", a)
	}
	rc, err := a.Body(r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != strings.Repeat("a", 66560) {
		t.Fatalf("decoded %d bytes", len(got))
	}

	// Any one bad chunk signature fails the body, never as io.EOF.
	for i := range exampleChunkSigs {
		sigs := exampleChunkSigs
		b := []byte(sigs[i])
		b[63] ^= 1
		sigs[i] = string(b)
		r := chunkedExample(sigs)
		a, err := v.Verify(context.Background(), r, "s3")
		if err != nil {
			t.Fatal(err)
		}
		rc, _ := a.Body(r)
		_, err = io.ReadAll(rc)
		if !errors.Is(err, ErrSignatureDoesNotMatch) {
			t.Fatalf("bad signature of chunk %d: %v", i, err)
		}
	}
}
