package admin

import (
	"errors"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/imgate/imgate/admin/actions"
	"github.com/imgate/imgate/admin/client"
	"github.com/imgate/imgate/admin/client/clienttest"
	"github.com/imgate/imgate/gateway/adminapi"
)

func hasCall(calls []string, want string) bool {
	for _, c := range calls {
		if c == want {
			return true
		}
	}
	return false
}

func countCalls(calls []string, prefix string) int {
	n := 0
	for _, c := range calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

func TestInitialLoad(t *testing.T) {
	h := newHarness(t, 80, 24)
	if h.m.jobs.Len() != 4 {
		t.Fatalf("jobs = %d, want 4", h.m.jobs.Len())
	}
	h.mustSee("○ connecting", "completed 118", "2.4 jobs/s", "photos/alps.jpg", "decode: unex")
	h.send(actions.StreamStatusMsg{Status: connected()})
	h.mustSee("● live")
	if !h.m.Connected() {
		t.Fatal("model not connected")
	}
}

func TestJobsArriveLiveFromEvents(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.send(actions.StreamStatusMsg{Status: connected()})
	j := adminapi.Job{ID: 45, State: adminapi.StateQueued, Key: "new/upload.jpg", Presets: []string{"150x"}}
	h.send(actions.EventMsg{Event: adminapi.Event{ID: 1, Type: "job.queued", Job: &j}})
	h.mustSee("new/upload.jpg", "5 jobs · last event #1")
	// newest first: the new job is the first row under the column header
	lines := strings.Split(h.screen(), "\n")
	if !strings.HasPrefix(lines[5], "45") {
		t.Fatalf("row 1 = %q, want job 45 on top", lines[5])
	}
	j.State, j.DurationMS = adminapi.StateCompleted, 1250
	h.send(actions.EventMsg{Event: adminapi.Event{ID: 2, Type: "job.completed", Job: &j}})
	if got, _ := h.m.jobs.Get(45); got.State != adminapi.StateCompleted {
		t.Fatalf("job 45 state = %q", got.State)
	}
	h.mustSee("1.2s")
	if h.m.conn.lastID != 2 {
		t.Fatalf("lastEventID = %d", h.m.conn.lastID)
	}
}

func TestCursorStaysOnJobWhenNewOnesArrive(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.keys("j", "j") // 44 → 43 → 42
	if sel, _ := h.m.jobs.Selected(); sel.ID != 42 {
		t.Fatalf("selected %d, want 42", sel.ID)
	}
	h.send(actions.EventMsg{Event: adminapi.Event{ID: 9, Job: &adminapi.Job{ID: 50, State: "queued", Key: "z.jpg"}}})
	if sel, _ := h.m.jobs.Selected(); sel.ID != 42 {
		t.Fatalf("after a new job selected %d, want still 42", sel.ID)
	}
	h.keys("k")
	if sel, _ := h.m.jobs.Selected(); sel.ID != 43 {
		t.Fatalf("after k selected %d, want 43", sel.ID)
	}
}

func TestFilter(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.send(actions.StreamStatusMsg{Status: connected()})
	h.keys("/", "fail")
	if !h.m.capturing() {
		t.Fatal("filter should capture keys")
	}
	h.keys("enter")
	if h.m.jobs.Visible() != 1 {
		t.Fatalf("visible = %d, want 1", h.m.jobs.Visible())
	}
	h.mustSee("/fail", "1 of 4 jobs match \"fail\"", "broken/truncated.jpg")
	h.mustNotSee("photos/alps.jpg")
	// q while filtering types into the filter rather than quitting
	h.keys("/", "q")
	if h.quit {
		t.Fatal("q in the filter quit the program")
	}
	h.keys("esc")
	if h.m.jobs.Visible() != 4 || h.m.jobs.Filter() != "" {
		t.Fatalf("esc did not clear the filter: %d %q", h.m.jobs.Visible(), h.m.jobs.Filter())
	}
}

func TestRetryAndCancel(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.keys("j", "j", "r")
	if !hasCall(h.fake.Calls(), "Retry(42)") {
		t.Fatalf("calls = %v", h.fake.Calls())
	}
	if j, _ := h.m.jobs.Get(42); j.State != adminapi.StateQueued {
		t.Fatalf("job 42 after retry = %q", j.State)
	}
	h.mustSee("✓ retry job 42: now queued")
	h.keys("x")
	if !hasCall(h.fake.Calls(), "Cancel(42)") {
		t.Fatalf("calls = %v", h.fake.Calls())
	}
	h.mustSee("cancel job 42: now cancelled")
}

func TestAPIErrorShowsInStatusLine(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.send(actions.StreamStatusMsg{Status: connected()})
	h.fake.Err = &client.APIError{Status: 409, Code: "conflict", Message: "job 44 is not failed"}
	h.keys("r")
	h.mustSee("✗ retry job 44: job 44 is not failed (conflict, HTTP 409)")
	// the notice expires
	fire[noticeExpireMsg](h)
	h.mustNotSee("job 44 is not failed")
}

func TestDetail(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.keys("j", "j", "enter")
	if !h.m.DetailOpen() {
		t.Fatal("detail not open")
	}
	h.mustSee("job 42  failed", "imgate-original/broken/truncated.jpg", "attempt    3 of 3", "ERRORS (3)", "#2 09:30:03  decode: unexpected EOF")
	h.keys("esc")
	if h.m.DetailOpen() {
		t.Fatal("esc did not close the detail")
	}
	h.keys("G", "enter")
	h.mustSee("job 41  completed", "VARIANTS (3)", "x150/photos/alps.jpg", "225×150", "ERRORS (0)")
	// live update of the open job reloads it
	h.fake.PutJob(adminapi.Job{ID: 41, State: adminapi.StateQueued, Key: "photos/alps.jpg"})
	h.send(actions.EventMsg{Event: adminapi.Event{ID: 3, Type: "job.queued", Job: &adminapi.Job{ID: 41, State: adminapi.StateQueued, Key: "photos/alps.jpg"}}})
	h.mustSee("job 41  queued")
	if countCalls(h.fake.Calls(), "Job(41)") != 2 {
		t.Fatalf("detail not reloaded on state change: %v", h.fake.Calls())
	}
}

func TestDisconnectAndReconnect(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.send(actions.StreamStatusMsg{Status: connected()})
	jobsCalls := countCalls(h.fake.Calls(), "Jobs(")
	h.send(actions.EventMsg{Event: adminapi.Event{ID: 7, Job: &adminapi.Job{ID: 44, State: "running", Key: "users/18/avatar.png"}}})
	h.send(actions.StreamStatusMsg{Status: client.StreamStatus{Err: errors.New("event stream: dial tcp 127.0.0.1:8080: connect: connection refused"), Attempt: 3, RetryIn: 2 * time.Second, LastID: 7}})
	h.mustSee("✗ offline", "✗ connection lost, reconnecting in 2s (attempt 3): event stream: dial tcp")
	if h.m.Connected() {
		t.Fatal("still connected")
	}
	// still usable while offline
	h.keys("j")
	h.send(actions.StreamStatusMsg{Status: client.StreamStatus{Connected: true, LastID: 7}})
	h.mustSee("● live", "reconnected — resumed after event #7")
	h.mustNotSee("connection lost")
	if got := countCalls(h.fake.Calls(), "Jobs("); got != jobsCalls+1 {
		t.Fatalf("jobs reloaded %d times after reconnect, want 1", got-jobsCalls)
	}
}

func TestUnauthorizedStreamSaysCheckToken(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.send(actions.StreamStatusMsg{Status: client.StreamStatus{Err: &client.APIError{Status: 401, Code: "unauthorized", Message: "missing or wrong admin token"}, Attempt: 1, RetryIn: 250 * time.Millisecond}})
	h.mustSee("✗ admin token refused (check --token), reconnecting in 250ms (attempt 1): missing or wrong")
}

func TestResize(t *testing.T) {
	h := newHarness(t, 80, 24)
	for _, size := range [][2]int{{80, 24}, {120, 40}, {60, 16}, {100, 30}, {40, 12}} {
		h.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		for _, v := range []string{"1", "2", "3"} {
			h.keys(v)
			out := h.m.View().Content
			lines := strings.Split(out, "\n")
			if len(lines) != size[1] {
				t.Errorf("%dx%d view %s: %d lines", size[0], size[1], v, len(lines))
			}
			for i, l := range lines {
				if w := lipgloss.Width(l); w > size[0] {
					t.Errorf("%dx%d view %s line %d is %d cells wide: %q", size[0], size[1], v, i, w, l)
				}
			}
		}
	}
	h.send(tea.WindowSizeMsg{Width: 120, Height: 40})
	h.keys("1")
	h.mustSee("decode: unexpected EOF") // wide enough for the whole error now
}

func TestTabCyclesViews(t *testing.T) {
	h := newHarness(t, 80, 24)
	want := []View{ViewPresets, ViewBackfill, ViewJobs}
	for _, v := range want {
		h.keys("tab")
		if h.m.Active() != v {
			t.Fatalf("after tab active = %v, want %v", h.m.Active(), v)
		}
	}
	h.keys("shift+tab")
	if h.m.Active() != ViewBackfill {
		t.Fatalf("shift+tab → %v", h.m.Active())
	}
}

func TestHelpAndQuit(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.keys("?")
	h.mustSee("KEYS — Jobs view", "enter details", "r retry", "x cancel", "/ filter", "tab       next view", "q         quit")
	h.keys("?")
	h.mustNotSee("KEYS —")
	h.keys("q")
	if !h.quit {
		t.Fatal("q did not quit")
	}
	h2 := newHarness(t, 80, 24)
	h2.keys("ctrl+c")
	if !h2.quit {
		t.Fatal("ctrl+c did not quit")
	}
}

func TestPresetBadGeometryBlocksSave(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.keys("2", "a", "64y64")
	h.mustSee("NEW PRESET", "✗")
	errText := h.m.presets.FormError()
	if errText == "" {
		t.Fatal("no validation error for 64y64")
	}
	h.keys("enter")
	if countCalls(h.fake.Calls(), "CreatePreset") != 0 {
		t.Fatalf("saved an invalid preset: %v", h.fake.Calls())
	}
	// tab moves between fields instead of switching views in the form
	h.keys("tab")
	if h.m.Active() != ViewPresets {
		t.Fatal("tab left the form")
	}
	h.keys("shift+tab")
	for range 5 {
		h.keys("backspace")
	}
	h.keys("64x64^")
	if e := h.m.presets.FormError(); e != "" {
		t.Fatalf("64x64^ rejected: %s", e)
	}
	h.mustSee("✓ valid")
	h.keys("enter")
	if !hasCall(h.fake.Calls(), "CreatePreset(64x64^,64x64^)") {
		t.Fatalf("calls = %v", h.fake.Calls())
	}
	h.mustSee("PRESETS (v2)", "64x64^", "preset 64x64^ saved")
}

func TestPresetServerValidationAndPreview(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.fake.Validate = func(p adminapi.Preset) adminapi.Validation {
		if p.Geometry == "9000x9000" {
			return adminapi.Validation{Error: "geometry 9000x9000: larger than the 4096 px limit"}
		}
		return adminapi.Validation{Valid: true}
	}
	h.keys("2", "a", "9000x9000")
	fire[any](h) // debounce → validate + preview
	if !hasCall(h.fake.Calls(), "ValidatePreset(9000x9000)") || !hasCall(h.fake.Calls(), "Preview(9000x9000)") {
		t.Fatalf("calls = %v", h.fake.Calls())
	}
	h.mustSee("✗ geometry 9000x9000: larger than the")
	if e := h.m.presets.FormError(); e != "geometry 9000x9000: larger than the 4096 px limit" {
		t.Fatalf("form error = %q", e)
	}
	h.keys("enter")
	if countCalls(h.fake.Calls(), "CreatePreset") != 0 {
		t.Fatal("saved a preset the server called invalid")
	}
	h.keys("esc")
	h.mustSee("PRESETS (v1)")
}

func TestPresetEditAndDelete(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.keys("2", "j", "e")
	h.mustSee("EDIT PRESET 50x50")
	h.keys("tab", "tab", "90", "enter") // quality
	if !hasCall(h.fake.Calls(), "UpdatePreset(50x50,50x50)") {
		t.Fatalf("calls = %v", h.fake.Calls())
	}
	h.mustSee("q90")
	h.keys("d")
	h.mustSee("delete preset 50x50?")
	h.keys("n")
	if countCalls(h.fake.Calls(), "DeletePreset") != 0 {
		t.Fatal("n deleted")
	}
	h.keys("d", "v")
	if !hasCall(h.fake.Calls(), "DeletePreset(50x50,true)") {
		t.Fatalf("calls = %v", h.fake.Calls())
	}
	h.mustSee("PRESETS (v3)", "preset 50x50 deleted")
}

func TestPreviewDrawnWithHalfBlocks(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.fake.PreviewImage = clienttest.Gradient(64, 64)
	h.keys("2", "p")
	h.mustSee("PREVIEW 150x", "64×64 px")
	raw := h.m.View().Content
	if !strings.Contains(raw, "▀") || !strings.Contains(raw, "38;2;") || !strings.Contains(raw, "48;2;") {
		t.Fatal("preview not drawn with true-colour half blocks")
	}
	h.fake.Err = errors.New("no originals yet")
	h.keys("p")
	h.mustSee("no originals yet")
}

func TestBackfillProgress(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.keys("3")
	h.mustSee("No backfill has run yet")
	h.keys("b")
	if countCalls(h.fake.Calls(), "StartBackfill") != 1 {
		t.Fatalf("calls = %v", h.fake.Calls())
	}
	h.mustSee("#1  running", "0%", "backfill #1 started")
	bf := adminapi.Backfill{ID: 1, State: "running", Presets: []string{"150x", "64x64^"}, Total: 10, Enqueued: 10, Done: 5, Scanned: true, StartedAt: t0}
	h.send(actions.EventMsg{Event: adminapi.Event{ID: 20, Type: "backfill.progress", Backfill: &bf}})
	h.mustSee(" 50%", "done 5")
	// b while running does not start a second one
	h.keys("b")
	if countCalls(h.fake.Calls(), "StartBackfill") != 1 {
		t.Fatal("started a second backfill while one runs")
	}
	bf.Done, bf.State, bf.FinishedAt = 10, "done", ptime(t0.Add(12*time.Second))
	h.send(actions.EventMsg{Event: adminapi.Event{ID: 21, Type: "backfill.progress", Backfill: &bf}})
	h.mustSee("#1  done", "100%", "(12s)")
}

func TestBackfillPolledWhileRunning(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.keys("3", "b", "1")
	before := countCalls(h.fake.Calls(), "Backfill")
	fire[tickMsg](h)
	if countCalls(h.fake.Calls(), "Backfill") != before+1 {
		t.Fatalf("running backfill not polled on tick: %v", h.fake.Calls())
	}
	if countCalls(h.fake.Calls(), "Stats") < 2 {
		t.Fatal("stats not polled on tick")
	}
}

func TestOlderJobsPagedInAtTheEnd(t *testing.T) {
	var many []adminapi.Job
	for i := int64(1); i <= 30; i++ {
		many = append(many, adminapi.Job{ID: i, State: adminapi.StateCompleted, Key: "k" + strings.Repeat("x", int(i%3))})
	}
	fake := clienttest.NewFake(many, samplePresets())
	h := &harness{t: t, fake: fake}
	h.m = New(t.Context(), fake, Options{JobsLimit: 12, After: func(time.Duration, tea.Msg) tea.Cmd { return nil }})
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	h.run(h.m.Init())
	if h.m.jobs.Len() != 12 {
		t.Fatalf("first page = %d jobs", h.m.jobs.Len())
	}
	h.keys("G")
	if h.m.jobs.Len() != 24 || !hasCall(fake.Calls(), "Jobs(,,19)") {
		t.Fatalf("after G: %d jobs, calls %v", h.m.jobs.Len(), fake.Calls())
	}
	h.keys("G", "G", "j")
	if h.m.jobs.Len() != 30 {
		t.Fatalf("all pages: %d jobs", h.m.jobs.Len())
	}
	if sel, _ := h.m.jobs.Selected(); sel.ID != 1 {
		t.Fatalf("selected %d, want the oldest job 1", sel.ID)
	}
	if n := countCalls(fake.Calls(), "Jobs("); n != 3 {
		t.Fatalf("%d Jobs calls, want 3 (no request past the last page)", n)
	}
}

func TestDetailScrollsWithinBounds(t *testing.T) {
	h := newHarness(t, 80, 12) // body of 6 lines: the detail must scroll
	h.keys("j", "j", "enter")
	h.mustSee("job 42  failed", "object")
	for range 50 {
		h.keys("j")
	}
	h.mustSee("job 42  failed", "#3 09:30:07") // title kept, end reached
	h.mustNotSee("object ")
	h.mustNotSee("none written yet")
	h.keys("k") // one k scrolls back at once: the scroll did not run past the end
	h.mustSee("none written yet")
	h.mustNotSee("#3 09:30:07")
}
