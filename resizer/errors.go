package resizer

import (
	"errors"
	"fmt"
)

// Kind classifies why an image was refused.
type Kind int

const (
	// KindNotImage: the bytes are not an image at all (text, empty file, …).
	KindNotImage Kind = iota + 1
	// KindUnsupported: an image format or feature this package cannot decode.
	KindUnsupported
	// KindCorrupt: a supported format but truncated or corrupt.
	KindCorrupt
	// KindTooLarge: over a limit (bytes, pixels, frames).
	KindTooLarge
	// KindInvalidPreset: a preset or configuration is invalid.
	KindInvalidPreset
)

func (k Kind) String() string {
	switch k {
	case KindNotImage:
		return "not an image"
	case KindUnsupported:
		return "unsupported"
	case KindCorrupt:
		return "corrupt"
	case KindTooLarge:
		return "too large"
	case KindInvalidPreset:
		return "invalid preset"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Error is the error type of this package. Msg is safe to show to clients;
// Err is the internal cause (for logs) and may be nil.
type Error struct {
	Kind Kind
	Msg  string
	Err  error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// Public returns the message that may be shown to clients.
func (e *Error) Public() string { return e.Msg }

func newErr(k Kind, cause error, format string, args ...any) *Error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...), Err: cause}
}

// IsPermanent reports whether retrying cannot help: true for every *Error
// (the same bytes and presets give the same answer), false for context
// errors and I/O errors from the source reader.
func IsPermanent(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// KindOf returns the Kind of err, or 0 if err is not an *Error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}
