package s3api

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests      *prometheus.CounterVec
	inflight      prometheus.Gauge
	uploadedBytes prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imgate_s3_requests_total",
			Help: "S3 API requests by operation and S3 error code (\"\" for success).",
		}, []string{"op", "code"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "imgate_s3_uploads_in_flight",
			Help: "Uploads (PutObject, UploadPart, POST object) being streamed now.",
		}),
		uploadedBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "imgate_s3_uploaded_bytes_total",
			Help: "Bytes stored through the S3 API (objects and parts).",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.inflight, m.uploadedBytes} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				continue
			}
			return nil, fmt.Errorf("s3api: register metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) observe(op, code string, _ time.Duration) {
	if op == "" {
		op = "Unknown"
	}
	m.requests.WithLabelValues(op, code).Inc()
}
