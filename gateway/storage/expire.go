package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// DefaultMultipartExpiry is how long an incomplete multipart upload may
// live, as S3's usual AbortIncompleteMultipartUpload lifecycle rule.
const DefaultMultipartExpiry = 24 * time.Hour

// AbortExpiredMultipart aborts the multipart uploads of bucket initiated
// before cutoff, removing their parts (imgate runs S3's
// AbortIncompleteMultipartUpload rule itself, the same way on every
// backend). It returns how many it aborted; an upload completed or aborted
// meanwhile is not an error.
func AbortExpiredMultipart(ctx context.Context, s Storage, bucket string, cutoff time.Time) (int, error) {
	ups, err := s.ListMultipartUploads(ctx, bucket, "")
	if err != nil {
		return 0, fmt.Errorf("expire multipart uploads: %w", err)
	}
	n := 0
	for _, u := range ups {
		if !u.Initiated.Before(cutoff) {
			continue
		}
		err := s.AbortMultipart(ctx, bucket, u.Key, u.UploadID)
		switch {
		case err == nil:
			n++
		case errors.Is(err, ErrUploadNotFound):
		default:
			return n, fmt.Errorf("expire multipart upload %s of %q: %w", u.UploadID, u.Key, err)
		}
	}
	return n, nil
}

// SweepMultipart aborts bucket's multipart uploads older than expiry until
// ctx ends: once at start, then every expiry/4 (between 1 s and 1 h).
func SweepMultipart(ctx context.Context, s Storage, bucket string, expiry time.Duration, log *slog.Logger) {
	every := min(max(expiry/4, time.Second), time.Hour)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := AbortExpiredMultipart(ctx, s, bucket, time.Now().Add(-expiry))
		switch {
		case err != nil && ctx.Err() == nil:
			log.WarnContext(ctx, "expiring incomplete multipart uploads", "bucket", bucket, "err", err)
		case n > 0:
			log.InfoContext(ctx, "aborted incomplete multipart uploads", "bucket", bucket, "count", n, "older_than", expiry)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
