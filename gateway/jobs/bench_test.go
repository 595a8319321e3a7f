package jobs

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkEnqueueSQLite measures recording a job (what an upload waits for
// before its 200) on the embedded SQLite store.
func BenchmarkEnqueueSQLite(b *testing.B) {
	e := newEnvTB(b, envOpts{noStart: true})
	ctx := context.Background()
	info := e.put(b, "bench.jpg", jpegBytes(b, 16, 16))
	b.ResetTimer()
	for i := range b.N {
		info.Key = fmt.Sprintf("bench/%d.jpg", i)
		if err := e.svc.Enqueue(ctx, info, "gateway"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDuplicateTrigger measures a trigger that collapses into an existing job.
func BenchmarkDuplicateTrigger(b *testing.B) {
	e := newEnvTB(b, envOpts{noStart: true})
	ctx := context.Background()
	info := e.put(b, "bench.jpg", jpegBytes(b, 16, 16))
	if err := e.svc.Enqueue(ctx, info, "gateway"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if err := e.svc.Enqueue(ctx, info, "webhook"); err != nil {
			b.Fatal(err)
		}
	}
}
