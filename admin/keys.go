package admin

import "charm.land/bubbles/v2/key"

// KeyMap are the keys that work in every view.
type KeyMap struct {
	NextView, PrevView, Jobs, Presets, Backfill, Help, Quit key.Binding
}

// DefaultKeyMap returns the global keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		NextView: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next view")),
		PrevView: key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous view")),
		Jobs:     key.NewBinding(key.WithKeys("1"), key.WithHelp("1", "jobs")),
		Presets:  key.NewBinding(key.WithKeys("2"), key.WithHelp("2", "presets")),
		Backfill: key.NewBinding(key.WithKeys("3"), key.WithHelp("3", "backfill")),
		Help:     key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:     key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	}
}

// ShortHelp implements help.KeyMap.
func (k KeyMap) ShortHelp() []key.Binding { return []key.Binding{k.NextView, k.Help, k.Quit} }

// FullHelp implements help.KeyMap.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.NextView, k.PrevView, k.Jobs, k.Presets, k.Backfill, k.Help, k.Quit}}
}
