package header

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/imgate/imgate/admin/common"
	"github.com/imgate/imgate/gateway/adminapi"
)

func TestSparkline(t *testing.T) {
	tests := []struct {
		in    []float64
		width int
		want  string
	}{
		{nil, 4, "▁▁▁▁"},
		{[]float64{0, 0}, 2, "▁▁"},
		{[]float64{1, 2, 4, 8}, 4, "▂▃▅█"}, // ▁ is kept for zero,
		{[]float64{8, 0.01}, 2, "█▂"},      // a tiny non-zero value is still visible
		{[]float64{1, 2, 3, 4, 5, 6}, 3, "▆▇█"},
		{[]float64{5}, 3, "▁▁█"},
		{[]float64{1}, 0, ""},
	}
	for _, tt := range tests {
		if got := Sparkline(tt.in, tt.width); got != tt.want {
			t.Errorf("Sparkline(%v, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
	}
}

func TestViewFitsWidth(t *testing.T) {
	c := &common.Common{Styles: common.DefaultStyles()}
	m := New(c, "http://127.0.0.1:8080", []string{"1 Jobs", "2 Presets"})
	m.Stats = adminapi.Stats{Counts: map[string]int64{"completed": 123456789}, Throughput: make([]float64, 60), JobsPerSec: 12.5}
	for _, w := range []int{30, 80, 120} {
		m.SetSize(w, Height)
		lines := strings.Split(m.View(), "\n")
		if len(lines) != Height {
			t.Fatalf("width %d: %d lines", w, len(lines))
		}
		for _, l := range lines {
			if n := ansi.StringWidth(l); n > w {
				t.Errorf("width %d: line %q is %d wide", w, ansi.Strip(l), n)
			}
		}
	}
	if strings.Contains(ansi.Strip(m.View()), "webhooks") {
		t.Error("webhooks shown with no failing delivery")
	}
	m.SetSize(200, Height)
	m.Webhooks = adminapi.WebhookDeliveries{URLs: 1, Deliveries: []adminapi.WebhookDelivery{
		{URL: "http://app.example/hooks", State: "retryable", Attempts: 3, LastError: "HTTP 500"}}}
	if v := ansi.Strip(m.View()); !strings.Contains(v, "webhooks failing 1") || !strings.Contains(v, "app.example: HTTP 500") {
		t.Errorf("failing webhook not shown:\n%s", v)
	}
	m.Conn = Offline
	if !strings.Contains(ansi.Strip(m.View()), "✗ offline") {
		t.Error("offline not shown")
	}
}
