package jobs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/gateway/jobs"
	"github.com/imgate/imgate/gateway/jobs/jobstest"
	"github.com/imgate/imgate/gateway/storage/fs"
	"github.com/imgate/imgate/internal/testenv"
	"github.com/imgate/imgate/resizer"
)

// TestSQLiteOneProcessPerDataDir: a second service on the same data directory
// is refused with a clear error while the first runs, and opens once it stopped.
func TestSQLiteOneProcessPerDataDir(t *testing.T) {
	dir := t.TempDir()
	first := jobstest.New(t, jobstest.Options{DataDir: dir})
	store, err := fs.New(dir + "/objects")
	if err != nil {
		t.Fatal(err)
	}
	cfg := jobs.Config{Storage: store, SQLitePath: dir + "/jobs.db", Resizer: resizer.New(resizer.Options{})}
	ctx := context.Background()
	if svc, err := jobs.Open(ctx, cfg); err == nil || !strings.Contains(err.Error(), "another imgate process is using this data directory") {
		if svc != nil {
			_ = svc.Stop(ctx)
		}
		t.Fatalf("second open: %v, want the data directory refused", err)
	}
	if err := first.Svc.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	svc, err := jobs.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open after the first stopped: %v", err)
	}
	_ = svc.Stop(ctx)
}

// TestSQLiteRescuesRunningAtStart: a job left running by the previous process
// (the only possible owner of the data directory) runs again at start, and
// its history says it was interrupted.
func TestSQLiteRescuesRunningAtStart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	a := jobstest.New(t, jobstest.Options{DataDir: dir, NoStart: true})
	a.Upload(t, "left.jpg", jobstest.JPEG(t, 200, 150))
	if err := jobs.ExecSQL(ctx, a.Svc, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = datetime('now')`); err != nil {
		t.Fatal(err)
	}
	if err := a.Svc.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	b := jobstest.New(t, jobstest.Options{DataDir: dir})
	j := b.WaitKey(t, "left.jpg", adminapi.StateCompleted)
	if len(j.Errors) == 0 || !strings.HasPrefix(j.Errors[0].Error, "interrupted") {
		t.Errorf("errors %+v, want the interruption recorded", j.Errors)
	}
}

// TestPostgresRescuesOwnJobsOnly: on a shared store a node takes back at
// start the jobs it was running itself, not other nodes' (those wait for
// River's rescuer); a second live process claiming the same node identity
// runs under a temporary one.
func TestPostgresRescuesOwnJobsOnly(t *testing.T) {
	dsn := testenv.Postgres(t)
	dir := t.TempDir()
	ctx := context.Background()
	a := jobstest.New(t, jobstest.Options{DatabaseURL: dsn, DataDir: dir, NodeID: "node-a", NoStart: true})
	a.Upload(t, "mine.jpg", jobstest.JPEG(t, 200, 150))
	a.Upload(t, "theirs.jpg", jobstest.JPEG(t, 200, 150))
	for key, node := range map[string]string{"mine.jpg": "node-a", "theirs.jpg": "node-c"} {
		// As if that node was killed while running the job.
		if err := jobs.ExecSQL(ctx, a.Svc, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now(),
			attempted_by = ARRAY['node-x', ?] WHERE args->>'key' = ?`, node, key); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Svc.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	b := jobstest.New(t, jobstest.Options{DatabaseURL: dsn, DataDir: dir, NodeID: "node-b"})
	time.Sleep(2 * time.Second)
	for _, j := range b.Jobs(t) {
		if j.State != adminapi.StateRunning {
			t.Errorf("node-b changed %s's job, left running by another node, to %s", j.Key, j.State)
		}
	}
	a2 := jobstest.New(t, jobstest.Options{DatabaseURL: dsn, DataDir: dir, NodeID: "node-a"})
	if j := a2.WaitKey(t, "mine.jpg", adminapi.StateCompleted); !strings.HasPrefix(j.Errors[0].Error, "interrupted") {
		t.Errorf("errors %+v, want the interruption recorded", j.Errors)
	}
	for _, j := range a2.Jobs(t) {
		if j.Key == "theirs.jpg" && j.State != adminapi.StateRunning {
			t.Errorf("node-a took node-c's job before the rescuer's deadline: %s", j.State)
		}
	}
	dup := jobstest.New(t, jobstest.Options{DatabaseURL: dsn, DataDir: dir, NodeID: "node-a", NoStart: true})
	if n := jobs.Node(dup.Svc); n == "node-a" || !strings.HasPrefix(n, "node-a-") {
		t.Errorf("second live node-a runs as %q, want a temporary node-a-PID identity", n)
	}
}
