package s3api

import (
	"net/http"

	"github.com/imgate/imgate/gateway/storage"
)

// putObject handles PutObject: every payload mode goes through the
// verifier's body reader, which checks chunk signatures, checksums and
// Content-MD5; any failure aborts the put and nothing is stored.
func (h *handler) putObject(w http.ResponseWriter, r *http.Request, bucket, key string) {
	c, ok := h.prepareWrite(w, r, actPutObject, bucket, key)
	if !ok {
		return
	}
	limit := h.objectLimit(c.id)
	size, err := h.checkDeclaredSize(r, limit)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	md5sum, err := contentMD5(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	meta := userMetadata(r.Header)
	if metadataTooLarge(meta) {
		h.writeError(w, r, errMetadataTooLarge)
		return
	}
	u, err := h.startUpload(r, c.auth.AccessKey)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	defer u.close()
	u.accept = typeCheck(c.id, nil)
	if err := u.fromRequest(r, c, uploadLimits{max: limit, declared: size}); err != nil {
		h.writeError(w, r, err)
		return
	}
	info, err := u.putObject(r.Context(), bucket, key, size, storage.PutOptions{
		CacheControl: r.Header.Get("Cache-Control"),
		Metadata:     meta,
		MD5:          md5sum,
	})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", quoteETag(info.ETag))
	u.echoChecksums(w, r)
	w.WriteHeader(http.StatusOK)
}
