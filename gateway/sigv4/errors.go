// Package sigv4 verifies AWS Signature Version 4 on the server side: the
// Authorization header, presigned query strings, aws-chunked streaming
// payloads (signed, unsigned, with trailers), payload checksums and browser
// POST policies.
//
// The package is pure: it never serves HTTP and never logs. Each step of the
// specification is its own function (CanonicalURI, CanonicalQuery,
// CanonicalHeaders, CanonicalRequest, StringToSign, SigningKey, Signature) so
// it can be tested against AWS's published examples.
package sigv4

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is an S3-style error: Code is the S3 error code, Status the HTTP
// status, Message the public text. Err, when set, is the internal cause: it
// may be logged by the server but must never be sent to a client.
type Error struct {
	Code    string
	Status  int
	Message string
	Err     error
}

// Error returns the code, message and internal cause.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same Code, so
// errors.Is(err, sigv4.ErrSignatureDoesNotMatch) works whatever the message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// With returns a copy of e with another public message.
func (e *Error) With(message string) *Error {
	c := *e
	c.Message = message
	return &c
}

// Wrap returns a copy of e carrying cause as its internal error.
func (e *Error) Wrap(cause error) *Error {
	c := *e
	c.Err = cause
	return &c
}

// Withf returns a copy of e with a formatted public message.
func (e *Error) Withf(format string, args ...any) *Error {
	return e.With(fmt.Sprintf(format, args...))
}

func newErr(code string, status int, msg string) *Error {
	return &Error{Code: code, Status: status, Message: msg}
}

// S3 errors returned by this package. Compare with errors.Is (matches on Code);
// never modify them, derive copies with With, Withf or Wrap.
var (
	ErrAccessDenied                      = newErr("AccessDenied", http.StatusForbidden, "Access Denied")
	ErrAnonymous                         = newErr("AccessDenied", http.StatusForbidden, "Anonymous access is not allowed; sign the request with AWS Signature Version 4.")
	ErrExpiredRequest                    = newErr("AccessDenied", http.StatusForbidden, "Request has expired")
	ErrRequestNotYetValid                = newErr("AccessDenied", http.StatusForbidden, "Request is not valid yet")
	ErrSignatureDoesNotMatch             = newErr("SignatureDoesNotMatch", http.StatusForbidden, "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
	ErrInvalidAccessKeyID                = newErr("InvalidAccessKeyId", http.StatusForbidden, "The AWS Access Key Id you provided does not exist in our records.")
	ErrRequestTimeTooSkewed              = newErr("RequestTimeTooSkewed", http.StatusForbidden, "The difference between the request time and the server's time is too large.")
	ErrAuthorizationHeaderMalformed      = newErr("AuthorizationHeaderMalformed", http.StatusBadRequest, "The authorization header is malformed.")
	ErrAuthorizationQueryParametersError = newErr("AuthorizationQueryParametersError", http.StatusBadRequest, "Error parsing the X-Amz-Credential parameter.")
	ErrExpiredToken                      = newErr("ExpiredToken", http.StatusBadRequest, "The provided token has expired.")
	ErrInvalidToken                      = newErr("InvalidToken", http.StatusBadRequest, "The provided token is malformed or otherwise invalid.")
	ErrMissingSecurityHeader             = newErr("MissingSecurityHeader", http.StatusBadRequest, "Your request is missing a required header.")
	ErrMissingContentLength              = newErr("MissingContentLength", http.StatusLengthRequired, "You must provide the Content-Length HTTP header.")
	ErrInvalidDigest                     = newErr("InvalidDigest", http.StatusBadRequest, "The Content-MD5 you specified is not valid.")
	ErrBadDigest                         = newErr("BadDigest", http.StatusBadRequest, "The Content-MD5 you specified did not match what we received.")
	ErrChecksumMismatch                  = newErr("BadDigest", http.StatusBadRequest, "The checksum you specified did not match the calculated checksum.")
	ErrXAmzContentSHA256Mismatch         = newErr("XAmzContentSHA256Mismatch", http.StatusBadRequest, "The provided 'x-amz-content-sha256' header does not match what was computed.")
	ErrIncompleteBody                    = newErr("IncompleteBody", http.StatusBadRequest, "You did not provide the number of bytes specified by the Content-Length HTTP header.")
	ErrInvalidRequest                    = newErr("InvalidRequest", http.StatusBadRequest, "Invalid Request")
	ErrSigV2Unsupported                  = newErr("InvalidRequest", http.StatusBadRequest, "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.")
	ErrInvalidArgument                   = newErr("InvalidArgument", http.StatusBadRequest, "Invalid Argument")
	ErrMalformedTrailer                  = newErr("MalformedTrailerError", http.StatusBadRequest, "The request contained trailing data that was not well-formed or did not conform to our published schema.")
	ErrChunkSignatureMismatch            = newErr("SignatureDoesNotMatch", http.StatusForbidden, "The chunk signature we calculated does not match the signature you provided.")
	ErrMalformedChunk                    = newErr("IncompleteBody", http.StatusBadRequest, "The aws-chunked request body is malformed.")
	ErrEntityTooLarge                    = newErr("EntityTooLarge", http.StatusBadRequest, "Your proposed upload exceeds the maximum allowed size.")
	ErrEntityTooSmall                    = newErr("EntityTooSmall", http.StatusBadRequest, "Your proposed upload is smaller than the minimum allowed size.")
	ErrInvalidPolicyDocument             = newErr("InvalidPolicyDocument", http.StatusBadRequest, "The content of the form does not meet the conditions specified in the policy document.")
	ErrPolicyConditionFailed             = newErr("AccessDenied", http.StatusForbidden, "Invalid according to Policy: Policy Condition failed")
	ErrPolicyExpired                     = newErr("AccessDenied", http.StatusForbidden, "Invalid according to Policy: Policy expired.")
	ErrInternal                          = newErr("InternalError", http.StatusInternalServerError, "We encountered an internal error. Please try again.")
)

// ErrUnknownAccessKey is wrapped by a SecretLookup's error when the access
// key does not exist; Verify then answers InvalidAccessKeyId.
var ErrUnknownAccessKey = errors.New("unknown access key")

// AsError converts any error to an *Error: an *Error in its chain is returned
// as is, anything else becomes InternalError carrying the cause.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return ErrInternal.Wrap(err)
}
