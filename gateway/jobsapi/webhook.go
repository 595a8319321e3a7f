package jobsapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/imgate/imgate/gateway/jobs"
	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/internal/httpjson"
)

// maxEventBody and maxEventRecords bound an S3 event notification request:
// MinIO and S3 send one record per request, so a hundred is generous, and
// each record costs a backend Stat.
const (
	maxEventBody    = 1 << 20
	maxEventRecords = 100
)

// errTooManyRecords refuses a notification of more than maxEventRecords records.
var errTooManyRecords = fmt.Errorf("more than %d records in one request", maxEventRecords)

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
				Key       string `json:"key"`
				Size      int64  `json:"size"`
				ETag      string `json:"eTag"`
				VersionID string `json:"versionId"`
			} `json:"object"`
		} `json:"s3"`
	} `json:"Records"`
}

// parseS3Event decodes a notification body. Records other than
// ObjectCreated:* and ObjectRemoved:* are skipped; keys are URL-decoded the
// way S3 encodes them ('+' is a space). A record with a key that does not
// decode or validate is an error (the whole request is refused).
func parseS3Event(body []byte) ([]jobs.ObjectEvent, error) {
	var n s3Notification
	if err := json.Unmarshal(body, &n); err != nil {
		return nil, fmt.Errorf("not an S3 event notification: %w", err)
	}
	if len(n.Records) > maxEventRecords {
		return nil, errTooManyRecords
	}
	var out []jobs.ObjectEvent
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
		out = append(out, jobs.ObjectEvent{
			Created: created, Bucket: r.S3.Bucket.Name, Key: key,
			Size: r.S3.Object.Size, ETag: jobs.NormETag(r.S3.Object.ETag),
		})
	}
	return out, nil
}

// s3Events handles POST /v1/events/s3. A 2xx answer means every record was
// recorded; when one could not be, the sender gets 503 and retries.
func (a *API) s3Events(w http.ResponseWriter, r *http.Request) {
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
	if errors.Is(err, errTooManyRecords) {
		writeError(w, http.StatusRequestEntityTooLarge, "too_many_records", err.Error())
		return
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	res, err := a.jobs.ObjectEvents(r.Context(), events)
	if err != nil {
		var re *jobs.RetryError
		if !errors.As(err, &re) {
			a.fail(w, r, err)
			return
		}
		writeError(w, http.StatusServiceUnavailable, "unavailable", re.Msg)
		return
	}
	httpjson.Write(w, http.StatusOK, res)
}
