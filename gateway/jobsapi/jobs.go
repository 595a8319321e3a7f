package jobsapi

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/gateway/jobs"
	"github.com/imgate/imgate/internal/httpjson"
)

func (a *API) listJobs(w http.ResponseWriter, r *http.Request) {
	f, err := jobFilter(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	list, err := a.jobs.ListJobs(r.Context(), f)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, list)
}

// jobFilter decodes ?state=S&prefix=P&since=RFC3339&limit=N&cursor=C.
func jobFilter(r *http.Request) (jobs.JobFilter, error) {
	q := r.URL.Query()
	f := jobs.JobFilter{State: q.Get("state"), Prefix: q.Get("prefix"), Limit: 50}
	if f.State != "" && !slices.Contains(jobs.States, f.State) {
		return f, &badRequest{msg: fmt.Sprintf("state %q: want one of %s", f.State, strings.Join(jobs.States, ", "))}
	}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return f, &badRequest{msg: fmt.Sprintf("since %q: want an RFC 3339 time", v)}
		}
		f.Since = t
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return f, &badRequest{msg: fmt.Sprintf("limit %q: want 1..500", v)}
		}
		f.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return f, &badRequest{msg: fmt.Sprintf("cursor %q is not valid", v)}
		}
		f.Before = n
	}
	return f, nil
}

func pathID(r *http.Request) (int64, error) {
	v := r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 {
		return 0, &badRequest{msg: fmt.Sprintf("job id %q is not a positive integer", v)}
	}
	return id, nil
}

func (a *API) getJob(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	j, err := a.jobs.Job(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, j)
}

func (a *API) retryJob(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	j, err := a.jobs.RetryJob(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, j)
}

func (a *API) cancelJob(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	j, err := a.jobs.CancelJob(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, j)
}

func (a *API) stats(w http.ResponseWriter, r *http.Request) {
	st, err := a.jobs.Stats(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, st)
}

func (a *API) startBackfill(w http.ResponseWriter, r *http.Request) {
	var req adminapi.BackfillRequest
	if r.ContentLength != 0 {
		if err := decodeBody(r, &req); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	b, err := a.jobs.StartBackfill(r.Context(), req)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusAccepted, b)
}

func (a *API) getBackfill(w http.ResponseWriter, r *http.Request) {
	b, err := a.jobs.Backfill(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, b)
}

func (a *API) cancelBackfill(w http.ResponseWriter, r *http.Request) {
	b, err := a.jobs.CancelBackfill(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, b)
}

func (a *API) reconcile(w http.ResponseWriter, r *http.Request) {
	res, err := a.jobs.Reconcile(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, res)
}
