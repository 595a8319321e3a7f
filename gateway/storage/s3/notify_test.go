package s3_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/gateway/storage/s3"
	"github.com/imgate/imgate/internal/testenv"
)

// TestWebhookNotification wires a bucket to a webhook target of a real
// MinIO and checks a put and a delete arrive as S3 event records.
func TestWebhookNotification(t *testing.T) {
	events, _, s := startWebhookMinIO(t)
	c := t.Context()
	if err := s.EnsureBucket(c, "watched"); err != nil {
		t.Fatal(err)
	}
	t.Logf("webhook target known %v after ready", setWhenTargetOnline(t, s, "watched", webhookARN))
	// Setting it again replaces, not duplicates.
	if err := s.SetWebhookNotification(c, "watched", webhookARN); err != nil {
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
		case ev := <-events:
			got := ev.Name + " " + ev.Key
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

// TestWebhookRuleSetAtBoot sets buckets' rules in the first 150 ms after a
// restarted MinIO's webhook target comes online. That is when a MinIO
// started without sync boot loads its buckets' rules (each after a random
// 25–125 ms) and then installs them, overwriting a rule set in between: no
// event is ever sent for that bucket. testenv starts MinIO as
// docker-compose.yml and scripts/dev.sh do, with MINIO_SYNC_BOOT=on, which
// holds S3 calls until the rules are installed; without it this test failed
// in each of 7 runs here (6 times in its first round).
func TestWebhookRuleSetAtBoot(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts MinIO 3 times")
	}
	events, m, s := startWebhookMinIO(t)
	c := t.Context()
	watched := make([]string, 10)
	for i := range watched {
		watched[i] = fmt.Sprintf("watched-%d", i)
	}
	for _, b := range append([]string{"probe"}, watched...) {
		if err := s.EnsureBucket(c, b); err != nil {
			t.Fatal(err)
		}
	}
	for round := range 3 {
		// A restart: every bucket is there when MinIO lists them at boot.
		m.Stop()
		m.Start(t)
		online := setWhenTargetOnline(t, s, "probe", webhookARN)
		for _, b := range watched {
			time.Sleep(15 * time.Millisecond)
			if err := s.SetWebhookNotification(c, b, webhookARN); err != nil {
				t.Fatal(err)
			}
		}
		missing := map[string]bool{}
		for _, b := range watched {
			missing[b] = true
			if _, err := s.Put(c, b, "k.jpg", bytes.NewReader([]byte("jpg")), 3, storage.PutOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		deadline := time.After(10 * time.Second)
		for len(missing) > 0 {
			select {
			case ev := <-events:
				delete(missing, ev.Bucket)
			case <-deadline:
				t.Fatalf("round %d: no event from %v, their rules set 15–150 ms after the target came online (%v after ready)",
					round, slices.Sorted(maps.Keys(missing)), online)
			}
		}
		for _, b := range watched {
			if err := s.Client().RemoveAllBucketNotification(c, b); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// webhookARN is the target MINIO_NOTIFY_WEBHOOK_*_PRIMARY configures.
const webhookARN = "arn:minio:sqs::PRIMARY:webhook"

// setWhenTargetOnline sets bucket's rule for arn as soon as MinIO knows the
// target, and returns how long that took. MinIO brings its notification
// targets online only after it answers ready (with sync boot too); until
// then it refuses the ARN. The retries are 2 ms apart, so the rule is set
// within a few ms of the target coming online.
func setWhenTargetOnline(t *testing.T, s *s3.Store, bucket, arn string) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		err := s.SetWebhookNotification(t.Context(), bucket, arn)
		if err == nil {
			return time.Since(start).Round(time.Millisecond)
		}
		if !strings.Contains(err.Error(), "destination ARN does not exist") || time.Since(start) > 30*time.Second {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// event is what a webhook test needs of one S3 event record.
type event struct{ Name, Bucket, Key string }

// startWebhookMinIO starts MinIO with its PRIMARY webhook target pointed at
// a receiver that passes each record it gets to the returned channel.
func startWebhookMinIO(t *testing.T) (<-chan event, *testenv.MinIO, *s3.Store) {
	t.Helper()
	events := make(chan event, 64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Records []struct {
				EventName string
				S3        struct {
					Bucket struct{ Name string }
					Object struct{ Key string }
				}
			}
		}
		b, _ := io.ReadAll(r.Body)
		if json.Unmarshal(b, &body) == nil {
			for _, rec := range body.Records {
				key, _ := url.QueryUnescape(rec.S3.Object.Key)
				events <- event{Name: rec.EventName, Bucket: rec.S3.Bucket.Name, Key: key}
			}
		}
	}))
	t.Cleanup(srv.Close)
	m, s := startMinIO(t,
		"MINIO_NOTIFY_WEBHOOK_ENABLE_PRIMARY=on",
		"MINIO_NOTIFY_WEBHOOK_ENDPOINT_PRIMARY="+srv.URL+"/events")
	return events, m, s
}
