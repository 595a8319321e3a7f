package jobs

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/imgate/imgate/gateway/adminapi"
)

// Stats summarises the queue from the job records (all nodes).
func (s *Service) Stats(ctx context.Context) (adminapi.Stats, error) {
	st := adminapi.Stats{Counts: map[string]int64{}, PresetTiming: map[string]adminapi.Durations{}}
	counts, err := s.countByState(ctx)
	if err != nil {
		return st, fmt.Errorf("jobs: stats: %w", err)
	}
	for _, state := range States {
		st.Counts[state] = counts[state]
	}
	st.QueueDepth = counts[adminapi.StateQueued] + counts[adminapi.StateRetrying]
	now := time.Now()
	from := now.Add(-60 * time.Second).UnixMilli()
	st.Throughput = make([]float64, 60)
	rows, err := s.db.Query(ctx, `SELECT finished_at FROM imgate_jobs WHERE outcome = ? AND finished_at >= ?`, outcomeCompleted, from)
	if err != nil {
		return st, fmt.Errorf("jobs: stats: %w", err)
	}
	var n int64
	for rows.Next() {
		var at int64
		if err := rows.Scan(&at); err != nil {
			rows.Close()
			return st, fmt.Errorf("jobs: stats: %w", err)
		}
		if i := int((at - from) / 1000); i >= 0 && i < 60 {
			st.Throughput[i]++
			n++
		}
	}
	rows.Close()
	st.JobsPerSec = float64(n) / 60
	durs, err := s.int64s(ctx, `SELECT duration_ms FROM imgate_jobs WHERE outcome = ? ORDER BY finished_at DESC LIMIT 1000`, outcomeCompleted)
	if err != nil {
		return st, err
	}
	st.JobTiming = percentiles(durs)
	set, err := s.presets.Current(ctx)
	if err != nil {
		return st, err
	}
	for _, name := range set.Names() {
		ms, err := s.int64s(ctx, `SELECT ms FROM imgate_job_variants WHERE preset = ? ORDER BY at DESC LIMIT 1000`, name)
		if err != nil {
			return st, err
		}
		st.PresetTiming[name] = percentiles(ms)
	}
	if err := s.db.QueryRow(ctx, `SELECT COALESCE(SUM(bytes_in), 0), COALESCE(SUM(bytes_out), 0) FROM imgate_jobs`).Scan(&st.BytesIn, &st.BytesOut); err != nil {
		return st, fmt.Errorf("jobs: stats: %w", err)
	}
	return st, nil
}

func (s *Service) int64s(ctx context.Context, q string, args ...any) ([]int64, error) {
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("jobs: stats: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("jobs: stats: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// percentiles returns nearest-rank p50 and p95.
func percentiles(v []int64) adminapi.Durations {
	if len(v) == 0 {
		return adminapi.Durations{}
	}
	sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
	rank := func(p float64) float64 {
		i := int(p*float64(len(v))+0.999999) - 1
		return float64(v[min(max(i, 0), len(v)-1)])
	}
	return adminapi.Durations{P50: rank(0.50), P95: rank(0.95), N: int64(len(v))}
}

// States are the public job states, in the order of a job's life.
var States = []string{adminapi.StateQueued, adminapi.StateRunning, adminapi.StateRetrying,
	adminapi.StateCompleted, adminapi.StateFailed, adminapi.StateCancelled}

// countByState counts the jobs of the store by public state.
func (s *Service) countByState(ctx context.Context) (map[string]int64, error) {
	rows, err := s.db.Query(ctx, `SELECT `+stateExpr+`, COUNT(*)`+jobsFrom+` GROUP BY 1`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var (
			st string
			n  int64
		)
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}
