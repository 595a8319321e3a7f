package companion

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7/pkg/signer"
)

// s3Error is the S3 surface's XML error.
type s3Error struct {
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

// s3 sends one request to imgate's S3 handler in-process, signed with the
// call's temporary credentials, and decodes the XML answer into out (nil:
// ignore it). S3 errors become Companion errors with the same status.
func (h *handler) s3(c *call, method, key string, q url.Values, hdr http.Header, body io.Reader, out any) error {
	target := h.objectURL(key)
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(c.ctx(), method, target, body)
	if err != nil {
		return fmt.Errorf("companion: build S3 request: %w", err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	req = signer.SignV4(*req, c.creds.AccessKeyID, c.creds.SecretAccessKey, c.creds.SessionToken, h.cfg.Region)
	req.RequestURI = req.URL.RequestURI()
	rec := httptest.NewRecorder()
	h.cfg.S3.ServeHTTP(rec, req)
	res := rec.Result()
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		var e s3Error
		_ = xml.NewDecoder(io.LimitReader(res.Body, 64<<10)).Decode(&e)
		if res.StatusCode >= 500 {
			return fmt.Errorf("companion: S3 %s %s: %d %s: %s", method, key, res.StatusCode, e.Code, e.Message)
		}
		msg := e.Message
		if msg == "" {
			msg = http.StatusText(res.StatusCode)
		}
		return fail(res.StatusCode, "%s", msg)
	}
	if out == nil {
		return nil
	}
	if err := xml.NewDecoder(io.LimitReader(res.Body, 8<<20)).Decode(out); err != nil {
		return fmt.Errorf("companion: decode S3 answer: %w", err)
	}
	return nil
}

// xmlEscape escapes s for an XML text node.
func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
