package jobs

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imgate/imgate/gateway/adminapi"
)

type metrics struct {
	jobs       *prometheus.CounterVec   // state transitions seen by this process
	byState    *prometheus.GaugeVec     // jobs by state in the store (all nodes)
	queueDepth prometheus.Gauge         // jobs waiting (queued + retrying)
	jobDur     prometheus.Histogram     // whole job
	presetDur  *prometheus.HistogramVec // per preset
	bytesIn    prometheus.Counter
	bytesOut   prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	buckets := []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}
	m := &metrics{
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imgate_jobs_total", Help: "Resize job state transitions made by this process, by new state.",
		}, []string{"state"}),
		byState: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "imgate_jobs", Help: "Resize jobs in the job store by state (all nodes).",
		}, []string{"state"}),
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "imgate_jobs_queue_depth", Help: "Resize jobs waiting to run (queued or retrying).",
		}),
		jobDur: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "imgate_job_duration_seconds", Help: "Duration of completed resize jobs.", Buckets: buckets,
		}),
		presetDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "imgate_preset_duration_seconds", Help: "Time to render and store one variant, by preset.", Buckets: buckets,
		}, []string{"preset"}),
		bytesIn: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "imgate_job_bytes_in_total", Help: "Bytes of originals read by resize jobs.",
		}),
		bytesOut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "imgate_job_bytes_out_total", Help: "Bytes of variants written by resize jobs.",
		}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.jobs, m.byState, m.queueDepth, m.jobDur, m.presetDur, m.bytesIn, m.bytesOut} {
			_ = reg.Register(c)
		}
	}
	return m
}

// refreshGauges updates the store-wide gauges.
func (s *Service) refreshGauges(ctx context.Context) {
	counts, err := s.countByState(ctx)
	if err != nil {
		return
	}
	for _, st := range States {
		s.metrics.byState.WithLabelValues(st).Set(float64(counts[st]))
	}
	s.metrics.queueDepth.Set(float64(counts[adminapi.StateQueued] + counts[adminapi.StateRetrying]))
}
