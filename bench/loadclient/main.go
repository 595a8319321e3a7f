// Command loadclient drives bench/load.sh: N uploads from C concurrent
// clients through one or more imgate endpoints (client i starts on endpoint
// i mod len and fails over to the next when a node is down, as a load
// balancer with retries would), then checks in the backend (MinIO) that
// every acknowledged upload is stored with all its variants, and prints
// throughput and latency percentiles.
//
// An upload is acknowledged when imgate answered 200; its latency runs from
// the first attempt to that answer (retries on another node included). The
// upload→variants latency runs from the acknowledgement to the backend's
// LastModified of the last of its variants.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

type config struct {
	endpoints           []string
	n, clients          int
	bucket, prefix      string
	accessKey, secret   string
	backend             string
	backendAK, backSK   string
	presets             []string
	midwayCmd           string
	wait                time.Duration
	width, height, imgs int
}

// upload is one acknowledged upload.
type upload struct {
	key      string
	ackedAt  time.Time
	latency  time.Duration
	attempts int
}

func main() {
	var c config
	var endpoints, presets string
	flag.StringVar(&endpoints, "endpoints", "", "comma-separated imgate host:port list")
	flag.IntVar(&c.n, "n", 1000, "uploads")
	flag.IntVar(&c.clients, "c", 32, "concurrent clients")
	flag.StringVar(&c.bucket, "bucket", "imgate", "bucket NAME (NAME-original, NAME-resized)")
	flag.StringVar(&c.prefix, "prefix", "load/", "key prefix")
	flag.StringVar(&c.backend, "backend", "", "MinIO host:port to verify in")
	flag.StringVar(&presets, "presets", "50x50,150x,x150", "presets every original must have")
	flag.StringVar(&c.midwayCmd, "midway", "", "shell command run (in the background) when half the uploads are acknowledged")
	flag.DurationVar(&c.wait, "wait", 5*time.Minute, "how long to wait for all variants after the last upload")
	flag.IntVar(&c.width, "w", 800, "image width")
	flag.IntVar(&c.height, "h", 600, "image height")
	flag.IntVar(&c.imgs, "images", 16, "distinct images to cycle through")
	flag.Parse()
	c.endpoints = strings.Split(endpoints, ",")
	c.presets = strings.Split(presets, ",")
	c.accessKey, c.secret = os.Getenv("IMGATE_ACCESS_KEY"), os.Getenv("IMGATE_SECRET_KEY")
	c.backendAK, c.backSK = os.Getenv("BACKEND_ACCESS_KEY"), os.Getenv("BACKEND_SECRET_KEY")
	if endpoints == "" || c.backend == "" || c.accessKey == "" || c.backendAK == "" {
		fmt.Fprintln(os.Stderr, "loadclient: need -endpoints, -backend, IMGATE_ACCESS_KEY/SECRET_KEY, BACKEND_ACCESS_KEY/SECRET_KEY")
		os.Exit(2)
	}
	if err := run(context.Background(), c); err != nil {
		fmt.Fprintln(os.Stderr, "loadclient:", err)
		os.Exit(1)
	}
}

func newClient(endpoint, ak, sk string) (*minio.Client, error) {
	return minio.New(endpoint, &minio.Options{
		Creds: credentials.NewStaticV4(ak, sk, ""), Region: "us-east-1", BucketLookup: minio.BucketLookupPath,
	})
}

func run(ctx context.Context, c config) error {
	// Fail over ourselves instead of minio-go retrying a dead node.
	minio.MaxRetry = 1
	images, err := makeImages(c.width, c.height, c.imgs)
	if err != nil {
		return err
	}
	clients := make([]*minio.Client, len(c.endpoints))
	for i, ep := range c.endpoints {
		if clients[i], err = newClient(ep, c.accessKey, c.secret); err != nil {
			return err
		}
	}
	start := time.Now()
	ups, failed := uploadAll(ctx, c, clients, images)
	upWall := time.Since(start)
	fmt.Printf("uploads: %d acknowledged, %d failed for good, %.1f s, %.1f uploads/s\n",
		len(ups), failed, upWall.Seconds(), float64(len(ups))/upWall.Seconds())
	lat := make([]time.Duration, 0, len(ups))
	retried := 0
	for _, u := range ups {
		lat = append(lat, u.latency)
		if u.attempts > 1 {
			retried++
		}
	}
	fmt.Printf("upload latency: p50 %s p99 %s max %s (%d uploads needed a second node)\n",
		pct(lat, 50), pct(lat, 99), pct(lat, 100), retried)
	backend, err := newClient(c.backend, c.backendAK, c.backSK)
	if err != nil {
		return err
	}
	return verify(ctx, c, backend, ups, start)
}

// makeImages returns distinct JPEGs.
func makeImages(w, h, n int) ([][]byte, error) {
	out := make([][]byte, n)
	for i := range out {
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				img.Set(x, y, color.RGBA{uint8(x*7 + i*31), uint8(y*3 + i*13), uint8((x ^ y) + i*29), 255})
			}
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
			return nil, fmt.Errorf("encode: %w", err)
		}
		out[i] = buf.Bytes()
	}
	return out, nil
}

