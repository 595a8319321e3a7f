package e2e

// End-to-end tests of the resize jobs (issue 5): the real imgate binary, real
// aws-cli, real MinIO (with its webhook), real PostgreSQL.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	_ "image/gif"
	"image/jpeg"
	_ "image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/notification"

	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/gateway/storage/fs"
	"github.com/imgate/imgate/internal/testenv"
)

var classicPresets = []string{"50x50", "150x", "x150"}

// jobsClient is a minio-go client of the gateway's S3 API (root keys).
func jobsClient(t testing.TB, srv *server) *minio.Client {
	t.Helper()
	c, err := minio.New(srv.Addr, &minio.Options{
		Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, ""), Region: "us-east-1",
		BucketLookup: minio.BucketLookupPath, MaxRetries: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// minioClient talks to the MinIO server directly (bypassing imgate).
func minioClient(t testing.TB, m *testenv.MinIO) *minio.Client {
	t.Helper()
	c, err := minio.New(m.Endpoint, &minio.Options{
		Creds: credentials.NewStaticV4(m.AccessKey, m.SecretKey, ""), Region: "us-east-1",
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// jobsAdmin calls the admin API; out is filled from a 2xx JSON answer.
func jobsAdmin(t testing.TB, srv *server, method, path string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+srv.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	if resp.StatusCode >= 300 {
		t.Logf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode
}

// allJobs pages through GET /v1/admin/jobs.
func allJobs(t testing.TB, srv *server, query string) []adminapi.Job {
	t.Helper()
	var out []adminapi.Job
	cursor := ""
	for {
		var page adminapi.JobList
		path := "/v1/admin/jobs?limit=500" + query
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		if code := jobsAdmin(t, srv, "GET", path, nil, &page); code != 200 {
			t.Fatalf("list jobs: %d", code)
		}
		out = append(out, page.Jobs...)
		if page.Next == "" {
			return out
		}
		cursor = page.Next
	}
}

// want is one variant expected at NAME-resized/Preset/Key with W×H pixels.
type want struct {
	Preset, Key string
	W, H        int
}

// waitVariants polls the variants through the gateway's S3 API until each
// exists with the expected dimensions, or fails after timeout. The gateway
// renders a missing variant on the spot when asked for it: to see what the
// jobs stored, use waitStored.
func waitVariants(t testing.TB, cl *minio.Client, bucket string, wants []want, timeout time.Duration) time.Duration {
	t.Helper()
	return waitVariantsFrom(t, func(ctx context.Context, key string) (io.ReadCloser, error) {
		return cl.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	}, wants, timeout)
}

// waitStored polls the variants in srv's backend itself (MinIO, or the fs
// store under --data), never through the gateway, so a variant only counts
// when a job stored it.
func waitStored(t testing.TB, srv *server, wants []want, timeout time.Duration) time.Duration {
	t.Helper()
	if srv.opts.MinIO != nil {
		return waitVariants(t, minioClient(t, srv.opts.MinIO), srv.Resized(), wants, timeout)
	}
	store, err := fs.New(filepath.Join(srv.DataDir, "objects"))
	if err != nil {
		t.Fatal(err)
	}
	return waitVariantsFrom(t, func(ctx context.Context, key string) (io.ReadCloser, error) {
		rc, _, err := store.Get(ctx, srv.Resized(), key, storage.GetOptions{Length: -1})
		return rc, err
	}, wants, timeout)
}

// waitVariantsFrom polls get(PRESET/KEY) until each variant decodes with the
// expected dimensions, or fails after timeout.
func waitVariantsFrom(t testing.TB, get func(ctx context.Context, key string) (io.ReadCloser, error), wants []want, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	pending := map[want]string{}
	for _, w := range wants {
		pending[w] = "missing"
	}
	ctx := context.Background()
	for {
		var mu sync.Mutex
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		todo := make([]want, 0, len(pending))
		for w := range pending {
			todo = append(todo, w)
		}
		for _, w := range todo {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				state := variantState(ctx, get, w)
				mu.Lock()
				defer mu.Unlock()
				if state == "" {
					delete(pending, w)
				} else {
					pending[w] = state
				}
			}()
		}
		wg.Wait()
		if len(pending) == 0 {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			n := 0
			for w, st := range pending {
				if n++; n <= 20 {
					t.Errorf("%s/%s: %s (want %dx%d)", w.Preset, w.Key, st, w.W, w.H)
				}
			}
			t.Fatalf("%d of %d variants not right after %s", len(pending), len(wants), timeout)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// variantState returns "" when the variant is right, else what is wrong.
func variantState(ctx context.Context, get func(ctx context.Context, key string) (io.ReadCloser, error), w want) string {
	obj, err := get(ctx, w.Preset+"/"+w.Key)
	if err != nil {
		return err.Error()
	}
	defer obj.Close()
	cfg, _, err := image.DecodeConfig(bufio.NewReader(obj))
	if err != nil {
		return "not decodable: " + err.Error()
	}
	if cfg.Width != w.W || cfg.Height != w.H {
		return fmt.Sprintf("%dx%d", cfg.Width, cfg.Height)
	}
	return ""
}

// imSizes reads ImageMagick's results for the corpus (resizer/testdata/im_sizes.tsv,
// generated with /usr/bin/convert FILE[0] -auto-orient -resize GEOMETRY).
func imSizes(t testing.TB) map[[2]string][2]int {
	t.Helper()
	f, err := os.Open(filepath.Join(testenv.RepoRoot(t), "resizer", "testdata", "im_sizes.tsv"))
	if err != nil {
		t.Fatalf("ImageMagick sizes: %v", err)
	}
	defer f.Close()
	out := map[[2]string][2]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		parts := strings.Split(line, "\t")
		if len(parts) != 3 {
			continue
		}
		var w, h int
		if _, err := fmt.Sscanf(parts[2], "%dx%d", &w, &h); err != nil {
			continue
		}
		out[[2]string{parts[0], parts[1]}] = [2]int{w, h}
	}
	return out
}

// corpusWants are the variants of the corpus images uploaded under prefix.
// imgate never enlarges unless a preset asks ('<', '%', '!'), so a plain
// geometry G equals ImageMagick's "-resize G>" (identical to "-resize G"
// whenever the source is larger than the box).
func corpusWants(t testing.TB, prefix string) []want {
	t.Helper()
	sizes := imSizes(t)
	var out []want
	for _, p := range testenv.CorpusImages(t) {
		name := filepath.Base(p)
		for _, preset := range classicPresets {
			wh, ok := sizes[[2]string{name, preset + ">"}]
			if !ok {
				wh, ok = computeIMSize(t, p, preset+">")
			}
			if !ok {
				t.Fatalf("no ImageMagick size for %s %s", name, preset)
			}
			out = append(out, want{Preset: preset, Key: prefix + name, W: wh[0], H: wh[1]})
		}
	}
	return out
}

// computeIMSize asks /usr/bin/convert for the geometry result.
func computeIMSize(t testing.TB, file, geometry string) ([2]int, bool) {
	t.Helper()
	convert := testenv.Tool(t, "/usr/bin/convert")
	out, err := execOutput(convert, file+"[0]", "-auto-orient", "-resize", geometry, "-format", "%wx%h", "info:")
	if err != nil {
		return [2]int{}, false
	}
	var w, h int
	if _, err := fmt.Sscanf(strings.TrimSpace(out), "%dx%d", &w, &h); err != nil {
		return [2]int{}, false
	}
	return [2]int{w, h}, true
}

func execOutput(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	out, err := cmd.Output()
	return string(out), err
}

// awsUploadCorpus uploads the good corpus images with aws-cli through the gateway.
func awsUploadCorpus(t testing.TB, srv *server, prefix string) {
	t.Helper()
	dir := testenv.Corpus(t)
	out, err := srv.aws(t, "s3", "cp", "--recursive", "--only-show-errors", dir, "s3://"+srv.Original()+"/"+prefix,
		"--exclude", "*", "--include", "*.jpg", "--include", "*.jpeg", "--include", "*.png", "--include", "*.gif",
		"--exclude", "malformed/*")
	if err != nil {
		t.Fatalf("aws s3 cp: %v\n%s", err, out)
	}
}

func jobsCorpusRoundTrip(t *testing.T, srv *server) {
	awsUploadCorpus(t, srv, "corpus/")
	wants := corpusWants(t, "corpus/")
	took := waitStored(t, srv, wants, 5*time.Minute)
	t.Logf("%d variants of %d originals right after %s", len(wants), len(wants)/3, took.Round(time.Millisecond))
	// Each variant links to its original's ETag and carries cache-control.
	cl := jobsClient(t, srv)
	ctx := context.Background()
	orig, err := cl.StatObject(ctx, srv.Original(), wants[0].Key, minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := cl.StatObject(ctx, srv.Resized(), wants[0].Preset+"/"+wants[0].Key, minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := metaValue(v.UserMetadata, "imgate-source-etag"); got != strings.Trim(orig.ETag, `"`) {
		t.Errorf("variant source etag %q, original %q (metadata %v)", got, orig.ETag, v.UserMetadata)
	}
	if cc := v.Metadata.Get("Cache-Control"); !strings.Contains(cc, "max-age") {
		t.Errorf("variant Cache-Control %q", cc)
	}
	// Every job completed once.
	jobs := allJobs(t, srv, "")
	seen := map[string]int{}
	for _, j := range jobs {
		seen[j.Key]++
		if j.State != adminapi.StateCompleted {
			t.Errorf("job %d %s: %s %s", j.ID, j.Key, j.State, j.Error)
		}
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s has %d jobs", k, n)
		}
	}
}

func metaValue(m map[string]string, key string) string {
	for k, v := range m {
		if strings.EqualFold(k, key) || strings.EqualFold(k, "x-amz-meta-"+key) {
			return v
		}
	}
	return ""
}

// TestJobsCorpusFS: the corpus uploaded with aws-cli on the embedded default
// gets every classic variant with ImageMagick's dimensions.
func TestJobsCorpusFS(t *testing.T) {
	srv := startServe(t, serveOptions{})
	jobsCorpusRoundTrip(t, srv)
}

// TestJobsCorpusMinIO: the same on a real MinIO backend.
func TestJobsCorpusMinIO(t *testing.T) {
	m := testenv.StartMinIO(t)
	srv := startServe(t, serveOptions{MinIO: m})
	jobsCorpusRoundTrip(t, srv)
}

// genJPEG returns a distinct w×h JPEG for seed.
func genJPEG(t testing.TB, w, h, seed int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x*7 + seed), uint8(y*3 + seed*13), uint8((x ^ y) + seed*29), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 75}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Generated originals are small (400×300) to keep the runtime low on 2 cores.
const genW, genH = 400, 300

// wantsGen are the classic variants of a generated 400×300 original
// (ImageMagick: 50x50 → 50x38, 150x → 150x113, x150 → 200x150).
func wantsGen(key string) []want {
	return []want{{"50x50", key, 50, 38}, {"150x", key, 150, 113}, {"x150", key, 200, 150}}
}

// putAll uploads n generated JPEGs through the gateway (8 at a time) and
// returns the keys acknowledged with 200.
func putAll(t testing.TB, cl *minio.Client, bucket, prefix string, n, seed int) []string {
	t.Helper()
	var (
		mu   sync.Mutex
		keys []string
		wg   sync.WaitGroup
		sem  = make(chan struct{}, 8)
		errs []error
	)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			key := fmt.Sprintf("%s%04d.jpg", prefix, i)
			data := genJPEG(t, genW, genH, seed+i)
			_, err := cl.PutObject(context.Background(), bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{ContentType: "image/jpeg"})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", key, err))
				return
			}
			keys = append(keys, key)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		t.Logf("upload refused: %v", err)
	}
	return keys
}

func statsOf(t testing.TB, srv *server) adminapi.Stats {
	t.Helper()
	var st adminapi.Stats
	if code := jobsAdmin(t, srv, "GET", "/v1/admin/stats", nil, &st); code != 200 {
		t.Fatalf("stats: %d", code)
	}
	return st
}

// checkOneJobPerKey asserts every key has exactly one job and it completed.
func checkOneJobPerKey(t testing.TB, srv *server, keys []string) {
	t.Helper()
	jobs := allJobs(t, srv, "")
	byKey := map[string][]adminapi.Job{}
	for _, j := range jobs {
		byKey[j.Key] = append(byKey[j.Key], j)
	}
	for _, k := range keys {
		js := byKey[k]
		if len(js) != 1 {
			t.Errorf("%s: %d jobs, want exactly 1", k, len(js))
			continue
		}
		if js[0].State != adminapi.StateCompleted {
			t.Errorf("%s: job %d is %s (%s)", k, js[0].ID, js[0].State, js[0].Error)
		}
	}
}

// TestJobsCrashSafety: 200 uploads, SIGKILL while jobs run, restart: all
// 200×3 variants right, one job per upload.
func TestJobsCrashSafety(t *testing.T) {
	srv := startServe(t, serveOptions{Args: []string{"--workers", "2", "--job-timeout", "10s"}})
	cl := jobsClient(t, srv)
	keys := putAll(t, cl, srv.Original(), "crash/", 200, 0)
	if len(keys) != 200 {
		t.Fatalf("%d of 200 uploads acknowledged", len(keys))
	}
	// Kill while the queue is being worked.
	deadline := time.Now().Add(2 * time.Minute)
	var st adminapi.Stats
	for {
		st = statsOf(t, srv)
		if st.Counts["completed"] >= 20 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	srv.Kill()
	t.Logf("killed with %d completed, %d running, %d queued", st.Counts["completed"], st.Counts["running"], st.Counts["queued"])
	if st.Counts["completed"] >= 200 {
		t.Log("warning: every job finished before the kill")
	}
	srv.Restart(t)
	var wants []want
	for _, k := range keys {
		wants = append(wants, wantsGen(k)...)
	}
	took := waitStored(t, srv, wants, 4*time.Minute)
	t.Logf("all 600 variants right %s after restart", took.Round(time.Millisecond))
	deadline = time.Now().Add(time.Minute)
	for statsOf(t, srv).Counts["completed"] < 200 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	checkOneJobPerKey(t, srv, keys)
}

// TestJobsMinIOOutage: MinIO stopped for 20 s during a run: uploads are
// refused cleanly (503), nothing acknowledged is lost, and the jobs complete
// after MinIO returns.
func TestJobsMinIOOutage(t *testing.T) {
	m := testenv.StartMinIO(t)
	srv := startServe(t, serveOptions{MinIO: m, Args: []string{"--workers", "1", "--job-timeout", "10s"}})
	cl := jobsClient(t, srv)
	keys := putAll(t, cl, srv.Original(), "outage/", 40, 1000)
	if len(keys) != 40 {
		t.Fatalf("%d of 40 uploads acknowledged before the outage", len(keys))
	}
	m.Stop()
	stopped := time.Now()
	// Uploads during the outage are refused with 503, not hung or half-accepted.
	data := genJPEG(t, genW, genH, 5000)
	for i := range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		key := fmt.Sprintf("outage/down-%d.jpg", i)
		_, err := cl.PutObject(ctx, srv.Original(), key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{ContentType: "image/jpeg"})
		cancel()
		if err == nil {
			t.Logf("%s acknowledged during the outage; it must be processed too", key)
			keys = append(keys, key)
			continue
		}
		resp := minio.ToErrorResponse(err)
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("upload during outage: %v (status %d), want 503", err, resp.StatusCode)
		}
	}
	if code, _ := get(t, srv.URL+"/readyz"); code != http.StatusServiceUnavailable {
		t.Logf("note: /readyz during the outage = %d", code)
	}
	time.Sleep(20*time.Second - time.Since(stopped))
	m.Start(t)
	var wants []want
	for _, k := range keys {
		wants = append(wants, wantsGen(k)...)
	}
	took := waitStored(t, srv, wants, 4*time.Minute)
	t.Logf("all variants right %s after MinIO returned", took.Round(time.Millisecond))
	checkOneJobPerKey(t, srv, keys)
}

// presignBackend asks imgate's upload API for a URL straight to the backend.
func presignBackend(t testing.TB, srv *server, key string) (string, map[string]string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"key": key, "target": "backend", "content_types": []string{"image/jpeg"}})
	req, _ := http.NewRequest("POST", srv.URL+"/v1/uploads", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+srv.APIKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 && resp.StatusCode != 201 {
		t.Fatalf("presign: %d %s", resp.StatusCode, raw)
	}
	var out struct {
		URL     string            `json:"url"`
		Headers map[string]string `json:"headers"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.URL, "X-Amz-Signature") {
		t.Fatalf("not a presigned URL: %s", out.URL)
	}
	return out.URL, out.Headers
}

func putURL(t testing.TB, url string, headers map[string]string, data []byte) {
	t.Helper()
	req, _ := http.NewRequest("PUT", url, bytes.NewReader(data))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "image/jpeg")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("PUT presigned: %d %s", resp.StatusCode, raw)
	}
}

// TestJobsMinIOWebhook: an object PUT straight into MinIO with a
// backend-presigned URL gets its variants through MinIO's webhook; a removal
// in MinIO deletes them; with the webhook off the reconcile scan finds new objects.
func TestJobsMinIOWebhook(t *testing.T) {
	addr := testenv.FreeAddr(t)
	token := "evt_" + testenv.RandomHex(12)
	// MinIO must know imgate's URL when it starts; imgate must be up before the
	// bucket notification is set (MinIO checks the target then).
	m := testenv.StartMinIO(t,
		"MINIO_NOTIFY_WEBHOOK_ENABLE_PRIMARY=on",
		"MINIO_NOTIFY_WEBHOOK_ENDPOINT_PRIMARY=http://"+addr+"/v1/events/s3",
		"MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_PRIMARY="+token,
	)
	srv := startServe(t, serveOptions{MinIO: m, Listen: addr, EventsToken: token})
	mc := minioClient(t, m)
	ctx := context.Background()
	cfg := notification.Configuration{}
	arn := notification.NewArn("minio", "sqs", "", "PRIMARY", "webhook")
	q := notification.NewConfig(arn)
	q.AddEvents(notification.ObjectCreatedAll, notification.ObjectRemovedAll)
	cfg.AddQueue(q)
	if err := mc.SetBucketNotification(ctx, srv.Original(), cfg); err != nil {
		t.Fatalf("set bucket notification: %v", err)
	}

	url, headers := presignBackend(t, srv, "direct/hooked photo.jpg")
	if strings.HasPrefix(url, srv.URL) {
		t.Fatalf("presigned URL points at the gateway, not the backend: %s", url)
	}
	putURL(t, url, headers, genJPEG(t, genW, genH, 7))
	took := waitStored(t, srv, wantsGen("direct/hooked photo.jpg"), time.Minute)
	t.Logf("webhook: variants %s after the direct PUT", took.Round(time.Millisecond))
	jobs := allJobs(t, srv, "&prefix=direct/")
	if len(jobs) != 1 || jobs[0].Source != "webhook" {
		t.Fatalf("jobs = %+v, want one from the webhook", jobs)
	}

	// A replayed (or late) ObjectRemoved for the live original deletes nothing.
	replay := fmt.Sprintf(`{"Records":[{"eventName":"s3:ObjectRemoved:Delete","s3":{"bucket":{"name":%q},"object":{"key":"direct%%2Fhooked+photo.jpg","sequencer":"1"}}}]}`, srv.Original())
	req, _ := http.NewRequest("POST", srv.URL+"/v1/events/s3", strings.NewReader(replay))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(raw), `"ignored":1`) {
		t.Fatalf("replayed removal: %d %s, want 200 with 1 ignored", resp.StatusCode, raw)
	}
	for _, p := range classicPresets {
		if _, err := mc.StatObject(ctx, srv.Resized(), p+"/direct/hooked photo.jpg", minio.StatObjectOptions{}); err != nil {
			t.Fatalf("variant %s deleted by a removed-event for a live original: %v", p, err)
		}
	}

	// Removed in MinIO → variants deleted.
	if err := mc.RemoveObject(ctx, srv.Original(), "direct/hooked photo.jpg", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		gone := 0
		for _, p := range classicPresets {
			if _, err := mc.StatObject(ctx, srv.Resized(), p+"/direct/hooked photo.jpg", minio.StatObjectOptions{}); err != nil {
				gone++
			}
		}
		if gone == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("variants survive ObjectRemoved (%d of 3 gone)", gone)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Webhook off: nothing happens until the reconcile scan.
	if err := mc.RemoveAllBucketNotification(ctx, srv.Original()); err != nil {
		t.Fatal(err)
	}
	url, headers = presignBackend(t, srv, "direct/quiet.jpg")
	putURL(t, url, headers, genJPEG(t, genW, genH, 8))
	time.Sleep(3 * time.Second)
	if jobs := allJobs(t, srv, "&prefix=direct/quiet"); len(jobs) != 0 {
		t.Fatalf("a job appeared without the webhook: %+v", jobs)
	}
	var rec adminapi.ReconcileResult
	if code := jobsAdmin(t, srv, "POST", "/v1/admin/reconcile", nil, &rec); code != 200 || rec.Enqueued != 1 {
		t.Fatalf("reconcile: %d %+v, want 1 enqueued", code, rec)
	}
	waitStored(t, srv, wantsGen("direct/quiet.jpg"), time.Minute)
	if jobs := allJobs(t, srv, "&prefix=direct/quiet"); len(jobs) != 1 || jobs[0].Source != "reconcile" {
		t.Fatalf("jobs = %+v, want one from the reconcile scan", jobs)
	}
}

// completedByThisProcess reads imgate_jobs_total{state="completed"} from /metrics.
func completedByThisProcess(t *testing.T, srv *server) int {
	t.Helper()
	_, body := get(t, srv.URL+"/metrics")
	for line := range strings.SplitSeq(body, "\n") {
		if rest, ok := strings.CutPrefix(line, `imgate_jobs_total{state="completed"} `); ok {
			n, _ := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return int(n)
		}
	}
	return 0
}

// TestJobsScaleOut: two imgate processes on one PostgreSQL (and one shared
// data directory as their storage) share the work: every image processed
// once in effect, both did work.
func TestJobsScaleOut(t *testing.T) {
	dsn := testenv.Postgres(t)
	a := startServe(t, serveOptions{Database: dsn, Args: []string{"--workers", "1"}})
	b := startServe(t, serveOptions{Database: dsn, DataDir: a.DataDir, Args: []string{"--workers", "1"},
		AccessKey: a.AccessKey, SecretKey: a.SecretKey, AdminToken: a.AdminToken, APIKey: a.APIKey,
		EventsToken: a.EventsToken, TokenSecret: a.TokenSecret})
	ka := putAll(t, jobsClient(t, a), a.Original(), "scale/a/", 30, 0)
	kb := putAll(t, jobsClient(t, b), b.Original(), "scale/b/", 30, 100)
	keys := append(ka, kb...)
	if len(keys) != 60 {
		t.Fatalf("%d of 60 uploads acknowledged", len(keys))
	}
	var wants []want
	for _, k := range keys {
		wants = append(wants, wantsGen(k)...)
	}
	took := waitStored(t, a, wants, 4*time.Minute)
	t.Logf("60 images on two nodes in %s", took.Round(time.Millisecond))
	deadline := time.Now().Add(time.Minute)
	var na, nb int
	for {
		na, nb = completedByThisProcess(t, a), completedByThisProcess(t, b)
		if na+nb >= 60 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("node A completed %d jobs, node B %d", na, nb)
	if na+nb != 60 {
		t.Errorf("nodes completed %d+%d jobs, want 60 in total (each image once)", na, nb)
	}
	if na == 0 || nb == 0 {
		t.Errorf("one node did no work: A %d, B %d", na, nb)
	}
	checkOneJobPerKey(t, a, keys)
}

// malformedExpect names what the failure reason of each hostile file must mention.
var malformedExpect = map[string][]string{
	"trunc_progressive_50pct.jpg": {"truncat", "corrupt"},
	"trunc_baseline_30pct.jpg":    {"truncat", "corrupt"},
	"trunc_header_only.jpg":       {"truncat", "corrupt"},
	"skimage_truncated.jpg":       {"truncat", "corrupt"},
	"trunc_50pct.png":             {"truncat", "corrupt"},
	"bomb_50000x50000.png":        {"pixel", "too large"},
	"bomb_65500x65500.jpg":        {"pixel", "too large"},
	"text_named.jpg":              {"not an image"},
	"bad_ihdr_crc.png":            {"corrupt", "checksum", "crc"},
}

// TestJobsMalformed: hostile files end as failed jobs with a reason naming
// the problem, the server stays small, and the next good upload works.
func TestJobsMalformed(t *testing.T) {
	// text/plain is let through the upload filter so the job itself must refuse it.
	srv := startServe(t, serveOptions{Args: []string{"--allowed-types", "image/jpeg,image/png,image/gif,image/webp,text/plain"}})
	dir := filepath.Join(testenv.Corpus(t), "malformed")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	cl := jobsClient(t, srv)
	ctx := context.Background()
	uploaded := map[string]bool{}
	for _, e := range ents {
		name := e.Name()
		if name == "MANIFEST.tsv" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		_, err = cl.PutObject(ctx, srv.Original(), "bad/"+name, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{})
		if len(data) == 0 {
			// Empty objects are refused at the door with a reason.
			if err == nil || !strings.Contains(strings.ToLower(err.Error()), "empty") {
				t.Errorf("%s: upload error %v, want a refusal naming the empty object", name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: upload: %v", name, err)
			continue
		}
		uploaded[name] = true
	}
	deadline := time.Now().Add(3 * time.Minute)
	final := map[string]adminapi.Job{}
	for len(final) < len(uploaded) && time.Now().Before(deadline) {
		for _, j := range allJobs(t, srv, "&prefix=bad/") {
			if j.State == adminapi.StateCompleted || j.State == adminapi.StateFailed {
				final[strings.TrimPrefix(j.Key, "bad/")] = j
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	for name := range uploaded {
		j, ok := final[name]
		if !ok {
			t.Errorf("%s: no final job state", name)
			continue
		}
		if name == "png_named.jpg" { // a valid PNG with a misleading name: sniffed, processed
			if j.State != adminapi.StateCompleted {
				t.Errorf("%s: %s %q, want completed", name, j.State, j.Error)
			}
			continue
		}
		if j.State != adminapi.StateFailed || j.Attempt != 1 {
			t.Errorf("%s: %s after %d attempts (%q), want failed at once", name, j.State, j.Attempt, j.Error)
			continue
		}
		reason := strings.ToLower(j.Error)
		ok = false
		for _, w := range malformedExpect[name] {
			if strings.Contains(reason, w) {
				ok = true
			}
		}
		if !ok {
			t.Errorf("%s: reason %q does not mention any of %v", name, j.Error, malformedExpect[name])
		}
		t.Logf("%-28s %s", name, j.Error)
	}
	hwm := srv.VmHWM(t)
	t.Logf("server peak RSS (VmHWM) %.1f MB", float64(hwm)/(1<<20))
	if hwm >= 300<<20 {
		t.Errorf("server peak RSS %d MB, want < 300 MB", hwm>>20)
	}
	keys := putAll(t, cl, srv.Original(), "after-bad/", 1, 42)
	if len(keys) != 1 {
		t.Fatal("good upload after the hostile ones refused")
	}
	waitStored(t, srv, wantsGen(keys[0]), time.Minute)
}

// TestJobsDeleteAndBackfill: deleting an original removes its variants; a new
// preset + backfill renders it for every existing original, with progress.
func TestJobsDeleteAndBackfill(t *testing.T) {
	srv := startServe(t, serveOptions{})
	dir := t.TempDir()
	for i := range 6 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.jpg", i)), genJPEG(t, genW, genH, 300+i), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := srv.aws(t, "s3", "cp", "--recursive", "--only-show-errors", dir, "s3://"+srv.Original()+"/bf/"); err != nil {
		t.Fatalf("aws s3 cp: %v\n%s", err, out)
	}
	cl := jobsClient(t, srv)
	var wants []want
	for i := range 6 {
		wants = append(wants, wantsGen(fmt.Sprintf("bf/%d.jpg", i))...)
	}
	waitStored(t, srv, wants, 2*time.Minute)

	// Delete through the gateway with aws-cli: the variants go too.
	if out, err := srv.aws(t, "s3", "rm", "s3://"+srv.Original()+"/bf/0.jpg"); err != nil {
		t.Fatalf("aws s3 rm: %v\n%s", err, out)
	}
	ctx := context.Background()
	for _, p := range classicPresets {
		if _, err := cl.StatObject(ctx, srv.Resized(), p+"/bf/0.jpg", minio.StatObjectOptions{}); err == nil {
			t.Errorf("%s/bf/0.jpg survives the delete of its original", p)
		} else if minio.ToErrorResponse(err).StatusCode != http.StatusNotFound {
			t.Errorf("%s/bf/0.jpg: %v", p, err)
		}
	}

	// New preset + backfill.
	var list adminapi.PresetList
	if code := jobsAdmin(t, srv, "POST", "/v1/admin/presets", adminapi.Preset{Name: "64x64^", Geometry: "64x64^", Crop: true}, &list); code != http.StatusCreated {
		t.Fatalf("create preset: %d", code)
	}
	var b adminapi.Backfill
	if code := jobsAdmin(t, srv, "POST", "/v1/admin/backfill", adminapi.BackfillRequest{}, &b); code != http.StatusAccepted {
		t.Fatalf("start backfill: %d", code)
	}
	var progress []string
	deadline := time.Now().Add(2 * time.Minute)
	for b.State != "done" {
		if time.Now().After(deadline) {
			t.Fatalf("backfill not done: %+v", b)
		}
		time.Sleep(100 * time.Millisecond)
		if code := jobsAdmin(t, srv, "GET", "/v1/admin/backfill", nil, &b); code != 200 {
			t.Fatalf("backfill progress: %d", code)
		}
		p := fmt.Sprintf("%d/%d", b.Done, b.Total)
		if len(progress) == 0 || progress[len(progress)-1] != p {
			progress = append(progress, p)
		}
	}
	t.Logf("backfill progress seen: %v", progress)
	if b.Total != 5 || b.Done != 5 || b.Failed != 0 || !b.Scanned {
		t.Fatalf("backfill = %+v, want 5/5 done", b)
	}
	var fills []want
	for i := 1; i < 6; i++ {
		fills = append(fills, want{"64x64^", fmt.Sprintf("bf/%d.jpg", i), 64, 64})
	}
	waitStored(t, srv, fills, 10*time.Second)
	if _, err := cl.StatObject(ctx, srv.Resized(), "64x64^/bf/0.jpg", minio.StatObjectOptions{}); err == nil {
		t.Error("backfill rendered a deleted original")
	}
}
