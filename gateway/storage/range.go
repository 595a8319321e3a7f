package storage

import (
	"errors"
	"fmt"
)

// ErrInvalidRange reports a byte range that starts past the end of the
// object (S3's InvalidRange, HTTP 416).
var ErrInvalidRange = errors.New("requested range not satisfiable")

// ResolveRange turns GetOptions into an offset and a byte count within an
// object of size bytes. Length <= 0 means "to the end", so the zero value
// reads the whole object. A range is clamped to the object's end; a
// negative offset, or an offset at or past the end of a non-empty object,
// is ErrInvalidRange.
func ResolveRange(opts GetOptions, size int64) (offset, n int64, err error) {
	if opts.Offset < 0 || (opts.Offset > 0 && opts.Offset >= size) {
		return 0, 0, fmt.Errorf("%w: offset %d of a %d-byte object", ErrInvalidRange, opts.Offset, size)
	}
	n = size - opts.Offset
	if opts.Length > 0 && opts.Length < n {
		n = opts.Length
	}
	return opts.Offset, n, nil
}
