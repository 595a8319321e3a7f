package sigv4

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultMaxChunkSize bounds the size of one aws-chunked chunk. SDKs use
// 8 KiB to 1 MiB; the reader streams, so the bound is not a memory cost.
const DefaultMaxChunkSize = 16 << 20

const (
	maxChunkLine     = 4096 // longest chunk header or trailer line
	maxTrailerLines  = 16
	chunkSigPrefix   = "chunk-signature="
	trailerSigPrefix = "x-amz-trailer-signature:"
)

// ChunkedOptions configure a ChunkedReader.
type ChunkedOptions struct {
	// Signed: every chunk header carries ";chunk-signature=<hex>", verified
	// against the chain that starts at SeedSignature.
	Signed bool
	// Trailer: trailing headers follow the final chunk (the -TRAILER modes);
	// with Signed they end with a verified x-amz-trailer-signature line.
	Trailer bool
	// Trailers are the header names declared in x-amz-trailer (lower case):
	// each must appear exactly once in the trailer, and no other may.
	Trailers []string

	SigningKey    []byte    // the request's signing key (Signed only)
	Date          time.Time // the request's X-Amz-Date (Signed only)
	Scope         string    // the credential scope (Signed only)
	SeedSignature string    // the signature of the request headers (Signed only)

	// DecodedLength is the x-amz-decoded-content-length, or -1 if unknown.
	DecodedLength int64
	// MaxChunkSize bounds one chunk; 0 means DefaultMaxChunkSize.
	MaxChunkSize int64
}

// ChunkedReader decodes an aws-chunked body, verifying chunk signatures,
// chunk framing, the decoded length and the trailer. Read returns the first
// error (an *Error) instead of io.EOF: a body that fails any check never
// reaches a clean end.
type ChunkedReader struct {
	br        *bufio.Reader
	opts      ChunkedOptions
	prevSig   string
	remaining int64  // bytes left in the current chunk's data
	chunkSig  string // the signature claimed for the current chunk
	h         hash.Hash
	total     int64
	inData    bool
	trailers  http.Header
	err       error // sticky: io.EOF when done
}

// NewChunkedReader returns a reader over the decoded payload of r.
func NewChunkedReader(r io.Reader, opts ChunkedOptions) *ChunkedReader {
	if opts.MaxChunkSize <= 0 {
		opts.MaxChunkSize = DefaultMaxChunkSize
	}
	c := &ChunkedReader{br: bufio.NewReaderSize(r, maxChunkLine), opts: opts, prevSig: opts.SeedSignature}
	if opts.Signed {
		c.h = sha256.New()
	}
	return c
}

// Trailers returns the trailing headers (canonical names) once Read has
// returned io.EOF; nil before that or when there were none.
func (c *ChunkedReader) Trailers() http.Header {
	if c.err != io.EOF {
		return nil
	}
	return c.trailers
}

// DecodedBytes returns the number of payload bytes decoded so far.
func (c *ChunkedReader) DecodedBytes() int64 { return c.total }

// Read implements io.Reader.
func (c *ChunkedReader) Read(p []byte) (int, error) {
	for {
		if c.err != nil {
			return 0, c.err
		}
		if !c.inData {
			c.err = c.readChunkHeader()
			continue
		}
		if len(p) == 0 {
			return 0, nil
		}
		n := len(p)
		if int64(n) > c.remaining {
			n = int(c.remaining)
		}
		if n > 0 {
			var err error
			n, err = c.br.Read(p[:n])
			if n > 0 {
				if c.h != nil {
					c.h.Write(p[:n])
				}
				c.remaining -= int64(n)
				c.total += int64(n)
			}
			if err != nil && n == 0 {
				c.err = incomplete(err)
				return 0, c.err
			}
		}
		if c.remaining == 0 {
			if err := c.endChunk(); err != nil {
				c.err = err
				return n, err
			}
		}
		return n, nil
	}
}

func incomplete(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return ErrIncompleteBody.Wrap(fmt.Errorf("sigv4: aws-chunked body: %w", err))
}

func malformed(format string, args ...any) error {
	return ErrMalformedChunk.Wrap(fmt.Errorf("sigv4: aws-chunked body: "+format, args...))
}

// readLine returns the next line without its "\r\n" (strict) or "\n" (lenient).
func (c *ChunkedReader) readLine(strict bool) (string, error) {
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return "", malformed("line longer than %d bytes", maxChunkLine)
		}
		return "", incomplete(err)
	}
	line = line[:len(line)-1]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	} else if strict {
		return "", malformed("line not terminated by CRLF")
	}
	return string(line), nil
}

