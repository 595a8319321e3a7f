package jobsapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/imgate/imgate/gateway/jobs/jobstest"
)

const (
	testAdminToken  = "admin-secret-token"
	testEventsToken = "events-secret-token"
)

// testEnv is a real job service behind this package's handlers.
type testEnv struct {
	*jobstest.Env
	srv *httptest.Server
}

func newEnv(t *testing.T, o jobstest.Options) *testEnv {
	t.Helper()
	env := jobstest.New(t, o)
	api := New(Config{Jobs: env.Svc, AdminToken: testAdminToken, EventsToken: testEventsToken, Logger: jobstest.Logger(t)})
	mux := http.NewServeMux()
	mux.Handle("/v1/admin/", api.Admin())
	mux.Handle("/v1/events/s3", api.Events())
	e := &testEnv{Env: env, srv: httptest.NewServer(mux)}
	// Registered after jobstest's cleanup, so it runs first: no request
	// outlives the service.
	t.Cleanup(func() {
		e.srv.CloseClientConnections()
		e.srv.Close()
	})
	return e
}

func (e *testEnv) do(t testing.TB, method, path, token string, body any) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, raw
}

func (e *testEnv) admin(t testing.TB, method, path string, body, out any) int {
	t.Helper()
	resp, raw := e.do(t, method, path, testAdminToken, body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	return resp.StatusCode
}
