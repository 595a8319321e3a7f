package s3api

import (
	"context"
	"encoding/xml"
	"io"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/imgate/imgate/gateway/auth"
	"github.com/imgate/imgate/gateway/storage"
)

// Multipart uploads and content sniffing: the content type of a multipart
// object is decided by its part 1. UploadPart with partNumber=1 sniffs the
// part's first bytes and refuses a non-image (nothing stored), and
// CompleteMultipartUpload requires the first listed part to be part 1, so
// every completed object starts with sniffed bytes. The stored content type
// is set at CreateMultipartUpload from the declared Content-Type only when it
// is one of the allowed types (else left to the backend's default); the
// resizer decodes by content, never by this header.

// maxCompleteBody bounds the CompleteMultipartUpload XML (10000 parts ≈ 1 MB).
const maxCompleteBody = 2 << 20

type initiateResult struct {
	XMLName  xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ InitiateMultipartUploadResult"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	UploadID string   `xml:"UploadId"`
}

func (h *handler) createMultipart(w http.ResponseWriter, r *http.Request, bucket, key string) {
	if _, ok := h.prepareWrite(w, r, actPutObject, bucket, key); !ok {
		return
	}
	meta := userMetadata(r.Header)
	if metadataTooLarge(meta) {
		h.writeError(w, r, errMetadataTooLarge)
		return
	}
	opts := storage.PutOptions{CacheControl: r.Header.Get("Cache-Control"), Metadata: meta}
	opts.ContentType = h.multipartContentType(r.Header.Get("Content-Type"), key)
	id, err := h.cfg.Storage.CreateMultipart(r.Context(), bucket, key, opts)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeXML(w, http.StatusOK, initiateResult{Bucket: bucket, Key: key, UploadID: id})
}

// multipartContentType picks the stored content type of a multipart object
// before its bytes exist: the declared type if it is an allowed image type,
// else the type of the key's extension if allowed, else none (the backend's
// default). The storage interface cannot change it after completion; part 1
// is sniffed so the content is an allowed image whatever this says.
func (h *handler) multipartContentType(declared, key string) string {
	if ct, _, err := mime.ParseMediaType(declared); err == nil && h.allowed[strings.ToLower(ct)] {
		return strings.ToLower(ct)
	}
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		if ct, _, err := mime.ParseMediaType(mime.TypeByExtension(strings.ToLower(key[i:]))); err == nil && h.allowed[ct] {
			return ct
		}
	}
	return ""
}

func parsePartNumber(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxParts {
		return 0, errInvalidArgument("Part number must be an integer between 1 and %d, inclusive.", maxParts)
	}
	return n, nil
}

