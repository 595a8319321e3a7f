package halfblock

import (
	"image"
	"image/color"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func TestFit(t *testing.T) {
	tests := []struct {
		w, h, cols, rows int
		ww, wh           int
	}{
		{64, 64, 40, 10, 20, 20},   // square, limited by rows (20 px high)
		{400, 100, 40, 10, 40, 10}, // wide, limited by cols
		{10, 6, 40, 10, 10, 6},     // small: never enlarged
		{100, 50, 0, 10, 0, 0},
	}
	for _, tt := range tests {
		w, h := Fit(image.Rect(0, 0, tt.w, tt.h), tt.cols, tt.rows)
		if w != tt.ww || h != tt.wh {
			t.Errorf("Fit(%dx%d in %dx%d) = %dx%d, want %dx%d", tt.w, tt.h, tt.cols, tt.rows, w, h, tt.ww, tt.wh)
		}
	}
}

func TestRenderColoursAndShape(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 2, 3))
	red, blue := color.NRGBA{255, 0, 0, 255}, color.NRGBA{0, 0, 255, 255}
	img.Set(0, 0, red)
	img.Set(1, 0, red)
	img.Set(0, 1, blue)
	img.Set(1, 1, blue)
	img.Set(0, 2, color.NRGBA{0, 0, 0, 0}) // transparent → background
	img.Set(1, 2, red)
	out := Render(img, 10, 10, color.White)
	lines := strings.Split(out, "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 cell rows for 3 pixel rows, got %d", len(lines))
	}
	if got := ansi.Strip(lines[0]); got != "▀▀" {
		t.Errorf("row 0 text = %q", got)
	}
	if !strings.Contains(lines[0], "\x1b[38;2;255;0;0m\x1b[48;2;0;0;255m▀") {
		t.Errorf("row 0 lacks red-over-blue cell: %q", lines[0])
	}
	if !strings.Contains(lines[1], "\x1b[38;2;255;255;255m\x1b[49m▀") {
		t.Errorf("transparent pixel not drawn on white: %q", lines[1])
	}
	for _, l := range lines {
		if !strings.HasSuffix(l, "\x1b[0m") {
			t.Errorf("line does not reset colours: %q", l)
		}
	}
}
