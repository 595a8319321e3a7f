package fs_test

import (
	"testing"

	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/gateway/storage/fs"
	"github.com/imgate/imgate/gateway/storage/storagetest"
)

// newStore opens a store on a fresh data directory.
func newStore(t *testing.T) *fs.Store {
	t.Helper()
	s, err := fs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newStoreB opens a store with a "bench" bucket for a benchmark.
func newStoreB(b *testing.B) *fs.Store {
	s, err := fs.New(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := s.EnsureBucket(b.Context(), "bench"); err != nil {
		b.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	t.Run("fs", func(t *testing.T) {
		storagetest.Run(t, func(t *testing.T) storage.Storage { return newStore(t) })
	})
}
