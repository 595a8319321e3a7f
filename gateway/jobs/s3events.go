package jobs

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/imgate/imgate/gateway/storage"
)

// maxEventBody bounds an S3 event notification request.
const maxEventBody = 1 << 20

// s3Notification is the AWS S3 event notification JSON, as MinIO's webhook
// target sends it (MinIO adds EventName and Key at the top level).
type s3Notification struct {
	Records []struct {
		EventName string `json:"eventName"`
		S3        struct {
			Bucket struct {
				Name string `json:"name"`
			} `json:"bucket"`
			Object struct {
				Key         string `json:"key"`
				Size        int64  `json:"size"`
				ETag        string `json:"eTag"`
				ContentType string `json:"contentType"`
				VersionID   string `json:"versionId"`
			} `json:"object"`
		} `json:"s3"`
	} `json:"Records"`
}

// objectEvent is one decoded record.
type objectEvent struct {
	Created bool // ObjectCreated:*; else ObjectRemoved:*
	Bucket  string
	Key     string
	Size    int64
	ETag    string
}

// parseS3Event decodes a notification body. Records other than
// ObjectCreated:* and ObjectRemoved:* are skipped; keys are URL-decoded the
// way S3 encodes them ('+' is a space). A record with a key that does not
// decode or validate is an error (the whole request is refused).
func parseS3Event(body []byte) ([]objectEvent, error) {
	var n s3Notification
	if err := json.Unmarshal(body, &n); err != nil {
		return nil, fmt.Errorf("not an S3 event notification: %w", err)
	}
	var out []objectEvent
	for i, r := range n.Records {
		name := strings.TrimPrefix(r.EventName, "s3:")
		var created bool
		switch {
		case strings.HasPrefix(name, "ObjectCreated:"):
			created = true
		case strings.HasPrefix(name, "ObjectRemoved:"):
		default:
			continue
		}
		key, err := url.QueryUnescape(r.S3.Object.Key)
		if err != nil {
			return nil, fmt.Errorf("record %d: object key is not URL-encoded correctly", i)
		}
		if err := storage.ValidateKey(key); err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		if r.S3.Bucket.Name == "" {
			return nil, fmt.Errorf("record %d: no bucket name", i)
		}
		out = append(out, objectEvent{
			Created: created, Bucket: r.S3.Bucket.Name, Key: key,
			Size: r.S3.Object.Size, ETag: normETag(r.S3.Object.ETag),
		})
	}
	return out, nil
}

// checkBearer reports whether the request carries "Authorization: Bearer token".
func checkBearer(r *http.Request, token string) bool {
	if token == "" {
		return false
	}
	h := r.Header.Get("Authorization")
	const prefix = "bearer "
	if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return false
	}
	got := strings.TrimSpace(h[len(prefix):])
	return subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
}

// serveS3Events handles POST /v1/events/s3. Only events of NAME-original are
// acted on: variants written to NAME-resized never trigger processing, so a
// shared backend cannot loop. A 2xx answer means every record was recorded;
// on a store error the sender gets 503 and retries.
func (s *Service) serveS3Events(w http.ResponseWriter, r *http.Request) {
	if !checkBearer(r, s.cfg.EventsToken) {
		writeError(w, http.StatusUnauthorized, "unauthorized", "missing or wrong bearer token")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use POST")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxEventBody+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "could not read the body")
		return
	}
	if len(body) > maxEventBody {
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", "event body over 1 MiB")
		return
	}
	events, err := parseS3Event(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	ctx := r.Context()
	accepted := 0
	for _, ev := range events {
		if ev.Bucket != s.original {
			continue
		}
		if ev.Created {
			obj := storage.ObjectInfo{Bucket: ev.Bucket, Key: ev.Key, Size: ev.Size, ETag: ev.ETag}
			if obj.ETag == "" {
				info, err := s.cfg.Storage.Stat(ctx, ev.Bucket, ev.Key)
				if errors.Is(err, storage.ErrNotFound) {
					continue // already gone
				}
				if err != nil {
					s.log.WarnContext(ctx, "s3 event: stat", "key", ev.Key, "err", err)
					writeError(w, http.StatusServiceUnavailable, "unavailable", "storage unavailable, retry")
					return
				}
				obj = info
			}
			if err := s.Enqueue(ctx, obj, "webhook"); err != nil {
				s.log.WarnContext(ctx, "s3 event: enqueue", "key", ev.Key, "err", err)
				writeError(w, http.StatusServiceUnavailable, "unavailable", "could not record the job, retry")
				return
			}
		} else {
			if err := s.Deleted(ctx, ev.Bucket, ev.Key); err != nil {
				s.log.WarnContext(ctx, "s3 event: delete variants", "key", ev.Key, "err", err)
				writeError(w, http.StatusServiceUnavailable, "unavailable", "could not delete variants, retry")
				return
			}
		}
		accepted++
	}
	writeJSON(w, http.StatusOK, map[string]int{"accepted": accepted})
}
