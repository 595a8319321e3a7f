package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Issue 9, class 1: untrusted clients cannot close the door. An attacker
// from another address holds 80 connections open (header slowloris,
// unsigned POST forms that trickle, and presigned PUTs of its own key that
// trickle) while a legitimate client uploads with signed PUTs and POST
// forms; the legitimate uploads keep their latency and every attack
// connection is cut.

// attackKey is the attacker's own static key: a real user of the gateway
// turned hostile (its presigned PUTs pass authentication).
const attackKey, attackSecret = "AKATTACK", "attacksecretattacksecret"

// attackConn is one hostile connection from 127.0.0.2.
type attackConn struct {
	kind   string
	result string // how it ended: an S3 error code, "closed", or "" while open
	ended  time.Duration
}

// dialAttacker connects to addr from 127.0.0.2 (another client address on lo).
func dialAttacker(addr string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: 5 * time.Second}
	return d.Dial("tcp", addr)
}

// runAttack sends head, then one byte of trickle every gap until the server
// answers or closes; it records how and when the connection ended.
func runAttack(ctx context.Context, addr string, c *attackConn, head, trickle string, gap time.Duration, mu *sync.Mutex) {
	start := time.Now()
	end := func(res string) {
		mu.Lock()
		c.result, c.ended = res, time.Since(start)
		mu.Unlock()
	}
	conn, err := dialAttacker(addr)
	if err != nil {
		end("dial: " + err.Error())
		return
	}
	defer conn.Close()
	go func() {
		<-ctx.Done()
		conn.Close()
	}()
	if _, err := conn.Write([]byte(head)); err != nil {
		end("closed")
		return
	}
	answered := make(chan string, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			answered <- "closed"
			return
		}
		var e s3Error
		b := new(bytes.Buffer)
		_, _ = b.ReadFrom(resp.Body)
		resp.Body.Close()
		_ = xml.Unmarshal(b.Bytes(), &e)
		answered <- fmt.Sprintf("%d %s", resp.StatusCode, e.Code)
	}()
	for i := 0; ; i++ {
		select {
		case res := <-answered:
			end(res)
			return
		case <-time.After(gap):
			if _, err := conn.Write([]byte{trickle[i%len(trickle)]}); err != nil {
				end(<-answered)
				return
			}
		}
	}
}

