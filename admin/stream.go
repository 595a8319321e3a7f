package admin

import (
	"context"
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/imgate/imgate/admin/actions"
	"github.com/imgate/imgate/admin/client"
	"github.com/imgate/imgate/admin/components/header"
	"github.com/imgate/imgate/gateway/adminapi"
)

// connection is the root's view of the live event stream.
type connection struct {
	state      header.Conn
	err        error
	retryIn    time.Duration
	attempt    int
	wasOffline bool
	lastID     int64 // last event id received
	events     <-chan adminapi.Event
	status     <-chan client.StreamStatus
	stop       context.CancelFunc
}

func (m *Model) openStream() tea.Cmd {
	return actions.OpenStream(m.c, m.conn.lastID)
}

func (m *Model) waitStream() tea.Cmd {
	return actions.WaitStream(m.conn.events, m.conn.status)
}

// updateStream handles the stream's messages and waits for the next one.
func (m *Model) updateStream(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case actions.StreamOpenedMsg:
		m.conn.events, m.conn.status, m.conn.stop = msg.Events, msg.Status, msg.Cancel
		return m.waitStream()
	case actions.EventMsg:
		if msg.Event.ID > m.conn.lastID {
			m.conn.lastID = msg.Event.ID
		}
		return tea.Batch(m.applyEvent(msg.Event), m.waitStream())
	case actions.StreamStatusMsg:
		return tea.Batch(m.applyStatus(msg.Status), m.waitStream())
	case actions.StreamClosedMsg:
		if !m.quitting {
			m.conn.state = header.Offline
		}
	}
	return nil
}

func (m *Model) applyStatus(st client.StreamStatus) tea.Cmd {
	c := &m.conn
	if st.Connected {
		c.state, c.err, c.attempt, c.retryIn = header.Live, nil, 0, 0
		if c.wasOffline {
			c.wasOffline = false
			// Catch up on what the event log may no longer hold.
			return tea.Batch(m.jobs.Load(), m.loadStats(), m.presets.Load(), m.backfill.Load(),
				m.setNotice("reconnected — resumed after event #"+fmt.Sprint(c.lastID), false))
		}
		return nil
	}
	c.state, c.err, c.attempt, c.retryIn = header.Offline, st.Err, st.Attempt, st.RetryIn
	c.wasOffline = true
	return nil
}
