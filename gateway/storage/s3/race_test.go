package s3_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/gateway/storage/s3"
)

// racyServer answers the first refuse PUTs of an object as MinIO does when a
// concurrent delete removed the object's parent directory (AccessDenied),
// then accepts them, recording each body it received.
type racyServer struct {
	mu     sync.Mutex
	refuse int
	bodies []string
}

func (rs *racyServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if r.Method != http.MethodPut {
		http.Error(w, "unexpected", http.StatusNotImplemented)
		return
	}
	rs.bodies = append(rs.bodies, string(b))
	if len(rs.bodies) <= rs.refuse {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied.</Message></Error>`)
		return
	}
	w.Header().Set("ETag", `"0123456789abcdef0123456789abcdef"`)
}

func racyStore(t *testing.T, rs *racyServer) *s3.Store {
	t.Helper()
	srv := httptest.NewServer(rs)
	t.Cleanup(srv.Close)
	s, err := s3.New(t.Context(), s3.Config{
		Endpoint: strings.TrimPrefix(srv.URL, "http://"), Region: "us-east-1",
		AccessKey: "AK", SecretKey: "secret-key-of-the-test", PathStyle: true, MaxRetries: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestPutRetriesRacedDelete: a replayable body refused as by a racing
// prefix delete is sent again, whole; a streamed body is not (it cannot be
// replayed) and the error reaches the caller.
func TestPutRetriesRacedDelete(t *testing.T) {
	rs := &racyServer{refuse: 2}
	s := racyStore(t, rs)
	body := "variant-bytes"
	if _, err := s.Put(t.Context(), "bkt", "dir/k", strings.NewReader(body), int64(len(body)), storage.PutOptions{}); err != nil {
		t.Fatalf("Put after two raced refusals: %v", err)
	}
	if len(rs.bodies) != 3 || rs.bodies[2] != body || rs.bodies[1] != body {
		t.Fatalf("server saw %q, want the whole body three times", rs.bodies)
	}

	rs = &racyServer{refuse: 1}
	s = racyStore(t, rs)
	stream := struct{ io.Reader }{bytes.NewReader([]byte(body))}
	if _, err := s.Put(t.Context(), "bkt", "dir/k", stream, int64(len(body)), storage.PutOptions{}); err == nil {
		t.Fatal("Put of a non-replayable body succeeded after a refusal")
	}
	if len(rs.bodies) != 1 {
		t.Fatalf("a non-replayable body was sent %d times", len(rs.bodies))
	}

	rs = &racyServer{refuse: 10}
	s = racyStore(t, rs)
	if _, err := s.Put(t.Context(), "bkt", "dir/k", strings.NewReader(body), int64(len(body)), storage.PutOptions{}); err == nil {
		t.Fatal("Put succeeded against a server that always refuses")
	}
	if len(rs.bodies) != 4 {
		t.Fatalf("an always-refused put was sent %d times, want 4", len(rs.bodies))
	}
}