// legitUploads runs n signed PUTs and n presigned POST forms of img one
// after the other and returns each one's latency; every one must succeed.
func legitUploads(t *testing.T, srv *server, prefix string, n int, img []byte) []time.Duration {
	t.Helper()
	ctx := context.Background()
	cl := srv.s3Client(t)
	var lat []time.Duration
	for i := range n {
		start := time.Now()
		key := fmt.Sprintf("%s/put-%d.jpg", prefix, i)
		if _, err := cl.PutObject(ctx, srv.Original(), key, bytes.NewReader(img), int64(len(img)), minio.PutObjectOptions{}); err != nil {
			t.Fatalf("legitimate PUT %s: %v", key, err)
		}
		lat = append(lat, time.Since(start))

		p := minio.NewPostPolicy()
		_ = p.SetBucket(srv.Original())
		key = fmt.Sprintf("%s/post-%d.jpg", prefix, i)
		_ = p.SetKey(key)
		_ = p.SetExpires(time.Now().Add(time.Minute))
		start = time.Now()
		u, fields, err := cl.PresignedPostPolicy(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if status, body := s3PostForm(t, u.String(), fields, "x.jpg", img); status != http.StatusNoContent {
			t.Fatalf("legitimate POST %s: %d %s", key, status, body)
		}
		lat = append(lat, time.Since(start))
	}
	return lat
}

func pct(lat []time.Duration, p float64) time.Duration {
	s := slices.Clone(lat)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func TestSlowlorisDoesNotStarveSignedUploads(t *testing.T) {
	if c, err := dialAttacker("127.0.0.1:1"); err == nil {
		c.Close()
	} else if !strings.Contains(err.Error(), "refused") {
		t.Skipf("cannot dial from 127.0.0.2 here: %v", err)
	}
	cfg := filepath.Join(t.TempDir(), "imgate.json")
	keys := fmt.Sprintf(`{"keys": [{"access_key": %q, "secret_key": %q, "prefix": "evil/"}]}`, attackKey, attackSecret)
	if err := os.WriteFile(cfg, []byte(keys), 0o600); err != nil {
		t.Fatal(err)
	}
	// Defaults except the slot count, kept small so the attack outnumbers it.
	srv := startServe(t, serveOptions{Args: []string{"--config", cfg, "--max-concurrent-uploads", "32", "--workers", "1"}})
	img := genJPEG(t, 400, 300, 1)

	baseline := legitUploads(t, srv, "before", 10, img)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	evil := srv.s3ClientWith(t, credentials.NewStaticV4(attackKey, attackSecret, ""))
	var mu sync.Mutex
	var conns []*attackConn
	var wg sync.WaitGroup
	launch := func(kind, head, trickle string, gap time.Duration) {
		c := &attackConn{kind: kind}
		conns = append(conns, c)
		wg.Go(func() { runAttack(ctx, srv.Addr, c, head, trickle, gap, &mu) })
	}
	for range 24 { // headers that never end
		launch("header", "PUT /"+srv.Original()+"/x.jpg HTTP/1.1\r\nHost: "+srv.Addr+"\r\n", "X-A: b\r\n", 2*time.Second)
	}
	form := "POST /" + srv.Original() + " HTTP/1.1\r\nHost: " + srv.Addr + "\r\nContent-Type: multipart/form-data; boundary=XX\r\nContent-Length: 100000\r\n\r\n--XX\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\n"
	for range 24 { // unsigned forms that trickle their first field
		launch("form", form, "k", 2*time.Second)
	}
	for i := range 32 { // signed PUTs (the attacker's key) whose bodies trickle
		u, err := evil.PresignedPutObject(ctx, srv.Original(), fmt.Sprintf("evil/%d.jpg", i), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		head := "PUT " + u.RequestURI() + " HTTP/1.1\r\nHost: " + srv.Addr + "\r\nContent-Length: 1000000\r\n\r\n" + string(img[:64])
		launch("put", head, "\x00", 2*time.Second)
	}
	time.Sleep(2 * time.Second) // every attack connection is open and holding what it can

	during := legitUploads(t, srv, "during", 10, img)
	t.Logf("legitimate upload latency without attack: p50 %v max %v; during %d attack connections: p50 %v max %v",
		pct(baseline, 0.5), pct(baseline, 1), len(conns), pct(during, 0.5), pct(during, 1))
	if m := pct(during, 1); m > 2*time.Second {
		t.Errorf("a legitimate upload took %v during the attack", m)
	}

	// Every attack connection is cut: headers after 10 s, trickling bodies
	// once under the minimum rate after the grace.
	deadline := time.Now().Add(40 * time.Second)
	for {
		mu.Lock()
		open := 0
		for _, c := range conns {
			if c.result == "" {
				open++
			}
		}
		mu.Unlock()
		if open == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d attack connections still open after 40 s", open)
		}
		time.Sleep(200 * time.Millisecond)
	}
	summary := map[string]map[string]int{}
	var longest time.Duration
	for _, c := range conns {
		if summary[c.kind] == nil {
			summary[c.kind] = map[string]int{}
		}
		summary[c.kind][c.result]++
		longest = max(longest, c.ended)
		if c.kind != "header" && c.result != "400 RequestTimeout" && c.result != "503 SlowDown" {
			t.Errorf("%s attack ended with %q, want RequestTimeout or SlowDown", c.kind, c.result)
		}
	}
	t.Logf("attack outcomes: %v; the last cut after %v", summary, longest)
	for i := range 32 {
		if _, err := srv.s3Client(t).StatObject(context.Background(), srv.Original(), fmt.Sprintf("evil/%d.jpg", i), minio.StatObjectOptions{}); err == nil {
			t.Errorf("evil/%d.jpg was stored", i)
		}
	}
}
