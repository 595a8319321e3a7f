package companion

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7/pkg/signer"

	"github.com/imgate/imgate/gateway/uploads"
)

// paramsAnswer is Companion's answer to GET /s3/params: a POST form.
type paramsAnswer struct {
	Method string            `json:"method"`
	URL    string            `json:"url"`
	Fields map[string]string `json:"fields"`
}

// params answers a POST form for one file: the key is picked here, the
// content type pinned when Uppy names one, the size capped by max_bytes.
func (h *handler) params(c *call) (any, error) {
	q := c.r.URL.Query()
	ct := q.Get("type")
	if err := c.checkType(ct); err != nil {
		return nil, err
	}
	signer := uploads.Signer{BaseURL: h.base.String(), Region: h.cfg.Region, AccessKey: c.creds.AccessKeyID,
		SecretKey: c.creds.SecretAccessKey, SessionToken: c.creds.SessionToken}
	form := uploads.PostForm{Bucket: h.original, Key: newKey(c.claims.Prefix, q.Get("filename")), Expiry: c.expiry()}
	if ct != "" && ct != "application/octet-stream" {
		form.ContentType = ct
	}
	if c.claims.MaxBytes > 0 {
		form.MinBytes, form.MaxBytes = 1, c.claims.MaxBytes
	}
	u, fields, err := signer.PresignPost(form, c.now)
	if err != nil {
		return nil, err
	}
	// Uppy builds the object's location as url + key: the bucket URL ends in "/".
	return &paramsAnswer{Method: http.MethodPost, URL: u + "/", Fields: fields}, nil
}

// createRequest is the body of POST /s3/multipart.
type createRequest struct {
	Filename string         `json:"filename"`
	Type     string         `json:"type"`
	Metadata map[string]any `json:"metadata"`
}

type createAnswer struct {
	Key      string `json:"key"`
	UploadID string `json:"uploadId"`
	Bucket   string `json:"bucket"`
}

func (h *handler) createMultipart(c *call) (any, error) {
	var req createRequest
	if err := json.NewDecoder(io.LimitReader(c.r.Body, 64<<10)).Decode(&req); err != nil {
		return nil, fail(http.StatusBadRequest, "The body must be JSON: {filename, type, metadata}.")
	}
	if err := c.checkType(req.Type); err != nil {
		return nil, err
	}
	key := newKey(c.claims.Prefix, req.Filename)
	hdr := http.Header{}
	if req.Type != "" {
		hdr.Set("Content-Type", req.Type)
	}
	var out struct {
		UploadID string `xml:"UploadId"`
	}
	if err := h.s3(c, http.MethodPost, key, url.Values{"uploads": {""}}, hdr, nil, &out); err != nil {
		return nil, err
	}
	return &createAnswer{Key: key, UploadID: out.UploadID, Bucket: h.original}, nil
}

type partURL struct {
	URL     string `json:"url"`
	Expires int64  `json:"expires"`
}

