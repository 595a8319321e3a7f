package jobs

import (
	"context"
	"errors"

	"github.com/imgate/imgate/gateway/storage"
)

// ObjectEvent is one record of a storage event notification (MinIO's
// webhook): an object was created or removed.
type ObjectEvent struct {
	Created bool // ObjectCreated:*; else ObjectRemoved:*
	Bucket  string
	Key     string
	Size    int64
	ETag    string
}

// RetryError means events could not be recorded now; the sender should
// retry. Msg is public.
type RetryError struct{ Msg string }

func (e *RetryError) Error() string { return e.Msg }

// ObjectEvents acts on storage events and returns how many it accepted.
// Only events of NAME-original are acted on: variants written to
// NAME-resized never trigger processing, so a shared backend cannot loop. An
// error (a *RetryError) means not every event was recorded: the
// sender retries the whole request, and duplicates collapse.
func (s *Service) ObjectEvents(ctx context.Context, events []ObjectEvent) (int, error) {
	accepted := 0
	for _, ev := range events {
		if ev.Bucket != s.original {
			continue
		}
		if ev.Created {
			ok, err := s.objectCreated(ctx, ev)
			if err != nil {
				return accepted, err
			}
			if !ok {
				continue
			}
		} else if err := s.Deleted(ctx, ev.Bucket, ev.Key); err != nil {
			s.log.WarnContext(ctx, "s3 event: delete variants", "key", ev.Key, "err", err)
			return accepted, &RetryError{Msg: "could not delete variants, retry"}
		}
		accepted++
	}
	return accepted, nil
}

// objectCreated enqueues the job of a created object; false when the object
// is already gone.
func (s *Service) objectCreated(ctx context.Context, ev ObjectEvent) (bool, error) {
	obj := storage.ObjectInfo{Bucket: ev.Bucket, Key: ev.Key, Size: ev.Size, ETag: NormETag(ev.ETag)}
	if obj.ETag == "" {
		info, err := s.cfg.Storage.Stat(ctx, ev.Bucket, ev.Key)
		if errors.Is(err, storage.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			s.log.WarnContext(ctx, "s3 event: stat", "key", ev.Key, "err", err)
			return false, &RetryError{Msg: "storage unavailable, retry"}
		}
		obj = info
	}
	if err := s.Enqueue(ctx, obj, "webhook"); err != nil {
		s.log.WarnContext(ctx, "s3 event: enqueue", "key", ev.Key, "err", err)
		return false, &RetryError{Msg: "could not record the job, retry"}
	}
	return true, nil
}
