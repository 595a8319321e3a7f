package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/minio/minio-go/v7/pkg/signer"
)

// BenchmarkChunkedReaderSigned decodes and verifies a signed aws-chunked
// body of 64 KiB chunks (minio-go's and most SDKs' chunk size).
func BenchmarkChunkedReaderSigned(b *testing.B) {
	data := payload(8 << 20)
	sizes := make([]int, len(data)/(64<<10)+1)
	for i := range sizes {
		sizes[i] = 64 << 10
	}
	enc := encodeSigned(data, sizes, "")
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		n, err := io.Copy(io.Discard, NewChunkedReader(bytes.NewReader(enc), signedOpts(int64(len(data)))))
		if err != nil || n != int64(len(data)) {
			b.Fatal(err)
		}
	}
}

// BenchmarkBodySignedSHA256 verifies a body against x-amz-content-sha256.
func BenchmarkBodySignedSHA256(b *testing.B) {
	data := payload(8 << 20)
	sum := sha256.Sum256(data)
	a := &Auth{Payload: SignedSHA256, PayloadHash: hashHexBytes(sum[:]), DecodedLength: -1}
	b.SetBytes(int64(len(data)))
	for range b.N {
		r := httptest.NewRequest("PUT", "http://h/b/k", bytes.NewReader(data))
		rc, _ := a.Body(r)
		if _, err := io.Copy(io.Discard, rc); err != nil {
			b.Fatal(err)
		}
	}
}

func hashHexBytes(b []byte) string {
	const hexDigits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, hexDigits[c>>4], hexDigits[c&15])
	}
	return string(out)
}

// BenchmarkVerify checks one header-signed request (signing key cached).
func BenchmarkVerify(b *testing.B) {
	v := &Verifier{Region: "us-east-1", Lookup: testLookup}
	r := httptest.NewRequest("PUT", "http://127.0.0.1:9000/bucket/some/key.jpg?x-id=PutObject", nil)
	r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
	r.Header.Set("Content-Type", "image/jpeg")
	r = signer.SignV4(*r, testAK, testSecret, "", "us-east-1")
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		if _, err := v.Verify(ctx, r, "s3"); err != nil {
			b.Fatal(err)
		}
	}
}
