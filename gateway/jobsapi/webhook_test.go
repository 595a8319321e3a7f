package jobsapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/gateway/jobs"
	"github.com/imgate/imgate/gateway/jobs/jobstest"
)

func minioEvent(name, bucket, key, etag string, size int64) string {
	return fmt.Sprintf(`{"EventName":"%s","Key":"%s/%s","Records":[{"eventVersion":"2.0","eventSource":"minio:s3","awsRegion":"",
"eventTime":"2026-11-27T08:00:00.000Z","eventName":"%s","userIdentity":{"principalId":"minio"},"requestParameters":{},
"responseElements":{},"s3":{"s3SchemaVersion":"1.0","configurationId":"Config","bucket":{"name":"%s","ownerIdentity":{"principalId":"minio"},"arn":"arn:aws:s3:::%s"},
"object":{"key":"%s","size":%d,"eTag":"%s","contentType":"image/jpeg","userMetadata":{"content-type":"image/jpeg"},"sequencer":"1"}},
"source":{"host":"127.0.0.1","port":"","userAgent":"MinIO"}}]}`, name, bucket, key, name, bucket, bucket, key, size, etag)
}

func TestParseS3Event(t *testing.T) {
	cases := []struct {
		name    string
		body    string
		want    []jobs.ObjectEvent
		wantErr bool
	}{
		{"minio put", minioEvent("s3:ObjectCreated:Put", "imgate-original", "a.jpg", "abc", 10),
			[]jobs.ObjectEvent{{Created: true, Bucket: "imgate-original", Key: "a.jpg", Size: 10, ETag: "abc"}}, false},
		{"aws name, encoded key with plus and slash", minioEvent("ObjectCreated:CompleteMultipartUpload", "b1", "photos%2Fmy+cat+%2B+dog%C3%A9.jpg", `\"ABC\"`, 5),
			[]jobs.ObjectEvent{{Created: true, Bucket: "b1", Key: "photos/my cat + dogé.jpg", Size: 5, ETag: "abc"}}, false},
		{"unencoded slash", minioEvent("s3:ObjectCreated:Copy", "b1", "x/y.png", "e", 1),
			[]jobs.ObjectEvent{{Created: true, Bucket: "b1", Key: "x/y.png", Size: 1, ETag: "e"}}, false},
		{"removed", minioEvent("s3:ObjectRemoved:Delete", "b1", "gone.jpg", "", 0),
			[]jobs.ObjectEvent{{Bucket: "b1", Key: "gone.jpg"}}, false},
		{"other events skipped", minioEvent("s3:ObjectAccessed:Get", "b1", "a.jpg", "e", 1), nil, false},
		{"aws test event", `{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-01-01T00:00:00Z","Bucket":"b1"}`, nil, false},
		{"bad escape", minioEvent("s3:ObjectCreated:Put", "b1", "a%zz.jpg", "e", 1), nil, true},
		{"dot-dot key", minioEvent("s3:ObjectCreated:Put", "b1", "a%2F..%2Fb", "e", 1), nil, true},
		{"NUL key", minioEvent("s3:ObjectCreated:Put", "b1", "a%00b", "e", 1), nil, true},
		{"empty key", minioEvent("s3:ObjectCreated:Put", "b1", "", "e", 1), nil, true},
		{"no bucket", minioEvent("s3:ObjectCreated:Put", "", "k", "e", 1), nil, true},
		{"not JSON", `<xml/>`, nil, true},
		{"records not a list", `{"Records":{}}`, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseS3Event([]byte(c.body))
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, c.wantErr)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Errorf("record %d: %+v, want %+v", i, got[i], c.want[i])
				}
			}
		})
	}
}

