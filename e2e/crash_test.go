package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/internal/testenv"
)

// crashW×crashH originals (4:3, so wantsGen's sizes hold) take long enough
// to resize that jobs are caught running when the process is killed.
const crashW, crashH = 1600, 1200

// TestJobsCrashRecoverySQLite: kill -9 while jobs run on the embedded store,
// restart: the interrupted jobs are taken back at start, their variants exist
// within 10 s (the job timeout is 2 min: River's rescuer alone would wait
// longer than that), and every upload ends with one completed job.
func TestJobsCrashRecoverySQLite(t *testing.T) {
	crashRecovery(t, serveOptions{Args: []string{"--workers", "1"}})
}

// TestJobsCrashRecoveryPostgres: the same on PostgreSQL; the restarted
// process has the same derived node identity (same host, data dir and listen
// address) and takes back its own running jobs.
func TestJobsCrashRecoveryPostgres(t *testing.T) {
	dsn := testenv.Postgres(t)
	crashRecovery(t, serveOptions{Database: dsn, Args: []string{"--workers", "1"}})
}

// crashTries is how many kills may miss: a job seen running can finish
// between the poll and the kill, and if the worker has not fetched the
// next one yet, the kill interrupts nothing.
const crashTries = 3

func crashRecovery(t *testing.T, o serveOptions) {
	srv := startServe(t, o)
	cl := jobsClient(t, srv)
	keys := putLarge(t, cl, srv.Original(), "crash/", 40)
	for try := 1; ; try++ {
		running := killWhileRunning(t, srv)
		// The job running at the kill says so in its history. Every job
		// is looked at: the one seen running may have finished between
		// the poll and the kill, and the next one was then interrupted.
		if interruptedJobs(t, srv) > 0 {
			break
		}
		if try == crashTries {
			t.Errorf("no job shows an attempt interrupted by any of %d kills (seen running just before the last: %v)", try, running)
			break
		}
		t.Logf("kill %d interrupted no job (%v finished first); uploading more and killing again", try, running)
		keys = append(keys, putLarge(t, cl, srv.Original(), fmt.Sprintf("crash/%d-", try), 20)...)
	}
	var wants []want
	for _, k := range keys {
		wants = append(wants, wantsGen(k)...)
	}
	waitStored(t, srv, wants, 3*time.Minute)
	deadline := time.Now().Add(time.Minute)
	for statsOf(t, srv).Counts["completed"] < int64(len(keys)) && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	checkOneJobPerKey(t, srv, keys)
}

// killWhileRunning kills srv -9 once a job is seen running, restarts it and
// checks that the variants of the jobs seen running exist within 10 s of
// the restart (the job timeout is 2 min: River's rescuer alone would wait
// longer). It returns the keys of those jobs.
func killWhileRunning(t *testing.T, srv *server) []string {
	t.Helper()
	running := waitRunning(t, srv)
	srv.Kill()
	t.Logf("killed with jobs running: %v", running)
	restart := time.Now()
	srv.Restart(t)
	var wants []want
	for _, k := range running {
		wants = append(wants, wantsGen(k)...)
	}
	waitStored(t, srv, wants, 10*time.Second-time.Since(restart))
	t.Logf("variants of the %d jobs seen running exist %s after the restart began", len(running), time.Since(restart).Round(time.Millisecond))
	return running
}

// interruptedJobs counts the crash/ jobs with an attempt interrupted by a kill.
func interruptedJobs(t *testing.T, srv *server) int {
	t.Helper()
	n := 0
	for _, j := range allJobs(t, srv, "&prefix=crash/") {
		var full adminapi.Job
		jobsAdmin(t, srv, "GET", fmt.Sprintf("/v1/admin/jobs/%d", j.ID), nil, &full)
		if hasError(full, "interrupted") {
			n++
		}
	}
	return n
}

func hasError(j adminapi.Job, sub string) bool {
	for _, e := range j.Errors {
		if strings.Contains(e.Error, sub) {
			return true
		}
	}
	return false
}

// putLarge uploads n distinct crashW×crashH JPEGs (4 at a time).
func putLarge(t testing.TB, cl *minio.Client, bucket, prefix string, n int) []string {
	t.Helper()
	var (
		mu   sync.Mutex
		keys []string
		wg   sync.WaitGroup
		sem  = make(chan struct{}, 4)
	)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			key := fmt.Sprintf("%s%04d.jpg", prefix, i)
			data := genJPEG(t, crashW, crashH, i)
			if _, err := cl.PutObject(context.Background(), bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{ContentType: "image/jpeg"}); err != nil {
				t.Errorf("upload %s: %v", key, err)
				return
			}
			mu.Lock()
			keys = append(keys, key)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(keys) != n {
		t.Fatalf("%d of %d uploads acknowledged", len(keys), n)
	}
	return keys
}

// waitRunning returns the keys of the jobs running now (at least one).
func waitRunning(t testing.TB, srv *server) []string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		var keys []string
		for _, j := range allJobs(t, srv, "&state=running") {
			keys = append(keys, j.Key)
		}
		if len(keys) > 0 {
			return keys
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no job seen running")
	return nil
}

// TestServeOneProcessPerDataDir: a second `imgate serve` on a data directory
// in use (embedded SQLite store) exits with a clear message instead of
// sharing the store; the first keeps serving.
func TestServeOneProcessPerDataDir(t *testing.T) {
	srv := startServe(t, serveOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, testenv.ImgateBinary(t), "serve", "--data", srv.DataDir, "--listen", testenv.FreeAddr(t))
	cmd.Env = append(os.Environ(), "IMGATE_ACCESS_KEY="+srv.AccessKey, "IMGATE_SECRET_KEY="+srv.SecretKey)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() == 0 {
		t.Fatalf("second serve: %v, want a non-zero exit\n%s", err, out)
	}
	if !strings.Contains(string(out), "another imgate process is using this data directory") {
		t.Errorf("second serve's message does not say why:\n%s", out)
	}
	if code, _ := get(t, srv.URL+"/readyz"); code != 200 {
		t.Errorf("first server not ready after the refused second: %d", code)
	}
}
