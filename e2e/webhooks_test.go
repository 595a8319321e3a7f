package e2e

// Webhooks and GET /v1/images (issue 12 item 5): a Node receiver verifying
// with the npm package standardwebhooks; redelivery after two 500s; no
// event lost across kill -9; ?wait= answering as soon as the variants exist.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/internal/testenv"
)

type delivery struct {
	ID       string
	Attempt  int
	Status   int
	Verified bool
	Error    string
	At       int64
	Event    struct {
		Type string
		Data imageDoc
	}
}

type imageDoc struct {
	Bucket, Key, ETag, Status, Error string
	Variants                         []struct {
		Preset, Format, Bucket, Key string
		Width, Height               int
		Bytes                       int64
	}
	Placeholder *struct {
		BlurHash      string `json:"blurhash"`
		DominantColor string `json:"dominant_color"`
	}
	FinishedAt *time.Time `json:"finished_at"`
}

type receiver struct {
	proc *testenv.Process
	URL  string
}

func startReceiver(t *testing.T, b browserEnv, secret string, failFirst int) *receiver {
	t.Helper()
	addr := testenv.FreeAddr(t)
	port := addr[strings.LastIndex(addr, ":")+1:]
	p := testenv.Start(t, []string{"IMGATE_NPM_BROWSER=" + b.npm, "WEBHOOK_SECRET=" + secret, fmt.Sprintf("FAIL_FIRST=%d", failFirst)},
		b.node, filepath.Join(testenv.RepoRoot(t), "e2e", "browser", "webhook-receiver.mjs"), port)
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(p.Output(), `"listening":true`) {
		if time.Now().After(deadline) {
			t.Fatalf("receiver did not start:\n%s", p.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return &receiver{proc: p, URL: "http://" + addr + "/hooks"}
}

func (r *receiver) deliveries(t *testing.T) []delivery {
	t.Helper()
	var out []delivery
	for line := range strings.SplitSeq(r.proc.Output(), "\n") {
		if !strings.HasPrefix(line, `{"id"`) {
			continue
		}
		var d delivery
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			t.Fatalf("receiver line %q: %v", line, err)
		}
		if !d.Verified {
			t.Fatalf("a delivery failed the standardwebhooks verification: %s", line)
		}
		out = append(out, d)
	}
	return out
}

// waitDelivered waits until every key has a 200-answered delivery; it returns them by key.
func (r *receiver) waitDelivered(t *testing.T, keys []string, timeout time.Duration) map[string]delivery {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := map[string]delivery{}
		for _, d := range r.deliveries(t) {
			if d.Status == 200 {
				got[d.Event.Data.Key] = d
			}
		}
		missing := 0
		for _, k := range keys {
			if _, ok := got[k]; !ok {
				missing++
			}
		}
		if missing == 0 {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d keys without a delivered webhook after %s; receiver saw:\n%s", missing, len(keys), timeout, r.proc.Output())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func getImage(t *testing.T, srv *server, bearer, key, query string) (int, imageDoc, time.Duration) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/images/"+key+query, nil)
	req.Header.Set("Authorization", "Bearer "+bearer)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc imageDoc
	_ = json.NewDecoder(resp.Body).Decode(&doc)
	return resp.StatusCode, doc, time.Since(start)
}

func webhookSecret() string {
	return "whsec_" + base64.StdEncoding.EncodeToString([]byte(testenv.RandomHex(16)))
}

func TestWebhooks(t *testing.T) {
	b := needBrowser(t)
	if _, err := os.Stat(filepath.Join(b.npm, "node_modules", "standardwebhooks", "package.json")); err != nil {
		testenv.Missing(t, "npm package standardwebhooks not in %s", b.npm)
	}
	secret := webhookSecret()
	rcv := startReceiver(t, b, secret, 2)
	// A second endpoint nobody listens on: its deliveries keep failing.
	dead := "http://" + testenv.FreeAddr(t) + "/gone"
	srv := startServe(t, serveOptions{Env: []string{"IMGATE_WEBHOOK_SECRET=" + secret}, Args: []string{"--webhook-url", rcv.URL + "," + dead}})
	cl := jobsClient(t, srv)
	ctx := context.Background()
	put := func(key string, data []byte) {
		t.Helper()
		if _, err := cl.PutObject(ctx, srv.Original(), key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{ContentType: "image/jpeg"}); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
	}

	// ?wait= answers as soon as the variants exist.
	put("hooks/a.jpg", genJPEG(t, genW, genH, 5))
	code, doc, took := getImage(t, srv, srv.APIKey, "hooks/a.jpg", "?wait=30s")
	if code != 200 || doc.Status != "processed" || len(doc.Variants) != 3 || doc.Placeholder == nil || doc.Placeholder.BlurHash == "" ||
		!strings.HasPrefix(doc.Placeholder.DominantColor, "#") || doc.FinishedAt == nil {
		t.Fatalf("GET ?wait: %d %+v", code, doc)
	}
	lag := time.Since(*doc.FinishedAt) - 0
	t.Logf("?wait=30s answered after %s; %s after the outcome was recorded", took.Round(time.Millisecond), lag.Round(time.Millisecond))
	if lag > 2*time.Second {
		t.Fatalf("?wait answered %s after the variants existed", lag)
	}
	for _, v := range doc.Variants {
		if _, err := cl.StatObject(ctx, srv.Resized(), v.Key, minio.StatObjectOptions{}); err != nil || v.Format != "jpeg" || v.Width == 0 {
			t.Fatalf("variant %+v: %v", v, err)
		}
	}

	// Delivered after two 500s, same webhook-id each time, the same document.
	got := rcv.waitDelivered(t, []string{"hooks/a.jpg"}, 60*time.Second)["hooks/a.jpg"]
	var tries []delivery
	for _, d := range rcv.deliveries(t) {
		if d.ID == got.ID {
			tries = append(tries, d)
		}
	}
	if len(tries) != 3 || tries[0].Status != 500 || tries[1].Status != 500 || got.Event.Type != "image.processed" {
		t.Fatalf("attempts of %s: %+v", got.ID, tries)
	}
	t.Logf("redelivery: attempts at +0, +%dms, +%dms", tries[1].At-tries[0].At, tries[2].At-tries[0].At)
	a, _ := json.Marshal(got.Event.Data)
	b2, _ := json.Marshal(doc)
	if !bytes.Equal(a, b2) {
		t.Fatalf("webhook data and GET /v1/images differ:\n%s\n%s", a, b2)
	}

	// A broken image: image.failed.
	put("hooks/broken.jpg", genJPEG(t, genW, genH, 6)[:700])
	bad := rcv.waitDelivered(t, []string{"hooks/broken.jpg"}, 60*time.Second)["hooks/broken.jpg"]
	if bad.Event.Type != "image.failed" || bad.Event.Data.Status != "failed" || bad.Event.Data.Error == "" {
		t.Fatalf("broken image: %+v", bad.Event)
	}

	// Upload tokens read documents under their prefix only.
	tok := mintToken(t, srv, "hooks/")
	if code, _, _ := getImage(t, srv, tok, "hooks/a.jpg", ""); code != 200 {
		t.Fatalf("token covering the key: %d", code)
	}
	if code, _, _ := getImage(t, srv, mintToken(t, srv, "other/"), "hooks/a.jpg", ""); code != 401 {
		t.Fatalf("token not covering the key: %d", code)
	}

	// The failing endpoint is listed for the admin, and the dashboard shows it.
	var failing adminapi.WebhookDeliveries
	if code := jobsAdmin(t, srv, "GET", "/v1/admin/webhooks", nil, &failing); code != 200 || failing.URLs != 2 || len(failing.Deliveries) == 0 {
		t.Fatalf("GET /v1/admin/webhooks: %d %+v", code, failing)
	}
	deadOnes := 0
	for _, d := range failing.Deliveries {
		if d.URL == dead {
			deadOnes++
			if d.Attempts < 1 || !strings.Contains(d.LastError, "connection refused") || d.ID == "" || d.State == "completed" {
				t.Fatalf("failing delivery %+v", d)
			}
		}
	}
	if deadOnes == 0 {
		t.Fatalf("no failing delivery to %s listed: %+v", dead, failing)
	}
	pane := startAdminInTmux(t, srv)
	pane.waitText(30*time.Second, "webhooks failing", strings.TrimSuffix(strings.TrimPrefix(dead, "http://"), "/gone")+": connect")

	// kill -9 right after the uploads: every event still arrives.
	var keys []string
	for i := range 8 {
		k := fmt.Sprintf("crash/%d.jpg", i)
		put(k, genJPEG(t, genW, genH, 10+i))
		keys = append(keys, k)
	}
	srv.Kill()
	srv.Restart(t)
	start := time.Now()
	rcv.waitDelivered(t, keys, 2*time.Minute)
	t.Logf("kill -9 after %d uploads: all %d webhooks delivered %s after the restart", len(keys), len(keys), time.Since(start).Round(time.Millisecond))
}

func mintToken(t *testing.T, srv *server, prefix string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"prefix": prefix})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/upload-tokens", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+srv.APIKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" {
		t.Fatalf("mint token: %d %v", resp.StatusCode, err)
	}
	return out.Token
}
