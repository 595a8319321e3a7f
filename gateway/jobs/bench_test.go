package jobs_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/imgate/imgate/gateway/jobs/jobstest"
)

// BenchmarkEnqueueSQLite measures recording a job (what an upload waits for
// before its 200) on the embedded SQLite store.
func BenchmarkEnqueueSQLite(b *testing.B) {
	e := jobstest.New(b, jobstest.Options{NoStart: true})
	ctx := context.Background()
	info := e.Put(b, "bench.jpg", jobstest.JPEG(b, 16, 16))
	b.ResetTimer()
	for i := range b.N {
		info.Key = fmt.Sprintf("bench/%d.jpg", i)
		if err := e.Svc.Enqueue(ctx, info, "gateway"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDuplicateTrigger measures a trigger that collapses into an existing job.
func BenchmarkDuplicateTrigger(b *testing.B) {
	e := jobstest.New(b, jobstest.Options{NoStart: true})
	ctx := context.Background()
	info := e.Put(b, "bench.jpg", jobstest.JPEG(b, 16, 16))
	if err := e.Svc.Enqueue(ctx, info, "gateway"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if err := e.Svc.Enqueue(ctx, info, "webhook"); err != nil {
			b.Fatal(err)
		}
	}
}