// readChunkHeader reads "hex-size[;chunk-signature=sig]\r\n" and, for the
// final zero-size chunk, verifies it and reads the end of the body.
func (c *ChunkedReader) readChunkHeader() error {
	line, err := c.readLine(true)
	if err != nil {
		return err
	}
	sizeStr, ext, hasExt := strings.Cut(line, ";")
	if sizeStr == "" || len(sizeStr) > 16 {
		return malformed("bad chunk size")
	}
	size, err := strconv.ParseUint(sizeStr, 16, 64)
	if err != nil {
		return malformed("bad chunk size")
	}
	if size > uint64(c.opts.MaxChunkSize) {
		return ErrInvalidArgument.With("The aws-chunked chunk is larger than allowed.")
	}
	if c.opts.DecodedLength >= 0 && c.total+int64(size) > c.opts.DecodedLength {
		return ErrInvalidArgument.Wrap(errors.New("sigv4: aws-chunked body longer than x-amz-decoded-content-length")).With("The aws-chunked body is longer than x-amz-decoded-content-length.")
	}
	if c.opts.Signed {
		if !hasExt || !strings.HasPrefix(ext, chunkSigPrefix) || !isHexSignature(ext[len(chunkSigPrefix):]) {
			return malformed("chunk without a valid chunk-signature")
		}
		c.chunkSig = ext[len(chunkSigPrefix):]
		c.h.Reset()
	}
	c.remaining = int64(size)
	if size > 0 {
		c.inData = true
		return nil
	}
	// The final chunk.
	if err := c.verifyChunk(); err != nil {
		return err
	}
	if c.opts.DecodedLength >= 0 && c.total != c.opts.DecodedLength {
		return ErrIncompleteBody.With("The decoded body is shorter than x-amz-decoded-content-length.")
	}
	if c.opts.Trailer {
		if err := c.readTrailer(); err != nil {
			return err
		}
	} else {
		line, err := c.readLine(true)
		if err != nil {
			return err
		}
		if line != "" {
			return malformed("data after the final chunk")
		}
	}
	return c.expectEOF()
}

// endChunk reads the CRLF after a chunk's data and verifies its signature.
func (c *ChunkedReader) endChunk() error {
	c.inData = false
	line, err := c.readLine(true)
	if err != nil {
		return err
	}
	if line != "" {
		return malformed("chunk data longer than its declared size")
	}
	return c.verifyChunk()
}

func (c *ChunkedReader) verifyChunk() error {
	if !c.opts.Signed {
		return nil
	}
	sum := hex.EncodeToString(c.h.Sum(nil))
	want := Signature(c.opts.SigningKey, ChunkStringToSign(c.opts.Date, c.opts.Scope, c.prevSig, sum))
	if !SignaturesEqual(want, c.chunkSig) {
		return ErrChunkSignatureMismatch
	}
	c.prevSig = c.chunkSig
	return nil
}

// readTrailer reads trailing "name:value" lines up to the blank line (and,
// when signed, the x-amz-trailer-signature line), accepting both CRLF and LF
// line ends as SDKs differ.
func (c *ChunkedReader) readTrailer() error {
	var canon bytes.Buffer
	var sig string
	c.trailers = make(http.Header)
	for i := 0; ; i++ {
		if i > maxTrailerLines {
			return ErrMalformedTrailer.Wrap(errors.New("sigv4: too many trailer lines"))
		}
		line, err := c.readLine(false)
		if err != nil {
			return err
		}
		if line == "" {
			if c.opts.Signed && sig == "" {
				continue // minio-go puts a blank line before the signature
			}
			break
		}
		if sig != "" {
			return ErrMalformedTrailer.Wrap(errors.New("sigv4: trailer data after the trailer signature"))
		}
		if c.opts.Signed && strings.HasPrefix(line, trailerSigPrefix) {
			sig = line[len(trailerSigPrefix):]
			if !isHexSignature(sig) {
				return ErrMalformedTrailer.Wrap(errors.New("sigv4: bad trailer signature"))
			}
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		name = strings.ToLower(strings.TrimSpace(name))
		if !ok || name == "" || !isLowerToken(name) {
			return ErrMalformedTrailer.Wrap(errors.New("sigv4: trailer line is not name:value"))
		}
		if !contains(c.opts.Trailers, name) {
			return ErrMalformedTrailer.Wrap(fmt.Errorf("sigv4: trailer %q not declared in x-amz-trailer", printable(name)))
		}
		if c.trailers.Get(name) != "" {
			return ErrMalformedTrailer.Wrap(fmt.Errorf("sigv4: trailer %q repeated", name))
		}
		c.trailers.Set(name, strings.TrimSpace(value))
		canon.WriteString(line)
		canon.WriteByte('\n')
	}
	for _, name := range c.opts.Trailers {
		if c.trailers.Get(name) == "" {
			return ErrMalformedTrailer.Wrap(fmt.Errorf("sigv4: declared trailer %q missing", printable(name)))
		}
	}
	if c.opts.Signed {
		if sig == "" {
			return ErrMalformedTrailer.Wrap(errors.New("sigv4: missing trailer signature"))
		}
		want := Signature(c.opts.SigningKey, TrailerStringToSign(c.opts.Date, c.opts.Scope, c.prevSig, hashHex(canon.Bytes())))
		if !SignaturesEqual(want, sig) {
			return ErrChunkSignatureMismatch.With("The trailer signature we calculated does not match the signature you provided.")
		}
	}
	// Some SDKs end the body with one more CRLF.
	if b, err := c.br.Peek(2); err == nil && string(b) == "\r\n" {
		_, _ = c.br.Discard(2)
	}
	return nil
}

// expectEOF checks that nothing follows the end of the aws-chunked body.
func (c *ChunkedReader) expectEOF() error {
	if _, err := c.br.ReadByte(); err == nil {
		return malformed("data after the end of the body")
	} else if !errors.Is(err, io.EOF) {
		return incomplete(err)
	}
	return io.EOF
}
