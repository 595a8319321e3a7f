package sigv4

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"strings"
)

// Checksum header names S3 defines (x-amz-checksum-*), in lower case.
var ChecksumHeaders = []string{
	"x-amz-checksum-crc32",
	"x-amz-checksum-crc32c",
	"x-amz-checksum-crc64nvme",
	"x-amz-checksum-sha1",
	"x-amz-checksum-sha256",
}

var (
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
	// CRC-64/NVME: reflected polynomial 0x9a6c9329ac4bc9b5, init and xorout all ones,
	// which is exactly what hash/crc64 computes with this table.
	nvme = crc64.MakeTable(0x9a6c9329ac4bc9b5)
)

// NewChecksum returns the hash behind an x-amz-checksum-* header name (lower
// case) and the length of its digest, or ok=false for an unknown name.
func NewChecksum(header string) (h hash.Hash, size int, ok bool) {
	switch header {
	case "x-amz-checksum-crc32":
		return crc32.NewIEEE(), 4, true
	case "x-amz-checksum-crc32c":
		return crc32.New(castagnoli), 4, true
	case "x-amz-checksum-crc64nvme":
		return crc64.New(nvme), 8, true
	case "x-amz-checksum-sha1":
		return sha1.New(), sha1.Size, true
	case "x-amz-checksum-sha256":
		return sha256.New(), sha256.Size, true
	}
	return nil, 0, false
}

// check is one digest computed over the decoded body.
type check struct {
	name    string // header name, "content-md5" or "x-amz-content-sha256"
	h       hash.Hash
	want    []byte // nil: expected value comes from the trailer
	trailer bool
}

// BodyReader is the reader Auth.Body returns.
type BodyReader struct {
	src     io.Reader
	body    io.Closer
	chunked *ChunkedReader
	checks  []*check
	sums    map[string]string
	err     error
}

// BodyOption changes what Auth.Body verifies.
type BodyOption func(*bodyOptions)

type bodyOptions struct {
	skipContentMD5 bool
}

// ContentMD5CheckedElsewhere makes Body skip the Content-MD5 digest: for
// callers that hand the header to a component that checks it (a storage
// backend that stores nothing on a mismatch), so each byte is hashed once
// less. The header stays covered by the signature.
func ContentMD5CheckedElsewhere() BodyOption {
	return func(o *bodyOptions) { o.skipContentMD5 = true }
}

// Body returns a reader over the decoded payload of r that verifies, as it
// streams: the signed SHA-256 (SignedSHA256), the aws-chunked framing, chunk
// and trailer signatures and decoded length (streaming modes), Content-MD5
// and x-amz-checksum-* in headers and in the trailer. Read returns the first
// failed check as an *Error instead of io.EOF, so a backend streaming from it
// aborts and stores nothing. Malformed checksum headers are refused here,
// before any byte is read.
func (a *Auth) Body(r *http.Request, opts ...BodyOption) (io.ReadCloser, error) {
	var o bodyOptions
	for _, opt := range opts {
		opt(&o)
	}
	br := &BodyReader{}
	var src io.Reader = http.NoBody
	if r.Body != nil {
		src = r.Body
		br.body = r.Body
	}

	checks, err := headerChecks(r.Header, o)
	if err != nil {
		return nil, err
	}
	br.checks = checks
	var declared []string
	for _, v := range r.Header.Values("X-Amz-Trailer") {
		for name := range strings.SplitSeq(v, ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			if name == "" {
				continue
			}
			h, _, ok := NewChecksum(name)
			if !ok {
				return nil, ErrInvalidArgument.Withf("The trailer %q in x-amz-trailer is not supported.", printable(name))
			}
			if contains(declared, name) {
				return nil, ErrInvalidArgument.With("x-amz-trailer names a header twice.")
			}
			declared = append(declared, name)
			br.checks = append(br.checks, &check{name: name, h: h, trailer: true})
		}
	}
	trailer := a.Payload == StreamingSignedTrailer || a.Payload == StreamingUnsignedTrailer
	if len(declared) > 0 && !trailer {
		return nil, ErrInvalidRequest.With("x-amz-trailer requires x-amz-content-sha256 STREAMING-UNSIGNED-PAYLOAD-TRAILER or STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER.")
	}

	switch a.Payload {
	case Unsigned:
	case SignedSHA256:
		want, err := hex.DecodeString(a.PayloadHash)
		if err != nil || len(want) != sha256.Size {
			return nil, ErrInvalidArgument.With("x-amz-content-sha256 is not a valid sha256 value.")
		}
		br.checks = append(br.checks, &check{name: "x-amz-content-sha256", h: sha256.New(), want: want})
	case StreamingSigned, StreamingSignedTrailer, StreamingUnsignedTrailer:
		signed := a.Payload != StreamingUnsignedTrailer
		if signed && a.signingKey == nil {
			return nil, ErrInternal.Wrap(errors.New("sigv4: Body called on an Auth without a signing key"))
		}
		br.chunked = NewChunkedReader(src, ChunkedOptions{
			Signed:        signed,
			Trailer:       trailer,
			Trailers:      declared,
			SigningKey:    a.signingKey,
			Date:          a.Date,
			Scope:         a.scope,
			SeedSignature: a.Signature,
			DecodedLength: a.DecodedLength,
		})
		src = br.chunked
	default:
		return nil, ErrInternal.Wrap(fmt.Errorf("sigv4: unknown payload mode %d", a.Payload))
	}
	br.src = src
	return br, nil
}

