package common

import (
	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"
)

// Component is the contract of every dashboard screen: a Bubble Tea v2
// model that lists its keys for the help line (help.KeyMap) and draws in
// the area the root gives it. Update changes the component in place and
// returns it; View fills exactly the size set.
type Component interface {
	tea.Model
	help.KeyMap
	SetSize(width, height int)
}

// Capturer is a Component that can take every key for a while (a text
// field is open), so the root's own keys (q, tab, 1…3) must not fire.
type Capturer interface {
	Capturing() bool
}
