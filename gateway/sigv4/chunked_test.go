package sigv4

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

var (
	chunkDate  = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	chunkScope = Scope(chunkDate, "us-east-1", "s3")
	chunkKey   = SigningKey(testSecret, chunkDate, "us-east-1", "s3")
	chunkSeed  = strings.Repeat("ab", 32)
)

// encodeSigned builds a signed aws-chunked body of data cut at the given
// chunk sizes, with an optional signed trailer.
func encodeSigned(data []byte, sizes []int, trailer string) []byte {
	var b bytes.Buffer
	prev := chunkSeed
	chunk := func(p []byte) {
		s := sha256.Sum256(p)
		sig := Signature(chunkKey, ChunkStringToSign(chunkDate, chunkScope, prev, hex.EncodeToString(s[:])))
		prev = sig
		fmt.Fprintf(&b, "%x;chunk-signature=%s\r\n", len(p), sig)
		if len(p) > 0 || trailer == "" {
			b.Write(p)
			b.WriteString("\r\n")
		}
	}
	for len(data) > 0 {
		n := len(data)
		if len(sizes) > 0 {
			n = min(sizes[0], n)
			sizes = sizes[1:]
		}
		if n <= 0 {
			n = 1
		}
		chunk(data[:n])
		data = data[n:]
	}
	chunk(nil)
	if trailer != "" {
		b.WriteString(trailer + "\r\n")
		sig := Signature(chunkKey, TrailerStringToSign(chunkDate, chunkScope, prev, hashHex([]byte(trailer+"\n"))))
		b.WriteString(trailerSigPrefix + sig + "\r\n\r\n")
	}
	return b.Bytes()
}

func signedOpts(decoded int64) ChunkedOptions {
	return ChunkedOptions{Signed: true, SigningKey: chunkKey, Date: chunkDate, Scope: chunkScope, SeedSignature: chunkSeed, DecodedLength: decoded}
}

