package admin

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/imgate/imgate/admin/actions"
	"github.com/imgate/imgate/admin/client"
	"github.com/imgate/imgate/admin/client/clienttest"
	"github.com/imgate/imgate/gateway/adminapi"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// goldenScreens builds each view at a fixed size with fixed data.
func goldenScreens(t *testing.T, w, h int) map[string]string {
	out := map[string]string{}
	hs := newHarness(t, w, h)
	hs.send(actions.StreamStatusMsg{Status: connected()})
	hs.send(actions.EventMsg{Event: adminapi.Event{ID: 57, Type: "job.running", Job: &adminapi.Job{ID: 43, State: adminapi.StateRunning, Key: "users/17/avatar.png", Presets: []string{"150x", "50x50", "x150"}}}})
	out["jobs"] = hs.screen()

	hs.keys("j", "j", "enter")
	out["detail"] = hs.screen()
	hs.keys("esc")

	hs.keys("/", "avatar", "enter")
	out["jobs-filtered"] = hs.screen()
	hs.keys("esc")

	hs.fake.PreviewImage = clienttest.Gradient(150, 100)
	hs.keys("2", "p")
	out["presets"] = hs.screen()

	hs.keys("a", "64x64^")
	hs.fake.PreviewImage = clienttest.Gradient(64, 64)
	fire[any](hs)
	out["preset-form"] = hs.screen()
	for range 3 {
		hs.keys("backspace")
	}
	hs.keys("y64")
	out["preset-form-invalid"] = hs.screen()
	hs.keys("esc")

	hs.keys("3", "b")
	bf := adminapi.Backfill{ID: 1, State: "running", Presets: []string{"150x", "50x50", "x150"}, Total: 240, Enqueued: 240, Done: 174, Failed: 2, Scanned: true, StartedAt: t0}
	hs.send(actions.EventMsg{Event: adminapi.Event{ID: 58, Type: "backfill.progress", Backfill: &bf}})
	out["backfill"] = hs.screen()

	hs.keys("1", "?")
	out["help"] = hs.screen()
	hs.keys("?")

	hs.send(actions.StreamStatusMsg{Status: client.StreamStatus{Err: errors.New("event stream: dial tcp 127.0.0.1:8080: connect: connection refused"), Attempt: 4, RetryIn: 2 * time.Second}})
	out["offline"] = hs.screen()
	return out
}

func TestGolden(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {100, 30}} {
		screens := goldenScreens(t, size[0], size[1])
		for name, got := range screens {
			file := filepath.Join("testdata", name+"-"+itoa(size[0])+"x"+itoa(size[1])+".golden")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, []byte(got+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run go test ./admin -run TestGolden -update)", err)
			}
			if string(want) != got+"\n" {
				t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", file, got, want)
			}
		}
	}
}

func itoa(n int) string {
	if n < 100 {
		return string(rune('0'+n/10)) + string(rune('0'+n%10))
	}
	return string(rune('0'+n/100%10)) + string(rune('0'+n/10%10)) + string(rune('0'+n%10))
}
