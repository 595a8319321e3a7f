package backfill

import (
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/imgate/imgate/admin/common"
	"github.com/imgate/imgate/gateway/adminapi"
)

func TestPercent(t *testing.T) {
	tests := []struct {
		name string
		b    *adminapi.Backfill
		want float64
	}{
		{"none", nil, 0},
		{"listing", &adminapi.Backfill{State: "running", Total: 0}, 0},
		{"half", &adminapi.Backfill{State: "running", Total: 10, Done: 5, Scanned: true}, 0.5},
		{"all done but listing", &adminapi.Backfill{State: "running", Total: 10, Done: 10}, 0.99},
		{"done", &adminapi.Backfill{State: "done", Total: 10, Done: 10, Scanned: true}, 1},
		{"done, nothing to do", &adminapi.Backfill{State: "done", Scanned: true}, 1},
		{"done with failures", &adminapi.Backfill{State: "done", Total: 4, Done: 4, Failed: 1, Scanned: true}, 1},
		{"cancelled", &adminapi.Backfill{State: "cancelled", Total: 4, Done: 1, Scanned: true}, 0.25},
	}
	for _, tt := range tests {
		if got := Percent(tt.b); got != tt.want {
			t.Errorf("%s: Percent = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestBar(t *testing.T) {
	s := common.DefaultStyles()
	tests := []struct {
		p    float64
		want string
	}{
		{0, "░░░░░░   0%"},
		{0.5, "███░░░  50%"},
		{0.999, "█████░  99%"},
		{1, "██████ 100%"},
	}
	for _, tt := range tests {
		if got := ansi.Strip(Bar(tt.p, 11, s)); got != tt.want {
			t.Errorf("Bar(%v) = %q, want %q", tt.p, got, tt.want)
		}
	}
}
