package s3api

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
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
			return nil, nil, errMalformedPOST
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
			return nil, nil, errMalformedPOST
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
	release, ok := h.acquire()
	if !ok {
		h.writeError(w, r, errSlowDown)
		return
	}
	defer release()

	mr := multipart.NewReader(r.Body, params["boundary"])
	fields, file, err := readFormFields(mr)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	defer file.Close()
	fields["bucket"] = bucket
	key := fields["key"]
	if key == "" {
		h.writeError(w, r, errInvalidArgument("Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields."))
		return
	}
	if strings.Contains(key, "${filename}") {
		key = strings.ReplaceAll(key, "${filename}", file.FileName())
		fields["key"] = key
	}
	reqCtx(r).key = key

	// Signature and policy (expiry, conditions on every field).
	a, policy, err := h.cfg.Verifier.VerifyPost(r.Context(), fields)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	id, err := h.cfg.Auth.Identity(r.Context(), a)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if err := checkKey(key); err != nil {
		h.writeError(w, r, err)
		return
	}
	if !id.Allowed(actPutObject, bucket, key) {
		h.writeError(w, r, errAccessDenied)
		return
	}
	if err := policy.CheckFields(fields); err != nil {
		h.writeError(w, r, err)
		return
	}
	limit, minSize := h.cfg.MaxObjectBytes, int64(0)
	tooLarge := errEntityTooLarge(h.cfg.MaxObjectBytes)
	if lo, hi, ok := policy.LengthRange(); ok {
		minSize = lo
		if hi < limit {
			limit = hi
			tooLarge = errorf("EntityTooLarge", http.StatusBadRequest, "Your proposed upload exceeds the maximum allowed size (%d bytes, from the policy's content-length-range).", hi)
		}
	}
	meta := map[string]string{}
	for k, v := range fields {
		if name, ok := strings.CutPrefix(k, "x-amz-meta-"); ok && name != "" {
			meta[name] = v
		}
	}
	if len(meta) == 0 {
		meta = nil
	} else if metadataTooLarge(meta) {
		h.writeError(w, r, errorf("MetadataTooLarge", http.StatusBadRequest, "Your metadata headers exceed the maximum allowed metadata size (2048 bytes)."))
		return
	}

	ur := &uploadReader{r: file, limit: limit, tooLarge: tooLarge, min: minSize, declared: -1}
	sn, err := h.sniff(ur)
	if err != nil {
		h.writeError(w, r, ur.cause(err))
		return
	}
	opts := storage.PutOptions{ContentType: sn.typ, CacheControl: fields["cache-control"], Metadata: meta}
	info, err := h.cfg.Storage.Put(r.Context(), bucket, key, io.MultiReader(bytes.NewReader(sn.head), ur), -1, opts)
	if err != nil {
		h.writeError(w, r, ur.cause(err))
		return
	}
	h.metrics.uploadedBytes.Add(float64(info.Size))
	if err := h.uploaded(r.Context(), info); err != nil {
		h.writeError(w, r, err)
		return
	}

	etag := quoteETag(info.ETag)
	w.Header().Set("ETag", etag)
	location := "/" + bucket + "/" + key
	w.Header().Set("Location", location)
	redirect := fields["success_action_redirect"]
	if redirect == "" {
		redirect = fields["redirect"]
	}
	if redirect != "" {
		if u, err := url.Parse(redirect); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
			q := u.Query()
			q.Set("bucket", bucket)
			q.Set("key", key)
			q.Set("etag", etag)
			u.RawQuery = q.Encode()
			w.Header().Set("Location", u.String())
			w.WriteHeader(http.StatusSeeOther)
			return
		}
	}
	switch status, _ := strconv.Atoi(fields["success_action_status"]); status {
	case http.StatusOK:
		w.WriteHeader(http.StatusOK)
	case http.StatusCreated:
		writeXML(w, http.StatusCreated, postResponse{Location: location, Bucket: bucket, Key: key, ETag: etag})
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}
