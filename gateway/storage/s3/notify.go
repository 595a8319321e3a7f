package s3

import (
	"context"
	"fmt"

	"github.com/minio/minio-go/v7/pkg/notification"

	"github.com/imgate/imgate/gateway/storage"
)

// DefaultWebhookEvents are the events SetWebhookNotification subscribes to
// when none are named: every object creation and removal.
var DefaultWebhookEvents = []string{string(notification.ObjectCreatedAll), string(notification.ObjectRemovedAll)}

// SetWebhookNotification makes the server send the bucket's object events
// (default DefaultWebhookEvents, e.g. "s3:ObjectCreated:*") to the queue
// target arn, such as MinIO's "arn:minio:sqs::PRIMARY:webhook" configured
// with MINIO_NOTIFY_WEBHOOK_*. Other queue targets on the bucket are kept;
// an earlier configuration for the same arn is replaced.
func (s *Store) SetWebhookNotification(ctx context.Context, bucket, arn string, events ...string) error {
	if err := storage.ValidateBucket(bucket); err != nil {
		return fmt.Errorf("s3 set notification: %w", err)
	}
	a, err := notification.NewArnFromString(arn)
	if err != nil {
		return fmt.Errorf("s3 set notification: ARN %q: %w", arn, err)
	}
	if len(events) == 0 {
		events = DefaultWebhookEvents
	}
	cur, err := s.client.GetBucketNotification(ctx, bucket)
	if err != nil {
		return wrap("get notification", bucket, "", err)
	}
	cur.RemoveQueueByArn(a)
	q := notification.NewConfig(a)
	for _, e := range events {
		q.AddEvents(notification.EventType(e))
	}
	cur.AddQueue(q)
	if err := s.client.SetBucketNotification(ctx, bucket, cur); err != nil {
		return wrap("set notification", bucket, "", err)
	}
	return nil
}
