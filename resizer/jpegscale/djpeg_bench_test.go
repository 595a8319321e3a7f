package jpegscale

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imgate/imgate/internal/testenv"
)

// entropyBytes counts the entropy-coded bytes of a JPEG: from the end of
// every SOS header to the marker that ends its scan.
func entropyBytes(data []byte) int {
	total := 0
	for p := 2; p+4 <= len(data); {
		if data[p] != 0xFF {
			p++
			continue
		}
		code := data[p+1]
		if code == 0xFF || code == 0 || code == mSOI || (code >= mRST0 && code <= mRST7) {
			p++
			continue
		}
		if code == mEOI {
			break
		}
		end := p + 2 + (int(data[p+2])<<8 | int(data[p+3]))
		if code != mSOS {
			p = end
			continue
		}
		q := end
		for q+1 < len(data) && (data[q] != 0xFF || data[q+1] == 0 || (data[q+1] >= mRST0 && data[q+1] <= mRST7)) {
			q++
		}
		total += q - end
		p = q
	}
	return total
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkBaselineVsDjpeg decodes every baseline corpus JPEG of 1 MP or
// more at 1/8, 1/4 (the scales the classic presets use: bench/jpegplan
// tells which) and 1/1, and runs `djpeg -scale 1/N`
// (libjpeg-turbo, process start and PPM output included) on the same file
// as many times. Both are measured in CPU time, which a loaded machine
// disturbs less than wall time, and reported as MB/s of entropy-coded data
// (ecs-MB/s, djpeg-ecs-MB/s) and as x-djpeg: imgate's time over djpeg's
// (issue 13's goal: ≤ 1.5).
//
//	go test ./resizer/jpegscale -run '^$' -bench BaselineVsDjpeg -benchtime 10x
func BenchmarkBaselineVsDjpeg(b *testing.B) {
	djpeg := testenv.Tool(b, "djpeg")
	for _, f := range testenv.CorpusImages(b) {
		if !strings.HasSuffix(strings.ToLower(f), ".jpg") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		if cfg, err := DecodeConfig(data); err != nil || cfg.Progressive || cfg.Width*cfg.Height < 1<<20 {
			continue
		}
		ecs := float64(entropyBytes(data))
		for _, denom := range []int{8, 4, 1} {
			name := strings.TrimSuffix(filepath.Base(f), ".jpg") + "/1_" + string(rune('0'+denom))
			b.Run(name, func(b *testing.B) {
				start := cpuTime(b)
				for b.Loop() {
					if _, err := DecodeBytes(data, denom, Options{}); err != nil {
						b.Fatal(err)
					}
				}
				ours := (cpuTime(b) - start).Seconds() / float64(b.N)
				b.StopTimer()
				var theirs float64
				for i := 0; i < b.N; i++ {
					cmd := exec.Command(djpeg, "-scale", "1/"+string(rune('0'+denom)), "-outfile", os.DevNull, f)
					if out, err := cmd.CombinedOutput(); err != nil {
						b.Fatalf("djpeg: %v: %s", err, out)
					}
					theirs += (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
				}
				theirs /= float64(b.N)
				b.ReportMetric(ours*1e3, "cpu-ms/op")
				b.ReportMetric(theirs*1e3, "djpeg-cpu-ms/op")
				b.ReportMetric(ecs/ours/1e6, "ecs-MB/s")
				b.ReportMetric(ecs/theirs/1e6, "djpeg-ecs-MB/s")
				b.ReportMetric(ours/theirs, "x-djpeg")
			})
		}
	}
}
