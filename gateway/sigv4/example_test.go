package sigv4_test

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/imgate/imgate/gateway/sigv4"
)

// Verify a request, then stream its body: the body reader fails instead of
// ending cleanly if any check (payload hash, chunk signature, checksum) fails.
// The request is AWS's documented "PUT object" example.
func ExampleVerifier_Verify() {
	v := &sigv4.Verifier{
		Region: "us-east-1",
		Now:    func() time.Time { return time.Date(2013, 5, 24, 0, 1, 0, 0, time.UTC) },
		Lookup: func(ctx context.Context, ak string) (sigv4.Credential, error) {
			if ak != "AKIAIOSFODNN7EXAMPLE" {
				return sigv4.Credential{}, fmt.Errorf("%q: %w", ak, sigv4.ErrUnknownAccessKey)
			}
			return sigv4.Credential{AccessKey: ak, SecretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}, nil
		},
	}
	r := httptest.NewRequest("PUT", "http://examplebucket.s3.amazonaws.com/test$file.text", strings.NewReader("Welcome to Amazon S3."))
	r.Header.Set("Date", "Fri, 24 May 2013 00:00:00 GMT")
	r.Header.Set("X-Amz-Date", "20130524T000000Z")
	r.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
	r.Header.Set("X-Amz-Content-Sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"+
		"SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"+
		"Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")

	a, err := v.Verify(r.Context(), r, "s3")
	if err != nil {
		e := sigv4.AsError(err)
		fmt.Println(e.Status, e.Code, e.Message)
		return
	}
	body, err := a.Body(r)
	if err != nil {
		fmt.Println(sigv4.AsError(err).Code)
		return
	}
	defer body.Close()
	data, err := io.ReadAll(body) // a storage backend would stream instead
	fmt.Println(a.AccessKey, a.Payload, string(data), err)
	// Output: AKIAIOSFODNN7EXAMPLE SHA256 Welcome to Amazon S3. <nil>
}
