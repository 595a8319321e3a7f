package jobs

import (
	"context"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/imgate/imgate/admin/client/clienttest"
	"github.com/imgate/imgate/admin/common"
	"github.com/imgate/imgate/gateway/adminapi"
)

// drive runs cmd and feeds every message it yields back to m, the way
// the root would, and returns the messages m did not handle itself
// (notices, OpenMsg).
func drive(t *testing.T, m *Model, cmd tea.Cmd) []tea.Msg {
	t.Helper()
	var out []tea.Msg
	var run func(tea.Cmd)
	run = func(cmd tea.Cmd) {
		if cmd == nil {
			return
		}
		switch msg := cmd().(type) {
		case nil:
		case tea.BatchMsg:
			for _, c := range msg {
				run(c)
			}
		case common.NoticeMsg, OpenMsg:
			out = append(out, msg)
		default:
			_, next := m.Update(msg)
			run(next)
		}
	}
	run(cmd)
	return out
}

func press(t *testing.T, m *Model, k string) []tea.Msg {
	t.Helper()
	_, cmd := m.Update(tea.KeyPressMsg{Code: rune(k[0]), Text: k})
	return drive(t, m, cmd)
}

func count(calls []string, prefix string) int {
	n := 0
	for _, c := range calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

// TestPagingOwnedByTheScreen: the jobs screen loads its first page, pages
// in older jobs when the cursor reaches the end, stops at the last page
// and reloads on R, with no root model involved.
func TestPagingOwnedByTheScreen(t *testing.T) {
	var all []adminapi.Job
	for i := int64(1); i <= 25; i++ {
		all = append(all, adminapi.Job{ID: i, State: adminapi.StateCompleted, Key: "k"})
	}
	fake := clienttest.NewFake(all, nil)
	c := &common.Common{Ctx: context.Background(), Client: fake, Styles: common.DefaultStyles()}
	m := New(c, 10)
	m.SetSize(80, 20)
	drive(t, m, m.Init())
	if m.Len() != 10 {
		t.Fatalf("first page: %d jobs", m.Len())
	}
	press(t, m, "G")
	if m.Len() != 20 || count(fake.Calls(), "Jobs(,,16)") != 1 {
		t.Fatalf("after G: %d jobs, calls %v", m.Len(), fake.Calls())
	}
	press(t, m, "G")
	press(t, m, "G")
	press(t, m, "G")
	if m.Len() != 25 || count(fake.Calls(), "Jobs(") != 3 {
		t.Fatalf("after the last page: %d jobs, calls %v", m.Len(), fake.Calls())
	}
	if sel, _ := m.Selected(); sel.ID != 1 {
		t.Fatalf("selected %d, want the oldest", sel.ID)
	}
	press(t, m, "R")
	if count(fake.Calls(), "Jobs(,,)") != 2 {
		t.Fatalf("R did not reload the first page: %v", fake.Calls())
	}
	fake.Err = context.DeadlineExceeded
	out := press(t, m, "R")
	if len(out) != 1 || !strings.Contains(out[0].(common.NoticeMsg).Text, "load jobs: context deadline exceeded") {
		t.Fatalf("load error not turned into a notice: %v", out)
	}
}

// TestRetryUpdatesTheList: r calls the API through actions and the answer
// updates the row.
func TestRetryUpdatesTheList(t *testing.T) {
	fake := clienttest.NewFake([]adminapi.Job{{ID: 7, State: adminapi.StateFailed, Key: "a.jpg"}}, nil)
	c := &common.Common{Ctx: context.Background(), Client: fake, Styles: common.DefaultStyles()}
	m := New(c, 0)
	m.SetSize(80, 10)
	drive(t, m, m.Init())
	press(t, m, "r")
	if j, _ := m.Get(7); j.State != adminapi.StateQueued {
		t.Fatalf("job 7 after retry: %q (calls %v)", j.State, fake.Calls())
	}
}
