package s3api

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/imgate/imgate/gateway/sigv4"
	"github.com/imgate/imgate/gateway/storage"
)

// Error is an S3 error answered to a client: Code and Message are public,
// Status is the HTTP status. Internal causes are never put into an Error.
type Error struct {
	Code    string
	Status  int
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errorf(code string, status int, format string, args ...any) *Error {
	return &Error{Code: code, Status: status, Message: fmt.Sprintf(format, args...)}
}

// Errors with fixed messages, as S3 words them.
var (
	errAccessDenied       = &Error{"AccessDenied", http.StatusForbidden, "Access Denied."}
	errResizedReadOnly    = &Error{"AccessDenied", http.StatusForbidden, "The resized bucket is written only by imgate; upload originals instead."}
	errNoSuchBucket       = &Error{"NoSuchBucket", http.StatusNotFound, "The specified bucket does not exist."}
	errNoSuchKey          = &Error{"NoSuchKey", http.StatusNotFound, "The specified key does not exist."}
	errNoSuchUpload       = &Error{"NoSuchUpload", http.StatusNotFound, "The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."}
	errInvalidPart        = &Error{"InvalidPart", http.StatusBadRequest, "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."}
	errInvalidPartOrder   = &Error{"InvalidPartOrder", http.StatusBadRequest, "The list of parts was not in ascending order. Parts must be ordered by part number."}
	errEntityTooSmall     = &Error{"EntityTooSmall", http.StatusBadRequest, "Your proposed upload is smaller than the minimum allowed object size."}
	errBadDigest          = &Error{"BadDigest", http.StatusBadRequest, "The Content-MD5 or checksum you specified did not match what was received."}
	errInvalidDigest      = &Error{"InvalidDigest", http.StatusBadRequest, "The Content-MD5 you specified is not valid."}
	errSlowDown           = &Error{"SlowDown", http.StatusServiceUnavailable, "Please reduce your request rate."}
	errServiceUnavailable = &Error{"ServiceUnavailable", http.StatusServiceUnavailable, "The storage backend is unavailable; please retry."}
	errInternal           = &Error{"InternalError", http.StatusInternalServerError, "We encountered an internal error. Please try again."}
	errNotImplemented     = &Error{"NotImplemented", http.StatusNotImplemented, "A header or query you provided implies functionality that is not implemented."}
	errMethodNotAllowed   = &Error{"MethodNotAllowed", http.StatusMethodNotAllowed, "The specified method is not allowed against this resource."}
	errMalformedXML       = &Error{"MalformedXML", http.StatusBadRequest, "The XML you provided was not well-formed or did not validate against our published schema."}
	errInvalidRange       = &Error{"InvalidRange", http.StatusRequestedRangeNotSatisfiable, "The requested range is not satisfiable."}
	errPreconditionFailed = &Error{"PreconditionFailed", http.StatusPreconditionFailed, "At least one of the preconditions you specified did not hold."}
	errIncompleteBody     = &Error{"IncompleteBody", http.StatusBadRequest, "You did not provide the number of bytes specified by the Content-Length HTTP header."}
	errRequestTimeout     = &Error{"RequestTimeout", http.StatusBadRequest, "Your socket connection to the server was not read from or written to within the timeout period."}
	errMetadataTooLarge   = &Error{"MetadataTooLarge", http.StatusBadRequest, "Your metadata headers exceed the maximum allowed metadata size (2048 bytes)."}
	errMalformedPOST      = &Error{"MalformedPOSTRequest", http.StatusBadRequest, "The body of your POST request is not well-formed multipart/form-data."}
)

func errEntityTooLarge(limit int64) *Error {
	return errorf("EntityTooLarge", http.StatusBadRequest,
		"Your proposed upload exceeds the maximum allowed object size (%d bytes).", limit)
}

func errInvalidArgument(format string, args ...any) *Error {
	return errorf("InvalidArgument", http.StatusBadRequest, format, args...)
}

// errorResponse is S3's XML error body.
type errorResponse struct {
	XMLName    xml.Name `xml:"Error"`
	Code       string   `xml:"Code"`
	Message    string   `xml:"Message"`
	Resource   string   `xml:"Resource,omitempty"`
	Key        string   `xml:"Key,omitempty"`
	BucketName string   `xml:"BucketName,omitempty"`
	RequestID  string   `xml:"RequestId"`
	HostID     string   `xml:"HostId"`
}

// classify maps any error to the public S3 error the client sees. The second
// result reports whether the error is internal (to be logged in full).
func classify(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, false
	}
	var se *sigv4.Error
	if errors.As(err, &se) {
		return &Error{Code: se.Code, Status: se.Status, Message: se.Message}, false
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return errEntityTooLarge(mbe.Limit), false
	case errors.Is(err, storage.ErrNotFound):
		return errNoSuchKey, false
	case errors.Is(err, storage.ErrBucketNotFound):
		return errNoSuchBucket, false
	case errors.Is(err, storage.ErrUploadNotFound):
		return errNoSuchUpload, false
	case errors.Is(err, storage.ErrInvalidPart):
		return errInvalidPart, false
	case errors.Is(err, storage.ErrInvalidPartOrder):
		return errInvalidPartOrder, false
	case errors.Is(err, storage.ErrPartTooSmall):
		return errEntityTooSmall, false
	case errors.Is(err, storage.ErrBadDigest):
		return errBadDigest, false
	case errors.Is(err, storage.ErrInvalidKey):
		return errInvalidArgument("Invalid object key."), false
	case errors.Is(err, storage.ErrInvalidBucket):
		return errorf("InvalidBucketName", http.StatusBadRequest, "The specified bucket is not valid."), false
	case errors.Is(err, storage.ErrUnavailable):
		return errServiceUnavailable, true
	case errors.Is(err, context.DeadlineExceeded):
		return errRequestTimeout, true
	}
	return errInternal, true
}

// writeError answers err as an S3 XML error. Internal errors are logged
// with the request id and answered as a generic InternalError.
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	rc := reqCtx(r)
	e, internal := classify(err)
	if internal || e.Status >= 500 {
		h.log.ErrorContext(r.Context(), "s3 request failed",
			slog.String("request_id", rc.id), slog.String("op", rc.op),
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("code", e.Code), slog.Any("err", err))
	} else {
		lvl := slog.LevelInfo
		if e.Status == http.StatusNotFound {
			lvl = slog.LevelDebug // clients probe with HEAD before every upload
		}
		h.log.Log(r.Context(), lvl, "s3 request refused",
			slog.String("request_id", rc.id), slog.String("op", rc.op),
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("code", e.Code), slog.String("reason", errDetail(err)))
	}
	rc.code = e.Code
	drainRefused(r)
	if e.Code == "SlowDown" || e.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	if r.Method == http.MethodHead {
		// HEAD responses carry no body; clients read the status.
		w.WriteHeader(e.Status)
		return
	}
	body := errorResponse{
		Code:      e.Code,
		Message:   e.Message,
		Resource:  r.URL.Path,
		RequestID: rc.id,
		HostID:    rc.hostID,
	}
	if rc.bucket != "" {
		body.BucketName = rc.bucket
	}
	if rc.key != "" {
		body.Key = rc.key
	}
	writeXML(w, e.Status, body)
}

// errDetail is the error text safe for logs (never a secret: the sigv4 and
// storage packages do not put secrets into errors).
func errDetail(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func writeXML(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	enc := xml.NewEncoder(w)
	_ = enc.Encode(v)
}

// withMessage returns a copy of e with another message.
func (e *Error) withMessage(m string) *Error {
	c := *e
	c.Message = m
	return &c
}
