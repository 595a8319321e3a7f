package s3api

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
)

// stalledPost opens a connection, sends a POST form's headers and its
// first bytes, then nothing: the slowloris of issue 9.
func stalledPost(t *testing.T, host string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /%s HTTP/1.1\r\nHost: %s\r\nContent-Type: multipart/form-data; boundary=XX\r\nContent-Length: 100000\r\n\r\n--XX\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nslow", orig, host)
	return conn
}

// presignedPut returns a presigned PUT URL of key signed by the root key.
func (g *gw) presignedPut(key string) string {
	g.t.Helper()
	u, err := g.root().PresignedPutObject(context.Background(), orig, key, time.Minute)
	if err != nil {
		g.t.Fatal(err)
	}
	return u.String()
}

// readResponse reads one HTTP response from conn and returns its S3 error code.
func readResponse(t *testing.T, conn net.Conn, timeout time.Duration) (int, string) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(timeout))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, readErr(t, resp).Code
}

// TestUnverifiedPostHoldsNoSlot: forms whose fields never arrive hold no
// upload slot (a signed PUT succeeds with every slot's worth of them open),
// and each is cut with RequestTimeout once it has been idle.
func TestUnverifiedPostHoldsNoSlot(t *testing.T) {
	g := newGW(t, func(c *Config) { c.MaxConcurrentUploads = 2; c.BodyIdleTimeout = 500 * time.Millisecond })
	var conns []net.Conn
	for range 4 {
		conns = append(conns, stalledPost(t, g.host()))
	}
	time.Sleep(100 * time.Millisecond)
	img := pngBytes(t, 8, 8)
	if _, err := g.root().PutObject(context.Background(), orig, "during.png", bytes.NewReader(img), int64(len(img)), minio.PutObjectOptions{}); err != nil {
		t.Fatalf("signed PUT with stalled forms open: %v", err)
	}
	for _, c := range conns {
		if status, code := readResponse(t, c, 5*time.Second); code != "RequestTimeout" {
			t.Fatalf("stalled form: %d %s, want RequestTimeout", status, code)
		}
	}
}

// trickle is a body that sends head, then one byte every gap, until closed.
type trickle struct {
	head []byte
	gap  time.Duration
	done chan struct{}
}

func (tr *trickle) Read(p []byte) (int, error) {
	if len(tr.head) > 0 {
		n := copy(p, tr.head)
		tr.head = tr.head[n:]
		return n, nil
	}
	select {
	case <-time.After(tr.gap):
		p[0] = 0
		return 1, nil
	case <-tr.done:
		return 0, io.ErrUnexpectedEOF
	}
}

// TestSlowBodiesCut: a signed PUT whose body stalls is cut after the idle
// timeout; one that trickles (a byte every 100 ms, under the minimum rate)
// is cut after the grace; neither stores anything.
func TestSlowBodiesCut(t *testing.T) {
	g := newGW(t, func(c *Config) { c.BodyIdleTimeout = 400 * time.Millisecond; c.BodyMinRate = 1000 })
	g.h.paceGrace = 600 * time.Millisecond
	img := pngBytes(t, 64, 64)
	for _, tc := range []struct {
		name string
		gap  time.Duration
		max  time.Duration // the cut must come before this
	}{
		{"stalled", time.Hour, 2 * time.Second},
		{"trickle", 100 * time.Millisecond, 3 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := &trickle{head: img[:100], gap: tc.gap, done: make(chan struct{})}
			defer close(body.done)
			req, _ := http.NewRequest(http.MethodPut, g.presignedPut("slow/"+tc.name+".png"), body)
			req.ContentLength = 1 << 20
			start := time.Now()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if e := readErr(t, resp); e.Code != "RequestTimeout" || !strings.Contains(e.Message, "minimum rate") {
				t.Fatalf("got %d %s %q, want RequestTimeout", resp.StatusCode, e.Code, e.Message)
			}
			if d := time.Since(start); d > tc.max {
				t.Errorf("cut after %v, want < %v", d, tc.max)
			}
			if g.exists(orig, "slow/"+tc.name+".png") {
				t.Fatal("a cut body was stored")
			}
		})
	}
	// A body at a normal rate still goes through.
	if _, err := g.root().PutObject(context.Background(), orig, "fast.png", bytes.NewReader(img), int64(len(img)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
}

// fromAddr is an HTTP client whose connections come from local address ip.
func fromAddr(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

// TestPerClientCaps: one access key or one address holds at most
// MaxUploadsPerClient slots; another key from another address still gets one.
func TestPerClientCaps(t *testing.T) {
	g := newGW(t, func(c *Config) { c.MaxConcurrentUploads = 8; c.MaxUploadsPerClient = 1 })
	img := pngBytes(t, 16, 16)
	hold := &trickle{head: img[:100], gap: time.Hour, done: make(chan struct{})}
	held := make(chan struct{})
	go func() {
		defer close(held)
		req, _ := http.NewRequest(http.MethodPut, g.presignedPut("held.png"), hold)
		req.ContentLength = int64(len(img))
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	defer func() { close(hold.done); <-held }()
	waitFor(t, func() bool { return len(g.h.uploads) == 1 })

	put := func(cl *http.Client, url string) (int, string) {
		req, _ := http.NewRequest(http.MethodPut, url, bytes.NewReader(img))
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode == 200 {
			return 200, ""
		}
		return resp.StatusCode, readErr(t, resp).Code
	}
	// Same key, other address: the key's cap.
	if _, code := put(fromAddr("127.0.0.2"), g.presignedPut("same-key.png")); code != "SlowDown" {
		t.Fatalf("second upload of the same key: %q, want SlowDown", code)
	}
	alice, err := g.client(aliceAK, aliceSK, "").PresignedPutObject(context.Background(), orig, "users/alice/a.png", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// Other key, same address: the address's cap.
	if _, code := put(http.DefaultClient, alice.String()); code != "SlowDown" {
		t.Fatalf("second upload from the same address: %q, want SlowDown", code)
	}
	// Other key, other address: served.
	if status, code := put(fromAddr("127.0.0.3"), alice.String()); status != 200 {
		t.Fatalf("other key from another address: %d %s", status, code)
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatal("condition not reached in 5 s")
}
