package s3api

import (
	"context"
	"encoding/xml"
	"io"
	"net/http"
)

// deleteObject handles DeleteObject; deleting an original runs the Deleted hook.
func (h *handler) deleteObject(w http.ResponseWriter, r *http.Request, bucket, key string) {
	if _, ok := h.prepareWrite(w, r, actDeleteObject, bucket, key); !ok {
		return
	}
	if err := h.removeObject(r.Context(), bucket, key); err != nil {
		h.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) removeObject(ctx context.Context, bucket, key string) error {
	if err := h.cfg.Storage.Delete(ctx, bucket, key); err != nil {
		return err
	}
	if h.cfg.Hooks.Deleted != nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), hookTimeout)
		defer cancel()
		if err := h.cfg.Hooks.Deleted(ctx, bucket, key); err != nil {
			h.log.ErrorContext(ctx, "delete hook failed", "request_id", reqCtxFromContext(ctx).id,
				"bucket", bucket, "key", key, "err", err)
			return errSlowDown
		}
	}
	return nil
}

// maxDeleteBody bounds a DeleteObjects request (1000 keys of ≤1024 bytes).
const maxDeleteBody = 2 << 20

type deleteRequest struct {
	XMLName xml.Name `xml:"Delete"`
	Quiet   bool     `xml:"Quiet"`
	Objects []struct {
		Key       string `xml:"Key"`
		VersionID string `xml:"VersionId"`
	} `xml:"Object"`
}

type deletedXML struct {
	Key string `xml:"Key"`
}

type deleteErrorXML struct {
	Key     string `xml:"Key"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

type deleteResult struct {
	XMLName xml.Name         `xml:"http://s3.amazonaws.com/doc/2006-03-01/ DeleteResult"`
	Deleted []deletedXML     `xml:"Deleted"`
	Errors  []deleteErrorXML `xml:"Error"`
}

// parseDeleteBody decodes a DeleteObjects body (at most 1000 keys).
func parseDeleteBody(r io.Reader) (*deleteRequest, error) {
	var req deleteRequest
	if err := xml.NewDecoder(io.LimitReader(r, maxDeleteBody)).Decode(&req); err != nil {
		return nil, errMalformedXML
	}
	if len(req.Objects) == 0 || len(req.Objects) > 1000 {
		return nil, errMalformedXML.withMessage("A Delete request names 1 to 1000 objects.")
	}
	return &req, nil
}

// deleteObjects handles DeleteObjects (POST /BUCKET?delete): each key is
// authorized on its own and answered in the result, as S3 does.
func (h *handler) deleteObjects(w http.ResponseWriter, r *http.Request, bucket string) {
	c, ok := h.prepareWrite(w, r, actDeleteObject, bucket, "")
	if !ok {
		return
	}
	body, err := c.body(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	defer body.Close()
	req, err := parseDeleteBody(body)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	// Consume the rest so the payload hash / Content-MD5 is verified before acting.
	if _, err := drainSmall(body, maxDeleteBody); err != nil {
		h.writeError(w, r, err)
		return
	}
	var res deleteResult
	for _, o := range req.Objects {
		fail := func(e *Error) {
			res.Errors = append(res.Errors, deleteErrorXML{Key: o.Key, Code: e.Code, Message: e.Message})
		}
		if err := checkKey(o.Key); err != nil {
			fail(err.(*Error))
			continue
		}
		if !c.allowed(actDeleteObject, bucket, o.Key) {
			fail(errAccessDenied)
			continue
		}
		if err := h.removeObject(r.Context(), bucket, o.Key); err != nil {
			e, internal := classify(err)
			if internal {
				h.log.ErrorContext(r.Context(), "s3 delete failed", "request_id", reqCtx(r).id,
					"bucket", bucket, "key", o.Key, "err", err)
			}
			fail(e)
			continue
		}
		if !req.Quiet {
			res.Deleted = append(res.Deleted, deletedXML{Key: o.Key})
		}
	}
	writeXML(w, http.StatusOK, res)
}
