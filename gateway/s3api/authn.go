package s3api

import (
	"io"
	"net/http"

	"github.com/imgate/imgate/gateway/auth"
	"github.com/imgate/imgate/gateway/sigv4"
)

// caller is an authenticated request: its verified signature and the
// identity (root, static key or temporary credentials) behind it.
type caller struct {
	auth *sigv4.Auth
	id   *auth.Identity
	// sums returns the verified x-amz-checksum-* values once the body is consumed.
	sums func() map[string]string
}

// authenticate verifies r's SigV4 signature for service ("s3" or "sts") and
// resolves the caller's identity.
func (h *handler) authenticate(r *http.Request, service string) (*caller, error) {
	a, err := h.cfg.Verifier.Verify(r.Context(), r, service)
	if err != nil {
		return nil, err
	}
	id, err := h.cfg.Auth.Identity(r.Context(), a)
	if err != nil {
		return nil, err
	}
	return &caller{auth: a, id: id}, nil
}

// allowed reports whether the caller may perform action on bucket/key.
func (c *caller) allowed(action, bucket, key string) bool {
	return c.id.Allowed(action, bucket, key)
}

// body returns the verified request body: aws-chunked decoding, chunk
// signatures, payload hash, x-amz-checksum-* and Content-MD5 are checked
// while it is read, and a failure is returned by Read instead of io.EOF.
func (c *caller) body(r *http.Request) (io.ReadCloser, error) {
	rc, err := c.auth.Body(r)
	if err != nil {
		return nil, err
	}
	if b, ok := rc.(*sigv4.BodyReader); ok {
		c.sums = b.Checksums
	}
	return rc, nil
}

// bodyMD5ByStorage is body for object and part uploads, whose Content-MD5
// the handler passes to the storage backend (which checks it and stores
// nothing on a mismatch, per the storage contract): the verifier then skips
// its own MD5 so each byte is hashed once less. The header was already
// covered by the signature check.
func (c *caller) bodyMD5ByStorage(r *http.Request) (io.ReadCloser, error) {
	md5 := r.Header.Values("Content-Md5")
	if len(md5) == 0 {
		return c.body(r)
	}
	r.Header.Del("Content-Md5")
	defer func() { r.Header["Content-Md5"] = md5 }()
	return c.body(r)
}

// verifiedChecksums returns the x-amz-checksum-* values (header or
// trailer) the body reader verified, by lower-case header name.
func (c *caller) verifiedChecksums() map[string]string {
	if c == nil || c.sums == nil {
		return nil
	}
	return c.sums()
}