// uploadAll runs the clients; it returns the acknowledged uploads and how
// many failed on every node.
func uploadAll(ctx context.Context, c config, clients []*minio.Client, images [][]byte) ([]upload, int) {
	var (
		next, acked atomic.Int64
		failed      atomic.Int64
		mu          sync.Mutex
		ups         []upload
		wg          sync.WaitGroup
		midway      sync.Once
	)
	for w := range c.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= c.n {
					return
				}
				u, err := uploadOne(ctx, c, clients, w, i, images[i%len(images)])
				if err != nil {
					failed.Add(1)
					fmt.Fprintf(os.Stderr, "upload %d failed on every node: %v\n", i, err)
					continue
				}
				mu.Lock()
				ups = append(ups, u)
				mu.Unlock()
				if acked.Add(1) == int64(c.n/2) && c.midwayCmd != "" {
					midway.Do(func() { runMidway(c.midwayCmd) })
				}
			}
		}()
	}
	wg.Wait()
	return ups, int(failed.Load())
}

// uploadOne PUTs one object, failing over between the endpoints for up to 60 s.
func uploadOne(ctx context.Context, c config, clients []*minio.Client, worker, i int, data []byte) (upload, error) {
	key := fmt.Sprintf("%s%05d.jpg", c.prefix, i)
	start := time.Now()
	var err error
	for attempt := 0; time.Since(start) < 60*time.Second; attempt++ {
		cl := clients[(worker+attempt)%len(clients)]
		actx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err = cl.PutObject(actx, c.bucket+"-original", key, bytes.NewReader(data), int64(len(data)),
			minio.PutObjectOptions{ContentType: "image/jpeg"})
		cancel()
		if err == nil {
			now := time.Now()
			return upload{key: key, ackedAt: now, latency: now.Sub(start), attempts: attempt + 1}, nil
		}
		if attempt >= len(clients)-1 {
			time.Sleep(200 * time.Millisecond)
		}
	}
	return upload{}, fmt.Errorf("%s: %w", key, err)
}

func runMidway(cmd string) {
	fmt.Printf("midway (%s): %s\n", time.Now().Format("15:04:05.000"), cmd)
	go func() {
		out, err := exec.Command("sh", "-c", cmd).CombinedOutput()
		fmt.Printf("%s", out)
		if err != nil {
			fmt.Fprintf(os.Stderr, "midway command: %v\n", err)
		}
	}()
}

// verify waits until every acknowledged upload has its original and every
// variant in the backend, then prints the upload→variants latencies.
func verify(ctx context.Context, c config, backend *minio.Client, ups []upload, start time.Time) error {
	deadline := time.Now().Add(c.wait)
	for {
		originals, err := listTimes(ctx, backend, c.bucket+"-original", c.prefix)
		if err != nil {
			return err
		}
		variants := map[string]map[string]time.Time{}
		for _, p := range c.presets {
			if variants[p], err = listTimes(ctx, backend, c.bucket+"-resized", p+"/"+c.prefix); err != nil {
				return err
			}
		}
		lost, missing, lat, last := tally(c, ups, originals, variants)
		if lost > 0 {
			return fmt.Errorf("%d acknowledged uploads are not in the backend", lost)
		}
		if missing == 0 {
			fmt.Printf("originals: all %d acknowledged uploads stored, 0 lost; every one has all %d variants\n", len(ups), len(c.presets))
			fmt.Printf("upload→variants latency: p50 %s p99 %s max %s; all variants %.1f s after the first upload\n",
				pct(lat, 50), pct(lat, 99), pct(lat, 100), last.Sub(start).Seconds())
			fmt.Printf("end-to-end: %.1f originals with all variants per second\n", float64(len(ups))/last.Sub(start).Seconds())
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d variants missing %s after the uploads", missing, len(ups)*len(c.presets), c.wait)
		}
		time.Sleep(time.Second)
	}
}

// tally counts lost originals and missing variants, and collects the
// upload→variants latencies.
func tally(c config, ups []upload, originals map[string]time.Time, variants map[string]map[string]time.Time) (lost, missing int, lat []time.Duration, last time.Time) {
	for _, u := range ups {
		if _, ok := originals[u.key]; !ok {
			lost++
			continue
		}
		var done time.Time
		for _, p := range c.presets {
			t, ok := variants[p][p+"/"+u.key]
			if !ok {
				missing++
				continue
			}
			if t.After(done) {
				done = t
			}
		}
		if done.After(last) {
			last = done
		}
		lat = append(lat, max(done.Sub(u.ackedAt), 0))
	}
	return lost, missing, lat, last
}

// listTimes lists bucket/prefix: key → LastModified.
func listTimes(ctx context.Context, cl *minio.Client, bucket, prefix string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	for obj := range cl.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("list %s/%s: %w", bucket, prefix, obj.Err)
		}
		out[obj.Key] = obj.LastModified
	}
	return out, nil
}

// pct is the p-th percentile (nearest rank) of ds, rounded for printing.
func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (p*len(s) + 99) / 100
	i = min(max(i, 1), len(s))
	return s[i-1].Round(time.Millisecond)
}
