package s3api

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/imgate/imgate/gateway/storage"
)

// Browser POST object (multipart/form-data with a signed policy). The form
// fields come first and are read into memory (bounded); the "file" field
// must be the last one, as S3 requires, and is streamed to storage with the
// policy's content-length-range as the size limit.

const (
	maxFormFieldBytes = 64 << 10 // one non-file field
	maxFormFieldsSize = 1 << 20  // all non-file fields together
	maxFormFields     = 100
	// formOverhead is what the multipart framing may add to the file size
	// in Content-Length before the request is refused unread.
	formOverhead = 2 << 20
)

type postResponse struct {
	XMLName  xml.Name `xml:"PostResponse"`
	Location string   `xml:"Location"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	ETag     string   `xml:"ETag"`
}

// readFormFields reads the fields before the file part. Names are lower-cased
// (S3 matches form field names case-insensitively).
func readFormFields(mr *multipart.Reader) (map[string]string, *multipart.Part, error) {
	fields := map[string]string{}
	total := 0
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, nil, errorf("InvalidArgument", http.StatusBadRequest, "POST requires exactly one file upload per request.")
		}
		if err != nil {
			return nil, nil, formReadError(err)
		}
		name := strings.ToLower(part.FormName())
		if name == "" {
			part.Close()
			continue
		}
		if name == "file" {
			return fields, part, nil
		}
		if len(fields) >= maxFormFields {
			return nil, nil, errMalformedPOST.withMessage("The POST form has too many fields.")
		}
		if _, dup := fields[name]; dup {
			return nil, nil, errInvalidArgument("The form field %q appears more than once.", name)
		}
		var b bytes.Buffer
		n, err := io.Copy(&b, io.LimitReader(part, maxFormFieldBytes+1))
		part.Close()
		if err != nil {
			return nil, nil, formReadError(err)
		}
		if n > maxFormFieldBytes {
			return nil, nil, errorf("MaxPostPreDataLengthExceeded", http.StatusBadRequest, "Your POST request fields preceding the upload file were too large.")
		}
		total += int(n) + len(name)
		if total > maxFormFieldsSize {
			return nil, nil, errorf("MaxPostPreDataLengthExceeded", http.StatusBadRequest, "Your POST request fields preceding the upload file were too large.")
		}
		fields[name] = b.String()
	}
}

// formReadError is the answer to a failed read of the form: the body's
// own refusal (too slow) when there is one, else MalformedPOSTRequest.
func formReadError(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return errMalformedPOST
}

func (h *handler) postObject(w http.ResponseWriter, r *http.Request, bucket string) {
	if err := h.writable(bucket); err != nil {
		h.writeError(w, r, err)
		return
	}
	if r.ContentLength > h.cfg.MaxObjectBytes+formOverhead {
		h.writeError(w, r, errEntityTooLarge(h.cfg.MaxObjectBytes))
		return
	}
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		h.writeError(w, r, errMalformedPOST)
		return
	}
	// The fields before the file are read (bounded, paced) and the policy
	// verified before an upload slot is taken: an unsigned or forged form
	// holds nothing but its connection.
	form, err := h.readPostForm(r, multipart.NewReader(r.Body, params["boundary"]), bucket)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	defer form.file.Close()
	u, err := h.startUpload(r, form.accessKey)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	defer u.close()
	u.accept = form.accept
	u.fromReader(form.file, form.limits)
	info, err := u.putObject(r.Context(), bucket, form.key, -1, storage.PutOptions{CacheControl: form.fields["cache-control"], Metadata: form.meta})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	answerPost(w, form, bucket, quoteETag(info.ETag))
}

// postForm is a POST object form whose policy and signature are verified.
type postForm struct {
	fields    map[string]string // lower-cased names; "bucket" and "key" resolved
	accessKey string            // the policy's signer
	accept    func(typ string) *Error
	key       string
	file      *multipart.Part
	limits    uploadLimits // MaxObjectBytes narrowed by the policy's content-length-range
	meta      map[string]string
}

// readPostForm reads the fields preceding the file, then checks the
// signature, the policy (expiry, conditions on every field), the key and
// the signer's permission. On error the file part, if any, is closed.
func (h *handler) readPostForm(r *http.Request, mr *multipart.Reader, bucket string) (form *postForm, err error) {
	fields, file, err := readFormFields(mr)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			file.Close()
		}
	}()
	fields["bucket"] = bucket
	key := fields["key"]
	if key == "" {
		return nil, errInvalidArgument("Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.")
	}
	if strings.Contains(key, "${filename}") {
		key = strings.ReplaceAll(key, "${filename}", file.FileName())
		fields["key"] = key
	}
	reqCtx(r).key = key
	a, policy, err := h.cfg.Verifier.VerifyPost(r.Context(), fields)
	if err != nil {
		return nil, err
	}
	id, err := h.cfg.Auth.Identity(r.Context(), a)
	if err != nil {
		return nil, err
	}
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if !id.Allowed(actPutObject, bucket, key) {
		return nil, errAccessDenied
	}
	if err := policy.CheckFields(fields); err != nil {
		return nil, err
	}
	form = &postForm{fields: fields, accessKey: a.AccessKey, key: key, file: file, limits: uploadLimits{max: h.objectLimit(id), declared: -1}}
	form.accept = typeCheck(id, nil)
	if fields["content-type"] != "" {
		form.accept = typeCheck(id, func(typ string) error {
			f := maps.Clone(fields)
			f["content-type"] = typ
			return policy.CheckFields(f)
		})
	}
	if lo, hi, ok := policy.LengthRange(); ok {
		form.limits.min = lo
		if hi < form.limits.max {
			form.limits.max = hi
			form.limits.tooLarge = errorf("EntityTooLarge", http.StatusBadRequest, "Your proposed upload exceeds the maximum allowed size (%d bytes, from the policy's content-length-range).", hi)
		}
	}
	for k, v := range fields {
		if name, ok := strings.CutPrefix(k, "x-amz-meta-"); ok && name != "" {
			if form.meta == nil {
				form.meta = map[string]string{}
			}
			form.meta[name] = v
		}
	}
	if metadataTooLarge(form.meta) {
		return nil, errMetadataTooLarge
	}
	return form, nil
}

// answerPost answers a stored POST upload as the form asked: a redirect,
// or success_action_status 200, 201 (with an XML body) or 204.
func answerPost(w http.ResponseWriter, form *postForm, bucket, etag string) {
	w.Header().Set("ETag", etag)
	location := "/" + bucket + "/" + form.key
	w.Header().Set("Location", location)
	redirect := form.fields["success_action_redirect"]
	if redirect == "" {
		redirect = form.fields["redirect"]
	}
	if redirect != "" {
		if u, err := url.Parse(redirect); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
			q := u.Query()
			q.Set("bucket", bucket)
			q.Set("key", form.key)
			q.Set("etag", etag)
			u.RawQuery = q.Encode()
			w.Header().Set("Location", u.String())
			w.WriteHeader(http.StatusSeeOther)
			return
		}
	}
	switch status, _ := strconv.Atoi(form.fields["success_action_status"]); status {
	case http.StatusOK:
		w.WriteHeader(http.StatusOK)
	case http.StatusCreated:
		writeXML(w, http.StatusCreated, postResponse{Location: location, Bucket: bucket, Key: form.key, ETag: etag})
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}
