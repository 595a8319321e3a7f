package s3api

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/imgate/imgate/gateway/storage"
)

// fakeParts is a backend's view of one upload's parts, counting listings.
type fakeParts struct {
	parts  map[int]int64
	lists  int
	err    error
	during func() // runs inside the listing (a part stored meanwhile)
}

// fakeBackend holds the uploads by tallyKey; a missing one has no parts.
type fakeBackend map[string]*fakeParts

func (fb fakeBackend) list(ctx context.Context, bucket, key, uploadID string) ([]storage.PartInfo, error) {
	f := fb[tallyKey(bucket, key, uploadID)]
	if f == nil {
		return nil, nil
	}
	return f.list()
}

func (f *fakeParts) list() ([]storage.PartInfo, error) {
	f.lists++
	if f.err != nil {
		return nil, f.err
	}
	var out []storage.PartInfo
	for n, s := range f.parts {
		out = append(out, storage.PartInfo{PartNumber: n, Size: s})
	}
	if f.during != nil {
		f.during()
	}
	return out, nil
}

func TestPartTally(t *testing.T) {
	ctx := context.Background()
	clock := time.Unix(1_000_000, 0)
	now := func() time.Time { return clock }
	be := &fakeParts{parts: map[int]int64{1: 100, 2: 200}}
	gone := &fakeParts{err: storage.ErrUploadNotFound}
	backend := fakeBackend{
		tallyKey("b", "k", "u1"):     be,
		tallyKey("b", "other", "u1"): {parts: map[int]int64{1: 7, 2: 8}},
		tallyKey("b", "k", "gone"):   gone,
	}
	pt := newPartTally(backend.list, time.Second, now)
	others := func(n int) int64 {
		t.Helper()
		v, err := pt.others(ctx, "b", "k", "u1", n)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	step := func(d time.Duration) { clock = clock.Add(d) }

	// The first part checked lists the upload; part n itself never counts.
	if got := others(3); got != 300 || be.lists != 1 {
		t.Fatalf("first check: %d after %d listings, want 300 after 1", got, be.lists)
	}
	if got := others(2); got != 100 || be.lists != 1 {
		t.Fatalf("re-upload of part 2: %d after %d listings, want 100 after 1 (within the TTL)", got, be.lists)
	}
	// A part this process stores counts at once, without a listing.
	step(100 * time.Millisecond)
	pt.stored("b", "k", "u1", 3, 300)
	be.parts[3] = 300
	if got := others(4); got != 600 || be.lists != 1 {
		t.Fatalf("after storing part 3: %d after %d listings, want 600 after 1", got, be.lists)
	}
	// A part another node stored counts once the TTL has passed.
	be.parts[4] = 400
	if got := others(5); got != 600 {
		t.Fatalf("within the TTL: %d, want 600 (the other node's part not yet seen)", got)
	}
	step(time.Second)
	if got := others(5); got != 1000 || be.lists != 2 {
		t.Fatalf("after the TTL: %d after %d listings, want 1000 after 2", got, be.lists)
	}
	// A part stored while a listing runs is kept even if the listing missed it.
	step(time.Second)
	be.during = func() {
		step(10 * time.Millisecond)
		pt.stored("b", "k", "u1", 5, 500)
	}
	if got := others(6); got != 1500 || be.lists != 3 {
		t.Fatalf("part stored during the listing: %d after %d listings, want 1500 after 3", got, be.lists)
	}
	be.during = nil
	// Another upload, or the same ID under another key, has its own tally.
	if v, err := pt.others(ctx, "b", "other", "u1", 1); err != nil || v != 8 {
		t.Fatalf("same upload ID, other key: %d %v, want 8", v, err)
	}
	// Completed or aborted: forgotten, listed again if used.
	pt.forget("b", "k", "u1")
	others(1)
	if be.lists != 4 {
		t.Fatalf("after forget: %d listings, want 4", be.lists)
	}
	// A listing error (NoSuchUpload) is returned and leaves no tally.
	for range 2 {
		if _, err := pt.others(ctx, "b", "k", "gone", 1); !errors.Is(err, storage.ErrUploadNotFound) {
			t.Fatalf("listing error: %v", err)
		}
	}
	if gone.lists != 2 {
		t.Fatalf("failed listings were cached: %d listings, want 2", gone.lists)
	}
	// Tallies past their TTL are swept when a new one is made.
	step(2 * time.Second)
	if v, err := pt.others(ctx, "b", "new", "u2", 1); err != nil || v != 0 {
		t.Fatalf("new upload: %d %v", v, err)
	}
	pt.mu.Lock()
	left := len(pt.uploads)
	pt.mu.Unlock()
	if left != 1 {
		t.Fatalf("%d tallies after the sweep, want 1", left)
	}
	// stored on an upload without a tally adds nothing (the next listing has it).
	pt.stored("b", "k", "none", 1, 5)
	pt.mu.Lock()
	_, made := pt.uploads[tallyKey("b", "k", "none")]
	pt.mu.Unlock()
	if made {
		t.Fatal("stored made a tally without a listing")
	}
}