// signPart presigns the PUT of one part, unless the parts already
// uploaded exceed max_bytes.
func (h *handler) signPart(c *call) (any, error) {
	key, err := c.keyParam()
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(c.r.PathValue("partNumber"))
	if err != nil || n < 1 || n > 10000 {
		return nil, fail(http.StatusBadRequest, "The part number must be 1 to 10000.")
	}
	uploadID := c.r.PathValue("uploadId")
	if c.claims.MaxBytes > 0 {
		parts, err := h.parts(c, key, uploadID)
		if err != nil {
			return nil, err
		}
		if err := c.checkTotal(parts); err != nil {
			return nil, err
		}
	}
	exp := c.expiry()
	q := url.Values{"partNumber": {strconv.Itoa(n)}, "uploadId": {uploadID}}
	req, err := http.NewRequestWithContext(c.ctx(), http.MethodPut, h.objectURL(key)+"?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	signed := signer.PreSignV4(*req, c.creds.AccessKeyID, c.creds.SecretAccessKey, c.creds.SessionToken, h.cfg.Region, int64(exp/1e9))
	return &partURL{URL: signed.URL.String(), Expires: int64(exp / 1e9)}, nil
}

// part is one entry of the list-parts answer (Companion's field names).
type part struct {
	PartNumber int    `json:"PartNumber" xml:"PartNumber"`
	Size       int64  `json:"Size" xml:"Size"`
	ETag       string `json:"ETag" xml:"ETag"`
}

// parts lists every uploaded part of an upload (following S3's paging).
func (h *handler) parts(c *call, key, uploadID string) ([]part, error) {
	var all []part
	marker := ""
	for range 100 {
		q := url.Values{"uploadId": {uploadID}, "max-parts": {"1000"}}
		if marker != "" {
			q.Set("part-number-marker", marker)
		}
		var out struct {
			Parts       []part `xml:"Part"`
			IsTruncated bool   `xml:"IsTruncated"`
			Next        string `xml:"NextPartNumberMarker"`
		}
		if err := h.s3(c, http.MethodGet, key, q, nil, nil, &out); err != nil {
			return nil, err
		}
		all = append(all, out.Parts...)
		if !out.IsTruncated || out.Next == "" {
			break
		}
		marker = out.Next
	}
	return all, nil
}

// checkTotal refuses parts adding up to more than max_bytes.
func (c *call) checkTotal(parts []part) error {
	var total int64
	for _, p := range parts {
		total += p.Size
	}
	if !c.claims.AllowsSize(total) {
		return fail(http.StatusRequestEntityTooLarge, "The upload is larger than this upload token allows (%d bytes).", c.claims.MaxBytes)
	}
	return nil
}

func (h *handler) listParts(c *call) (any, error) {
	key, err := c.keyParam()
	if err != nil {
		return nil, err
	}
	parts, err := h.parts(c, key, c.r.PathValue("uploadId"))
	if parts == nil {
		parts = []part{}
	}
	return parts, err
}

type completeAnswer struct {
	Location string `json:"location"`
	Key      string `json:"key"`
	Bucket   string `json:"bucket"`
}

// complete finishes the upload after checking its size; an upload over
// max_bytes is aborted, so its parts do not linger.
func (h *handler) complete(c *call) (any, error) {
	key, err := c.keyParam()
	if err != nil {
		return nil, err
	}
	uploadID := c.r.PathValue("uploadId")
	var req struct {
		Parts []struct {
			PartNumber int    `json:"PartNumber"`
			ETag       string `json:"ETag"`
		} `json:"parts"`
	}
	if err := json.NewDecoder(io.LimitReader(c.r.Body, 1<<20)).Decode(&req); err != nil || len(req.Parts) == 0 {
		return nil, fail(http.StatusBadRequest, "The body must be JSON: {parts: [{PartNumber, ETag}]}.")
	}
	if c.claims.MaxBytes > 0 {
		parts, err := h.parts(c, key, uploadID)
		if err != nil {
			return nil, err
		}
		if err := c.checkTotal(parts); err != nil {
			_ = h.s3(c, http.MethodDelete, key, url.Values{"uploadId": {uploadID}}, nil, nil, nil)
			return nil, err
		}
	}
	var body strings.Builder
	body.WriteString("<CompleteMultipartUpload>")
	for _, p := range req.Parts {
		body.WriteString("<Part><PartNumber>" + strconv.Itoa(p.PartNumber) + "</PartNumber><ETag>" + xmlEscape(p.ETag) + "</ETag></Part>")
	}
	body.WriteString("</CompleteMultipartUpload>")
	var out struct {
		Location string `xml:"Location"`
	}
	if err := h.s3(c, http.MethodPost, key, url.Values{"uploadId": {uploadID}}, nil, strings.NewReader(body.String()), &out); err != nil {
		return nil, err
	}
	loc := h.objectURL(key)
	return &completeAnswer{Location: loc, Key: key, Bucket: h.original}, nil
}

func (h *handler) abort(c *call) (any, error) {
	key, err := c.keyParam()
	if err != nil {
		return nil, err
	}
	if err := h.s3(c, http.MethodDelete, key, url.Values{"uploadId": {c.r.PathValue("uploadId")}}, nil, nil, nil); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// objectURL is the public URL of key in NAME-original.
func (h *handler) objectURL(key string) string {
	u := *h.base
	u.Path = strings.TrimSuffix(u.Path, "/") + "/" + h.original + "/" + key
	u.RawPath = ""
	return u.String()
}
