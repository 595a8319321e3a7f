package s3api

import (
	"io"
	"net/url"
)

// queryValues is url.Values with S3's subresource test: "?uploads" has the
// key with an empty value.
type queryValues url.Values

func (q queryValues) has(k string) bool { _, ok := q[k]; return ok }

func (q queryValues) get(k string) string { return url.Values(q).Get(k) }

// drainSmall reads and discards at most limit bytes of r.
func drainSmall(r io.Reader, limit int64) (int64, error) {
	return io.Copy(io.Discard, io.LimitReader(r, limit))
}
