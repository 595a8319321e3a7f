package s3api

import (
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/imgate/imgate/gateway/auth"
)

// STS AssumeRole on POST / (SigV4 service "sts"): mints temporary
// credentials limited to the caller's own allowed prefix, optionally
// narrowed further by a session Policy. RoleArn and RoleSessionName are
// accepted and ignored: imgate has no roles, only the caller's permissions.

const (
	stsNamespace      = "https://sts.amazonaws.com/doc/2011-06-15/"
	maxSTSForm        = 64 << 10
	defaultSTSSeconds = 3600
	minSTSSeconds     = 900
	maxSTSSeconds     = 43200
	maxSessionPolicy  = 16 << 10
)

type stsCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

type assumeRoleResponse struct {
	XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ AssumeRoleResponse"`
	Result  struct {
		Credentials     stsCredentials `xml:"Credentials"`
		AssumedRoleUser struct {
			Arn           string `xml:"Arn"`
			AssumedRoleID string `xml:"AssumedRoleId"`
		} `xml:"AssumedRoleUser"`
	} `xml:"AssumeRoleResult"`
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

type stsErrorResponse struct {
	XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ ErrorResponse"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

// stsRequest is a parsed AssumeRole call.
type stsRequest struct {
	policy   string
	duration time.Duration
}

// parseSTSForm validates the AssumeRole parameters.
func parseSTSForm(form url.Values) (*stsRequest, error) {
	switch form.Get("Action") {
	case "AssumeRole":
	case "":
		return nil, errorf("MissingAction", http.StatusBadRequest, "Missing Action parameter.")
	default:
		return nil, errorf("InvalidAction", http.StatusBadRequest, "Could not find operation %s; imgate supports only AssumeRole.", printableParam(form.Get("Action")))
	}
	if v := form.Get("Version"); v != "" && v != "2011-06-15" {
		return nil, errorf("InvalidParameterValue", http.StatusBadRequest, "Unsupported STS Version %s.", printableParam(v))
	}
	req := &stsRequest{duration: defaultSTSSeconds * time.Second}
	if v := form.Get("DurationSeconds"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < minSTSSeconds || n > maxSTSSeconds {
			return nil, errorf("ValidationError", http.StatusBadRequest, "DurationSeconds must be between %d and %d.", minSTSSeconds, maxSTSSeconds)
		}
		req.duration = time.Duration(n) * time.Second
	}
	req.policy = form.Get("Policy")
	if len(req.policy) > maxSessionPolicy {
		return nil, errorf("PackedPolicyTooLarge", http.StatusBadRequest, "The session policy is larger than %d bytes.", maxSessionPolicy)
	}
	return req, nil
}

func printableParam(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return strconv.Quote(s)
}

func (h *handler) sts(w http.ResponseWriter, r *http.Request) {
	c, err := h.authenticate(r, "sts")
	if err != nil {
		h.writeSTSError(w, r, err)
		return
	}
	body, err := c.body(r)
	if err != nil {
		h.writeSTSError(w, r, err)
		return
	}
	defer body.Close()
	raw, err := io.ReadAll(io.LimitReader(body, maxSTSForm+1))
	if err != nil {
		h.writeSTSError(w, r, err)
		return
	}
	if len(raw) > maxSTSForm {
		h.writeSTSError(w, r, errorf("ValidationError", http.StatusBadRequest, "The request body is too large."))
		return
	}
	form, err := url.ParseQuery(string(raw))
	if err != nil {
		h.writeSTSError(w, r, errorf("MalformedQueryString", http.StatusBadRequest, "The form body is not valid application/x-www-form-urlencoded."))
		return
	}
	for k, v := range r.URL.Query() {
		if _, ok := form[k]; !ok {
			form[k] = v
		}
	}
	req, err := parseSTSForm(form)
	if err != nil {
		h.writeSTSError(w, r, err)
		return
	}
	creds, err := h.cfg.Auth.Mint(r.Context(), c.id, c.id.Prefix, req.policy, req.duration)
	if err != nil {
		h.writeSTSError(w, r, err)
		return
	}
	var res assumeRoleResponse
	res.Result.Credentials = stsCredentials{
		AccessKeyID:     creds.AccessKeyID,
		SecretAccessKey: creds.SecretAccessKey,
		SessionToken:    creds.SessionToken,
		Expiration:      creds.Expiration.UTC().Format(time.RFC3339),
	}
	res.Result.AssumedRoleUser.Arn = "arn:aws:sts::imgate:assumed-role/imgate/" + creds.AccessKeyID
	res.Result.AssumedRoleUser.AssumedRoleID = creds.AccessKeyID
	res.RequestID = reqCtx(r).id
	writeXML(w, http.StatusOK, res)
}

// writeSTSError answers in STS's ErrorResponse shape.
func (h *handler) writeSTSError(w http.ResponseWriter, r *http.Request, err error) {
	e, internal := classify(mintError(err))
	rc := reqCtx(r)
	rc.code = e.Code
	if internal || e.Status >= 500 {
		h.log.ErrorContext(r.Context(), "sts request failed", "request_id", rc.id, "code", e.Code, "err", err)
	} else {
		h.log.InfoContext(r.Context(), "sts request refused", "request_id", rc.id, "code", e.Code, "reason", errDetail(err))
	}
	var body stsErrorResponse
	body.Error.Type = "Sender"
	if e.Status >= 500 {
		body.Error.Type = "Receiver"
	}
	body.Error.Code, body.Error.Message = e.Code, e.Message
	body.RequestID = rc.id
	writeXML(w, e.Status, body)
}

// mintError maps auth.Store.Mint's errors to STS error codes.
func mintError(err error) error {
	switch {
	case errors.Is(err, auth.ErrInvalidPolicy):
		return errorf("MalformedPolicyDocument", http.StatusBadRequest, "The session policy is not valid: %s", strings.TrimPrefix(err.Error(), auth.ErrInvalidPolicy.Error()+": "))
	case errors.Is(err, auth.ErrInvalidDuration):
		return errorf("ValidationError", http.StatusBadRequest, "DurationSeconds must be between %d and %d.", minSTSSeconds, maxSTSSeconds)
	case errors.Is(err, auth.ErrPrefixNotAllowed), errors.Is(err, auth.ErrTemporaryForbidden), errors.Is(err, auth.ErrNotAuthenticated):
		return errorf("AccessDenied", http.StatusForbidden, "You are not allowed to mint these credentials.")
	case errors.Is(err, auth.ErrNoTokenSecret):
		return errorf("NotImplemented", http.StatusNotImplemented, "Temporary credentials are not configured on this gateway.")
	}
	return err
}
