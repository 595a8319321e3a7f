package s3_test

import (
	"context"
	"testing"

	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/gateway/storage/s3"
	"github.com/imgate/imgate/gateway/storage/storagetest"
	"github.com/imgate/imgate/internal/testenv"
)

// startMinIO starts a real MinIO server and returns a store on it.
func startMinIO(t *testing.T, extraEnv ...string) (*testenv.MinIO, *s3.Store) {
	t.Helper()
	m := testenv.StartMinIO(t, extraEnv...)
	s, err := s3.New(t.Context(), s3.Config{
		Endpoint:  m.Endpoint,
		Region:    "us-east-1",
		AccessKey: m.AccessKey,
		SecretKey: m.SecretKey,
		PathStyle: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return m, s
}

func TestConformance(t *testing.T) {
	t.Run("minio", func(t *testing.T) {
		_, s := startMinIO(t)
		storagetest.Run(t, func(t *testing.T) storage.Storage { return s },
			storagetest.WithoutNestedKeys("MinIO keeps an object and the keys below it (a, a/b) but lists only the first"))
	})
}

var _ = context.Background