func FuzzParseS3Event(f *testing.F) {
	f.Add([]byte(minioEvent("s3:ObjectCreated:Put", "imgate-original", "a%2Fb+c.jpg", "abc", 10)))
	f.Add([]byte(minioEvent("s3:ObjectRemoved:Delete", "imgate-original", "x", "", 0)))
	f.Add([]byte(`{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"%"}}}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		evs, err := parseS3Event(body)
		if err != nil {
			return
		}
		for _, ev := range evs {
			if ev.Key == "" || ev.Bucket == "" {
				t.Fatalf("accepted empty key or bucket: %+v", ev)
			}
		}
	})
}

func TestEventsHandler(t *testing.T) {
	e := newEnv(t, jobstest.Options{})
	info := e.Put(t, "hook/my cat.jpg", jobstest.JPEG(t, 120, 80))
	post := func(body string) int {
		resp, _ := e.do(t, "POST", "/v1/events/s3", testEventsToken, body)
		return resp.StatusCode
	}
	// Events for the resized bucket or other buckets are ignored (no loops).
	if code := post(minioEvent("s3:ObjectCreated:Put", "imgate-resized", "150x%2Fhook%2Fmy+cat.jpg", "e", 1)); code != 200 {
		t.Fatalf("resized event: %d", code)
	}
	if code := post(minioEvent("s3:ObjectCreated:Put", "elsewhere", "hook%2Fmy+cat.jpg", info.ETag, info.Size)); code != 200 {
		t.Fatalf("other bucket event: %d", code)
	}
	list, _ := e.Svc.ListJobs(context.Background(), jobs.JobFilter{Limit: 10})
	if len(list.Jobs) != 0 {
		t.Fatalf("ignored events created jobs: %+v", list.Jobs)
	}
	if code := post(minioEvent("s3:ObjectCreated:Put", "imgate-original", "hook%2Fmy+cat.jpg", info.ETag, info.Size)); code != 200 {
		t.Fatalf("created event: %d", code)
	}
	// MinIO delivers at least once: the duplicate collapses.
	if code := post(minioEvent("s3:ObjectCreated:Put", "imgate-original", "hook%2Fmy+cat.jpg", info.ETag, info.Size)); code != 200 {
		t.Fatalf("duplicate event: %d", code)
	}
	j := e.WaitKey(t, "hook/my cat.jpg", adminapi.StateCompleted)
	if j.Source != "webhook" {
		t.Errorf("source %q", j.Source)
	}
	list, _ = e.Svc.ListJobs(context.Background(), jobs.JobFilter{Limit: 10})
	if len(list.Jobs) != 1 {
		t.Fatalf("jobs = %d, want 1", len(list.Jobs))
	}
	// An event without an ETag stats the object.
	e.Put(t, "hook/noetag.jpg", jobstest.JPEG(t, 60, 60))
	if code := post(minioEvent("s3:ObjectCreated:Put", "imgate-original", "hook%2Fnoetag.jpg", "", 0)); code != 200 {
		t.Fatalf("event without etag: %d", code)
	}
	e.WaitKey(t, "hook/noetag.jpg", adminapi.StateCompleted)
	// ObjectRemoved deletes the variants.
	if err := e.Store.Delete(context.Background(), "imgate-original", "hook/my cat.jpg"); err != nil {
		t.Fatal(err)
	}
	if code := post(minioEvent("s3:ObjectRemoved:Delete", "imgate-original", "hook%2Fmy+cat.jpg", "", 0)); code != 200 {
		t.Fatalf("removed event: %d", code)
	}
	if _, _, err := e.Variant(t, "150x", "hook/my cat.jpg"); err == nil {
		t.Error("variant survives ObjectRemoved")
	}
	// Bad input.
	for _, body := range []string{`nope`, minioEvent("s3:ObjectCreated:Put", "imgate-original", "a%2F..%2Fb", "e", 1)} {
		if code := post(body); code != http.StatusBadRequest {
			t.Errorf("bad event %q: %d, want 400", body[:10], code)
		}
	}
	resp, _ := e.do(t, "GET", "/v1/events/s3", testEventsToken, nil)
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET events: %d", resp.StatusCode)
	}
	_ = time.Second
}

// minioRecords is one notification of n records (keys k0…k(n-1) under prefix).
func minioRecords(name, prefix string, n int) string {
	recs := make([]string, n)
	for i := range recs {
		recs[i] = fmt.Sprintf(`{"eventName":%q,"s3":{"bucket":{"name":"imgate-original"},"object":{"key":"%s%d.jpg","size":10,"eTag":"e%d"}}}`,
			name, prefix, i, i)
	}
	return `{"Records":[` + strings.Join(recs, ",") + `]}`
}

// TestEventsCannotDestroy: events are hints checked against the backend. A
// late or replayed ObjectRemoved for an original that exists keeps its
// variants; created-events for missing objects queue nothing; one request's
// records are bounded. A legitimate removal still deletes.
func TestEventsCannotDestroy(t *testing.T) {
	e := newEnv(t, jobstest.Options{})
	ctx := context.Background()
	info := e.Upload(t, "live/cat.jpg", jobstest.JPEG(t, 120, 80))
	e.WaitKey(t, "live/cat.jpg", adminapi.StateCompleted)
	post := func(body string) (int, jobs.EventsResult) {
		resp, raw := e.do(t, "POST", "/v1/events/s3", testEventsToken, body)
		var res jobs.EventsResult
		if resp.StatusCode == 200 {
			if err := json.Unmarshal(raw, &res); err != nil {
				t.Fatalf("answer %s: %v", raw, err)
			}
		}
		return resp.StatusCode, res
	}

	// Attack: replayed removal of a live original.
	code, res := post(minioEvent("s3:ObjectRemoved:Delete", "imgate-original", "live%2Fcat.jpg", "", 0))
	if code != 200 || res.Accepted != 0 || res.Ignored != 1 {
		t.Fatalf("removed event for a live original: %d %+v, want 200 with 1 ignored", code, res)
	}
	for _, p := range []string{"50x50", "150x", "x150"} {
		if _, _, err := e.Variant(t, p, "live/cat.jpg"); err != nil {
			t.Errorf("variant %s deleted by a removed-event for a live original: %v", p, err)
		}
	}

	// Attack: 100 created-events for objects that do not exist.
	before := len(e.Jobs(t))
	code, res = post(minioRecords("s3:ObjectCreated:Put", "ghost/", maxEventRecords))
	if code != 200 || res.Accepted != 0 || res.Ignored != maxEventRecords {
		t.Fatalf("ghost created-events: %d %+v, want 200 with %d ignored", code, res, maxEventRecords)
	}
	// Attack: one record over the bound is refused whole, as JSON.
	resp, raw := e.do(t, "POST", "/v1/events/s3", testEventsToken, minioRecords("s3:ObjectCreated:Put", "ghost/", maxEventRecords+1))
	var perr adminapi.ErrorBody
	_ = json.Unmarshal(raw, &perr)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || perr.Error.Code != "too_many_records" {
		t.Fatalf("%d records: %d %s %s, want 413 JSON", maxEventRecords+1, resp.StatusCode, resp.Header.Get("Content-Type"), raw)
	}
	if after := len(e.Jobs(t)); after != before {
		t.Fatalf("events for missing objects queued %d jobs", after-before)
	}

	// Legitimate: a created-event whose ETag is stale enqueues the stored bytes.
	e.Put(t, "live/dog.jpg", jobstest.JPEG(t, 90, 60))
	if code, res = post(minioEvent("s3:ObjectCreated:Put", "imgate-original", "live%2Fdog.jpg", "stale", 1)); code != 200 || res.Accepted != 1 {
		t.Fatalf("created event: %d %+v", code, res)
	}
	if j := e.WaitKey(t, "live/dog.jpg", adminapi.StateCompleted); j.ETag == "stale" {
		t.Errorf("job used the event's ETag, not the stored object's")
	}
	// Legitimate: the original really is gone → variants deleted.
	if err := e.Store.Delete(ctx, "imgate-original", info.Key); err != nil {
		t.Fatal(err)
	}
	if code, res = post(minioEvent("s3:ObjectRemoved:Delete", "imgate-original", "live%2Fcat.jpg", "", 0)); code != 200 || res.Accepted != 1 {
		t.Fatalf("removed event: %d %+v", code, res)
	}
	if _, _, err := e.Variant(t, "150x", "live/cat.jpg"); err == nil {
		t.Error("variant survives the removal of its original")
	}
}
