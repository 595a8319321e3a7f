package s3_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/gateway/storage"
)

// TestWebhookNotification wires a bucket to a webhook target of a real
// MinIO and checks a put and a delete arrive as S3 event records.
func TestWebhookNotification(t *testing.T) {
	events := make(chan string, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct {
			Records []struct {
				EventName string
				S3        struct {
					Object struct{ Key string }
				}
			}
		}
		b, _ := io.ReadAll(r.Body)
		if json.Unmarshal(b, &ev) == nil {
			for _, rec := range ev.Records {
				key, _ := url.QueryUnescape(rec.S3.Object.Key)
				events <- rec.EventName + " " + key
			}
		}
	}))
	defer srv.Close()
	_, s := startMinIO(t,
		"MINIO_NOTIFY_WEBHOOK_ENABLE_PRIMARY=on",
		"MINIO_NOTIFY_WEBHOOK_ENDPOINT_PRIMARY="+srv.URL+"/events")
	c := t.Context()
	if err := s.EnsureBucket(c, "watched"); err != nil {
		t.Fatal(err)
	}
	// MinIO brings its notification targets online after it answers ready:
	// until then the ARN is unknown to it.
	start := time.Now()
	for {
		err := s.SetWebhookNotification(c, "watched", "arn:minio:sqs::PRIMARY:webhook")
		if err == nil {
			break
		}
		if !strings.Contains(err.Error(), "destination ARN does not exist") || time.Since(start) > 30*time.Second {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("webhook target known %v after ready", time.Since(start).Round(time.Millisecond))
	// Setting it again replaces, not duplicates.
	if err := s.SetWebhookNotification(c, "watched", "arn:minio:sqs::PRIMARY:webhook"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(c, "watched", "in/cat photo.jpg", bytes.NewReader([]byte("jpg")), 3, storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(c, "watched", "in/cat photo.jpg"); err != nil {
		t.Fatal(err)
	}
	// MinIO delivers events concurrently: their order is not guaranteed.
	want := map[string]bool{"s3:ObjectCreated:Put in/cat photo.jpg": true, "s3:ObjectRemoved:Delete in/cat photo.jpg": true}
	deadline := time.After(30 * time.Second)
	for len(want) > 0 {
		select {
		case got := <-events:
			if !want[got] {
				t.Errorf("unexpected event %q", got)
			}
			delete(want, got)
		case <-deadline:
			t.Fatalf("no webhook events %v within 30s", want)
		}
	}
	if err := s.SetWebhookNotification(c, "watched", "not-an-arn"); err == nil {
		t.Errorf("bad ARN accepted")
	}
}