func (h *handler) uploadPart(w http.ResponseWriter, r *http.Request, bucket, key string) {
	c, ok := h.prepareWrite(w, r, actPutObject, bucket, key)
	if !ok {
		return
	}
	q := r.URL.Query()
	partNumber, err := parsePartNumber(q.Get("partNumber"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	uploadID := q.Get("uploadId")
	if uploadID == "" {
		h.writeError(w, r, errNoSuchUpload)
		return
	}
	limit, err := h.partLimit(r.Context(), c.id, bucket, key, uploadID, partNumber)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	size, err := declaredSize(r)
	if err == nil && size > limit {
		err = errEntityTooLarge(h.objectLimit(c.id))
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	md5sum, err := contentMD5(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	u, err := h.startUpload(r, c.auth.AccessKey)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	defer u.close()
	u.accept = typeCheck(c.id, nil)
	if err := u.fromRequest(r, c, uploadLimits{max: limit, declared: size, tooLarge: errEntityTooLarge(h.objectLimit(c.id))}); err != nil {
		h.writeError(w, r, err)
		return
	}
	part, err := u.putPart(r.Context(), bucket, key, uploadID, partNumber, size, md5sum)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.tally.stored(bucket, key, uploadID, partNumber, part.Size)
	w.Header().Set("ETag", quoteETag(part.ETag))
	u.echoChecksums(w, r)
	w.WriteHeader(http.StatusOK)
}

// partLimit is the most part n of uploadID may hold: S3's part limit and
// what the object limit leaves after the upload's other stored parts, so
// parts count against the limit as they arrive, not only at Complete
// (known from the part tally, parttally.go, not a listing per part).
func (h *handler) partLimit(ctx context.Context, id *auth.Identity, bucket, key, uploadID string, n int) (int64, error) {
	others, err := h.tally.others(ctx, bucket, key, uploadID, n)
	if err != nil {
		return 0, err
	}
	return min(max(h.objectLimit(id)-others, 0), maxPartBytes), nil
}

type completeRequest struct {
	XMLName xml.Name `xml:"CompleteMultipartUpload"`
	Parts   []struct {
		PartNumber int    `xml:"PartNumber"`
		ETag       string `xml:"ETag"`
	} `xml:"Part"`
}

type completeResult struct {
	XMLName  xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CompleteMultipartUploadResult"`
	Location string   `xml:"Location"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	ETag     string   `xml:"ETag"`
}

// parseCompleteBody decodes a CompleteMultipartUpload body: parts in
// ascending order, ETags without quotes.
func parseCompleteBody(r io.Reader) ([]storage.CompletePart, error) {
	var req completeRequest
	dec := xml.NewDecoder(io.LimitReader(r, maxCompleteBody))
	if err := dec.Decode(&req); err != nil {
		return nil, errMalformedXML
	}
	if len(req.Parts) == 0 {
		return nil, errMalformedXML.withMessage("You must specify at least one part.")
	}
	if len(req.Parts) > maxParts {
		return nil, errInvalidArgument("An upload has at most %d parts.", maxParts)
	}
	parts := make([]storage.CompletePart, len(req.Parts))
	for i, p := range req.Parts {
		if p.PartNumber < 1 || p.PartNumber > maxParts {
			return nil, errInvalidPart
		}
		if i > 0 && p.PartNumber <= req.Parts[i-1].PartNumber {
			return nil, errInvalidPartOrder
		}
		parts[i] = storage.CompletePart{PartNumber: p.PartNumber, ETag: strings.Trim(strings.TrimSpace(p.ETag), `"`)}
	}
	return parts, nil
}

func (h *handler) completeMultipart(w http.ResponseWriter, r *http.Request, bucket, key string) {
	c, ok := h.prepareWrite(w, r, actPutObject, bucket, key)
	if !ok {
		return
	}
	uploadID := r.URL.Query().Get("uploadId")
	body, err := c.body(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	defer body.Close()
	parts, err := parseCompleteBody(body)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	// Drain what is left so a signed payload's hash is verified.
	if _, err := io.Copy(io.Discard, io.LimitReader(body, maxCompleteBody)); err != nil {
		h.writeError(w, r, err)
		return
	}
	if parts[0].PartNumber != 1 {
		h.writeError(w, r, errInvalidPart.withMessage("The first part of an upload must be part number 1 (its content decides the image type)."))
		return
	}
	ctx := r.Context()
	// Check the total size before assembling.
	stored, err := h.cfg.Storage.ListParts(ctx, bucket, key, uploadID)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	sizes := make(map[int]storage.PartInfo, len(stored))
	for _, p := range stored {
		sizes[p.PartNumber] = p
	}
	var total int64
	for _, p := range parts {
		sp, ok := sizes[p.PartNumber]
		if !ok || !strings.EqualFold(sp.ETag, p.ETag) {
			h.writeError(w, r, errInvalidPart)
			return
		}
		total += sp.Size
	}
	if limit := h.objectLimit(c.id); total > limit {
		h.writeError(w, r, errEntityTooLarge(limit))
		return
	}
	info, err := h.cfg.Storage.CompleteMultipart(ctx, bucket, key, uploadID, parts)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.tally.forget(bucket, key, uploadID)
	if err := h.uploaded(ctx, info); err != nil {
		h.writeError(w, r, err)
		return
	}
	writeXML(w, http.StatusOK, completeResult{
		Location: "/" + bucket + "/" + key,
		Bucket:   bucket,
		Key:      key,
		ETag:     quoteETag(info.ETag),
	})
}

func (h *handler) abortMultipart(w http.ResponseWriter, r *http.Request, bucket, key string) {
	if _, ok := h.prepareWrite(w, r, actAbortMultipart, bucket, key); !ok {
		return
	}
	if err := h.cfg.Storage.AbortMultipart(r.Context(), bucket, key, r.URL.Query().Get("uploadId")); err != nil {
		h.writeError(w, r, err)
		return
	}
	h.tally.forget(bucket, key, r.URL.Query().Get("uploadId"))
	w.WriteHeader(http.StatusNoContent)
}

type partXML struct {
	PartNumber   int    `xml:"PartNumber"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
}

type listPartsResult struct {
	XMLName              xml.Name  `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListPartsResult"`
	Bucket               string    `xml:"Bucket"`
	Key                  string    `xml:"Key"`
	UploadID             string    `xml:"UploadId"`
	Initiator            owner     `xml:"Initiator"`
	Owner                owner     `xml:"Owner"`
	StorageClass         string    `xml:"StorageClass"`
	PartNumberMarker     int       `xml:"PartNumberMarker"`
	NextPartNumberMarker int       `xml:"NextPartNumberMarker"`
	MaxParts             int       `xml:"MaxParts"`
	IsTruncated          bool      `xml:"IsTruncated"`
	Parts                []partXML `xml:"Part"`
}

func (h *handler) listParts(w http.ResponseWriter, r *http.Request, bucket, key string) {
	if _, ok := h.prepareWrite(w, r, actListMultipartParts, bucket, key); !ok {
		return
	}
	q := r.URL.Query()
	maxP, err := intParam(q.Get("max-parts"), 1000, 0, 1000)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	marker, err := intParam(q.Get("part-number-marker"), 0, 0, maxParts)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	uploadID := q.Get("uploadId")
	parts, err := h.cfg.Storage.ListParts(r.Context(), bucket, key, uploadID)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].PartNumber < parts[j].PartNumber })
	res := listPartsResult{
		Bucket: bucket, Key: key, UploadID: uploadID,
		Initiator: imgateOwner, Owner: imgateOwner, StorageClass: "STANDARD",
		PartNumberMarker: marker, MaxParts: maxP,
	}
	for _, p := range parts {
		if p.PartNumber <= marker {
			continue
		}
		if len(res.Parts) == maxP {
			res.IsTruncated = true
			break
		}
		res.Parts = append(res.Parts, partXML{
			PartNumber: p.PartNumber, LastModified: s3Time(p.LastModified),
			ETag: quoteETag(p.ETag), Size: p.Size,
		})
		res.NextPartNumberMarker = p.PartNumber
	}
	writeXML(w, http.StatusOK, res)
}

type uploadXML struct {
	Key          string `xml:"Key"`
	UploadID     string `xml:"UploadId"`
	Initiator    owner  `xml:"Initiator"`
	Owner        owner  `xml:"Owner"`
	StorageClass string `xml:"StorageClass"`
	Initiated    string `xml:"Initiated"`
}

type listUploadsResult struct {
	XMLName            xml.Name       `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListMultipartUploadsResult"`
	Bucket             string         `xml:"Bucket"`
	KeyMarker          string         `xml:"KeyMarker"`
	UploadIDMarker     string         `xml:"UploadIdMarker"`
	NextKeyMarker      string         `xml:"NextKeyMarker"`
	NextUploadIDMarker string         `xml:"NextUploadIdMarker"`
	Delimiter          string         `xml:"Delimiter,omitempty"`
	Prefix             string         `xml:"Prefix"`
	EncodingType       string         `xml:"EncodingType,omitempty"`
	MaxUploads         int            `xml:"MaxUploads"`
	IsTruncated        bool           `xml:"IsTruncated"`
	Uploads            []uploadXML    `xml:"Upload"`
	CommonPrefixes     []commonPrefix `xml:"CommonPrefixes"`
}

func (h *handler) listMultipartUploads(w http.ResponseWriter, r *http.Request, bucket string) {
	q := r.URL.Query()
	if _, ok := h.prepareList(w, r, actListUploads, bucket, q.Get("prefix")); !ok {
		return
	}
	maxU, err := intParam(q.Get("max-uploads"), 1000, 0, 1000)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	prefix, delim := q.Get("prefix"), q.Get("delimiter")
	keyMarker, idMarker := q.Get("key-marker"), q.Get("upload-id-marker")
	res := listUploadsResult{
		Bucket: bucket, KeyMarker: keyMarker, UploadIDMarker: idMarker, Prefix: prefix,
		Delimiter: delim, MaxUploads: maxU,
	}
	enc := urlEncoder(q.Get("encoding-type"))
	if enc != nil {
		res.EncodingType = "url"
	}
	var uploads []storage.Upload
	if h.kind(bucket) == bucketOriginal {
		uploads, err = h.cfg.Storage.ListMultipartUploads(r.Context(), bucket, prefix)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
	}
	sort.Slice(uploads, func(i, j int) bool {
		if uploads[i].Key != uploads[j].Key {
			return uploads[i].Key < uploads[j].Key
		}
		return uploads[i].UploadID < uploads[j].UploadID
	})
	seen := map[string]bool{}
	for _, u := range uploads {
		if keyMarker != "" && (u.Key < keyMarker || (u.Key == keyMarker && (idMarker == "" || u.UploadID <= idMarker))) {
			continue
		}
		if len(res.Uploads)+len(res.CommonPrefixes) >= maxU {
			res.IsTruncated = true
			break
		}
		if delim != "" {
			if i := strings.Index(u.Key[len(prefix):], delim); i >= 0 {
				cp := u.Key[:len(prefix)+i+len(delim)]
				if !seen[cp] {
					seen[cp] = true
					res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix{Prefix: enc.apply(cp)})
				}
				continue
			}
		}
		res.Uploads = append(res.Uploads, uploadXML{
			Key: enc.apply(u.Key), UploadID: u.UploadID, Initiator: imgateOwner, Owner: imgateOwner,
			StorageClass: "STANDARD", Initiated: s3Time(u.Initiated),
		})
		res.NextKeyMarker, res.NextUploadIDMarker = u.Key, u.UploadID
	}
	res.NextKeyMarker = enc.apply(res.NextKeyMarker)
	res.Prefix, res.KeyMarker, res.Delimiter = enc.apply(prefix), enc.apply(keyMarker), enc.apply(delim)
	writeXML(w, http.StatusOK, res)
}