// headerChecks returns the digests announced in headers: Content-MD5 (unless
// checked elsewhere) and x-amz-checksum-*. Malformed values are refused.
func headerChecks(hdr http.Header, o bodyOptions) ([]*check, error) {
	var checks []*check
	if v := hdr.Values("Content-Md5"); len(v) > 0 && !o.skipContentMD5 {
		want, err := base64.StdEncoding.Strict().DecodeString(v[0])
		if len(v) != 1 || err != nil || len(want) != md5.Size {
			return nil, ErrInvalidDigest
		}
		checks = append(checks, &check{name: "content-md5", h: md5.New(), want: want})
	}
	for _, name := range ChecksumHeaders {
		v := hdr.Values(name)
		if len(v) == 0 {
			continue
		}
		h, size, _ := NewChecksum(name)
		want, err := base64.StdEncoding.Strict().DecodeString(v[0])
		if len(v) != 1 || err != nil || len(want) != size {
			return nil, ErrInvalidRequest.Withf("Value for %s header is invalid.", name)
		}
		checks = append(checks, &check{name: name, h: h, want: want})
	}
	return checks, nil
}

// Read implements io.Reader.
func (b *BodyReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.src.Read(p)
	if n > 0 {
		for _, c := range b.checks {
			c.h.Write(p[:n])
		}
	}
	switch {
	case err == nil:
	case err == io.EOF:
		err = b.finish()
		b.err = err
	default:
		var e *Error
		if !errors.As(err, &e) {
			err = ErrIncompleteBody.Wrap(fmt.Errorf("sigv4: read body: %w", err))
		}
		b.err = err
	}
	return n, err
}

// finish compares every digest once the decoded body has ended.
func (b *BodyReader) finish() error {
	var trailers http.Header
	if b.chunked != nil {
		trailers = b.chunked.Trailers()
	}
	sums := make(map[string]string, len(b.checks))
	for _, c := range b.checks {
		got := c.h.Sum(nil)
		want := c.want
		if c.trailer {
			v := trailers.Get(c.name)
			w, err := base64.StdEncoding.Strict().DecodeString(v)
			if v == "" || err != nil || len(w) != len(got) {
				return ErrInvalidRequest.Withf("Value for %s trailing header is invalid.", c.name)
			}
			want = w
		}
		if !bytes.Equal(got, want) {
			switch c.name {
			case "content-md5":
				return ErrBadDigest
			case "x-amz-content-sha256":
				return ErrXAmzContentSHA256Mismatch
			default:
				return ErrChecksumMismatch.Withf("The %s you specified did not match the calculated checksum.", strings.ToUpper(strings.TrimPrefix(c.name, "x-amz-checksum-")))
			}
		}
		if strings.HasPrefix(c.name, "x-amz-checksum-") {
			sums[c.name] = base64.StdEncoding.EncodeToString(got)
		}
	}
	b.sums = sums
	return io.EOF
}

// Checksums returns the verified x-amz-checksum-* values (header name →
// base64) once Read has returned io.EOF, for echoing in the response.
func (b *BodyReader) Checksums() map[string]string { return b.sums }

// Close closes the request body.
func (b *BodyReader) Close() error {
	if b.body == nil {
		return nil
	}
	if err := b.body.Close(); err != nil {
		return fmt.Errorf("sigv4: close body: %w", err)
	}
	return nil
}

// StoredContentEncoding returns the Content-Encoding to store with an
// object: the request's value without the "aws-chunked" transport coding
// (S3 removes it), "" if nothing remains.
func StoredContentEncoding(contentEncoding string) string {
	var keep []string
	for v := range strings.SplitSeq(contentEncoding, ",") {
		v = strings.TrimSpace(v)
		if v != "" && !strings.EqualFold(v, "aws-chunked") {
			keep = append(keep, v)
		}
	}
	return strings.Join(keep, ",")
}