func TestChunkedReader(t *testing.T) {
	crc := "x-amz-checksum-crc32:" + b64crc32([]byte("hello"))
	tests := []struct {
		name    string
		body    string
		opts    ChunkedOptions
		want    string
		err     error
		trailer string
	}{
		{"unsigned", "5\r\nhello\r\n0\r\n\r\n", ChunkedOptions{DecodedLength: 5}, "hello", nil, ""},
		{"unsigned, unknown length", "2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n", ChunkedOptions{DecodedLength: -1}, "hello", nil, ""},
		{"unsigned extension ignored", "5;foo=bar\r\nhello\r\n0\r\n\r\n", ChunkedOptions{DecodedLength: -1}, "hello", nil, ""},
		{"empty", "0\r\n\r\n", ChunkedOptions{DecodedLength: 0}, "", nil, ""},
		{"trailer, AWS style", "5\r\nhello\r\n0\r\n" + crc + "\r\n\r\n", ChunkedOptions{Trailer: true, Trailers: []string{"x-amz-checksum-crc32"}, DecodedLength: -1}, "hello", nil, b64crc32([]byte("hello"))},
		{"trailer, minio-go style", "5\r\nhello\r\n0\r\n" + crc + "\n\r\n\r\n", ChunkedOptions{Trailer: true, Trailers: []string{"x-amz-checksum-crc32"}, DecodedLength: -1}, "hello", nil, b64crc32([]byte("hello"))},
		{"trailer mode without trailers", "5\r\nhello\r\n0\r\n\r\n", ChunkedOptions{Trailer: true, DecodedLength: 5}, "hello", nil, ""},
		{"signed", string(encodeSigned([]byte("hello world"), []int{4, 7}, "")), signedOpts(11), "hello world", nil, ""},
		{"signed trailer", string(encodeSigned([]byte("hello"), nil, crc)), func() ChunkedOptions {
			o := signedOpts(5)
			o.Trailer, o.Trailers = true, []string{"x-amz-checksum-crc32"}
			return o
		}(), "hello", nil, b64crc32([]byte("hello"))},

		{"no final chunk", "5\r\nhello\r\n", ChunkedOptions{DecodedLength: -1}, "", ErrIncompleteBody, ""},
		{"truncated data", "5\r\nhel", ChunkedOptions{DecodedLength: -1}, "", ErrIncompleteBody, ""},
		{"data longer than size", "3\r\nhello\r\n0\r\n\r\n", ChunkedOptions{DecodedLength: -1}, "", ErrMalformedChunk, ""},
		{"LF only", "5\nhello\r\n0\r\n\r\n", ChunkedOptions{DecodedLength: -1}, "", ErrMalformedChunk, ""},
		{"not hex", "x\r\nhello\r\n0\r\n\r\n", ChunkedOptions{DecodedLength: -1}, "", ErrMalformedChunk, ""},
		{"size overflow", "fffffffffffffffff\r\n", ChunkedOptions{DecodedLength: -1}, "", ErrMalformedChunk, ""},
		{"chunk too large", "ffffffff\r\n", ChunkedOptions{DecodedLength: -1}, "", ErrInvalidArgument, ""},
		{"longer than decoded length", "5\r\nhello\r\n0\r\n\r\n", ChunkedOptions{DecodedLength: 4}, "", ErrInvalidArgument, ""},
		{"shorter than decoded length", "5\r\nhello\r\n0\r\n\r\n", ChunkedOptions{DecodedLength: 6}, "", ErrIncompleteBody, ""},
		{"garbage after end", "5\r\nhello\r\n0\r\n\r\nX", ChunkedOptions{DecodedLength: -1}, "", ErrMalformedChunk, ""},
		{"no CRLF after final", "5\r\nhello\r\n0\r\nX\r\n", ChunkedOptions{DecodedLength: -1}, "", ErrMalformedChunk, ""},
		{"long line", strings.Repeat("0", 5000) + "\r\n", ChunkedOptions{DecodedLength: -1}, "", ErrMalformedChunk, ""},
		{"undeclared trailer", "5\r\nhello\r\n0\r\nx-amz-checksum-sha1:AAAA\r\n\r\n", ChunkedOptions{Trailer: true, Trailers: []string{"x-amz-checksum-crc32"}, DecodedLength: -1}, "", ErrMalformedTrailer, ""},
		{"missing declared trailer", "5\r\nhello\r\n0\r\n\r\n", ChunkedOptions{Trailer: true, Trailers: []string{"x-amz-checksum-crc32"}, DecodedLength: -1}, "", ErrMalformedTrailer, ""},
		{"repeated trailer", "5\r\nhello\r\n0\r\n" + crc + "\r\n" + crc + "\r\n\r\n", ChunkedOptions{Trailer: true, Trailers: []string{"x-amz-checksum-crc32"}, DecodedLength: -1}, "", ErrMalformedTrailer, ""},
		{"trailer without colon", "5\r\nhello\r\n0\r\nx-amz-checksum-crc32\r\n\r\n", ChunkedOptions{Trailer: true, Trailers: []string{"x-amz-checksum-crc32"}, DecodedLength: -1}, "", ErrMalformedTrailer, ""},
		{"signed without signature", "5\r\nhello\r\n0\r\n\r\n", signedOpts(5), "", ErrMalformedChunk, ""},
		{"signed, wrong seed", string(encodeSigned([]byte("hello"), nil, "")), func() ChunkedOptions {
			o := signedOpts(5)
			o.SeedSignature = strings.Repeat("cd", 32)
			return o
		}(), "", ErrSignatureDoesNotMatch, ""},
		{"signed, chunks reordered", func() string {
			// Valid chunks, but the final chunk is dropped: the chain breaks.
			b := encodeSigned([]byte("hello world"), []int{5, 6}, "")
			i := bytes.LastIndex(b, []byte("0;chunk-signature="))
			return string(b[:i]) + string(encodeSigned(nil, nil, "")[0:])
		}(), signedOpts(11), "", ErrSignatureDoesNotMatch, ""},
		{"signed trailer, tampered value", strings.Replace(string(encodeSigned([]byte("hello"), nil, crc)), crc, "x-amz-checksum-crc32:AAAAAA==", 1), func() ChunkedOptions {
			o := signedOpts(5)
			o.Trailer, o.Trailers = true, []string{"x-amz-checksum-crc32"}
			return o
		}(), "", ErrSignatureDoesNotMatch, ""},
		{"signed trailer, no signature", "0;chunk-signature=" + strings.Repeat("0", 64) + "\r\n" + crc + "\r\n\r\n", func() ChunkedOptions {
			o := signedOpts(0)
			o.Trailer, o.Trailers = true, []string{"x-amz-checksum-crc32"}
			return o
		}(), "", ErrSignatureDoesNotMatch, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, oneByte := range []bool{false, true} {
				var src io.Reader = strings.NewReader(tt.body)
				if oneByte {
					src = iotest.OneByteReader(src)
				}
				cr := NewChunkedReader(src, tt.opts)
				got, err := io.ReadAll(cr)
				if tt.err != nil {
					if !errors.Is(err, tt.err) {
						t.Fatalf("err %v, want %v", err, tt.err)
					}
					if cr.Trailers() != nil {
						t.Fatal("trailers after an error")
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != tt.want {
					t.Fatalf("got %q", got)
				}
				if tt.trailer != "" && cr.Trailers().Get("x-amz-checksum-crc32") != tt.trailer {
					t.Fatalf("trailers %v", cr.Trailers())
				}
			}
		})
	}
}

func FuzzChunkedReader(f *testing.F) {
	f.Add([]byte("5\r\nhello\r\n0\r\n\r\n"), uint8(0), []byte{3, 1})
	f.Add([]byte("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"), uint8(2), []byte{})
	f.Add(encodeSigned([]byte("hello world"), []int{4, 7}, ""), uint8(1), []byte{1, 2, 3})
	f.Add(encodeSigned([]byte("hello"), nil, "x-amz-checksum-crc32:NhCmhg=="), uint8(3), []byte{5})
	f.Fuzz(func(t *testing.T, body []byte, mode uint8, cuts []byte) {
		opts := ChunkedOptions{DecodedLength: -1, MaxChunkSize: 1 << 16}
		if mode&1 != 0 {
			opts = signedOpts(-1)
			opts.MaxChunkSize = 1 << 16
		}
		if mode&2 != 0 {
			opts.Trailer, opts.Trailers = true, []string{"x-amz-checksum-crc32"}
		}
		if mode&4 != 0 {
			opts.DecodedLength = int64(len(body) / 2)
		}
		// 1. Arbitrary bytes: no panic, no hang, errors are S3 errors, and a
		// clean end decodes no more than the input.
		cr := NewChunkedReader(bytes.NewReader(body), opts)
		out, err := io.ReadAll(cr)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status == 0 {
				t.Fatalf("not an S3 error: %v", err)
			}
		} else if len(out) > len(body) {
			t.Fatalf("decoded %d bytes from %d", len(out), len(body))
		}
		// 2. Round trip: body as the payload, cut into chunks, must decode
		// exactly; one flipped byte of the signed stream must not.
		sizes := make([]int, len(cuts))
		for i, c := range cuts {
			sizes[i] = int(c) + 1
		}
		enc := encodeSigned(body, sizes, "")
		cr = NewChunkedReader(iotest.HalfReader(bytes.NewReader(enc)), signedOpts(int64(len(body))))
		out, err = io.ReadAll(cr)
		if err != nil || !bytes.Equal(out, body) {
			t.Fatalf("round trip: %v, %d of %d bytes", err, len(out), len(body))
		}
		if len(enc) > 0 {
			i := int(mode) * 7919 % len(enc)
			enc[i] ^= 1
			_, err = io.ReadAll(NewChunkedReader(bytes.NewReader(enc), signedOpts(int64(len(body)))))
			if err == nil {
				t.Fatalf("flipped byte %d of %d accepted", i, len(enc))
			}
		}
	})
}
