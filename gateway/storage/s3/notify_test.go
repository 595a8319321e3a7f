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

// TestWebhookRuleSetAtBoot sets a bucket's rule on freshly started MinIOs
// just after their webhook target comes online, which is when a MinIO
// started without sync boot loads its buckets' rules and overwrites one set
// in that gap (no event is ever sent for the bucket: 3 of 40 starts with the
// rule set 40–80 ms after the target came online). testenv starts MinIO as
// docker-compose.yml and scripts/dev.sh do, with MINIO_SYNC_BOOT=on; with it
// off this test failed 1 run in 4 on a quiet machine (the gap opens only
// when MinIO lists its buckets after they were made), more under load.
func TestWebhookRuleSetAtBoot(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 12 MinIO servers")
	}
	events := make(chan string, 64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		events <- string(b)
	}))
	defer srv.Close()
	const arn = "arn:minio:sqs::PRIMARY:webhook"
	for round := range 12 {
		m, s := startMinIO(t,
			"MINIO_NOTIFY_WEBHOOK_ENABLE_PRIMARY=on",
			"MINIO_NOTIFY_WEBHOOK_ENDPOINT_PRIMARY="+srv.URL+"/events")
		c := t.Context()
		// Buckets made before MinIO lists them for its rule load.
		for _, b := range []string{"watched", "probe", "other-a", "other-b"} {
			if err := s.EnsureBucket(c, b); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now()
		for {
			err := s.SetWebhookNotification(c, "probe", arn)
			if err == nil {
				break
			}
			if !strings.Contains(err.Error(), "destination ARN does not exist") || time.Since(start) > 30*time.Second {
				t.Fatal(err)
			}
			time.Sleep(2 * time.Millisecond)
		}
		delay := time.Duration(20+20*(round%4)) * time.Millisecond
		time.Sleep(delay)
		if err := s.SetWebhookNotification(c, "watched", arn); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Put(c, "watched", "k.jpg", bytes.NewReader([]byte("jpg")), 3, storage.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-events:
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: no event for a rule set %v after the target came online (%v after ready)",
				round, delay, time.Since(start).Round(time.Millisecond))
		}
		m.Stop()
	}
}
