// Package presets is the versioned store of size presets and the rules for
// changing them. Every change stores a new version of the whole set; each
// preset remembers the version at which its definition last changed (Since),
// so editing one preset makes only that preset's variants stale.
package presets

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/imgate/imgate/gateway/jobdb"
	"github.com/imgate/imgate/resizer"
)

// Stored is a preset as kept in the store: its definition plus the
// preset-set version at which that definition last changed. Variants record
// Since, so a change to one preset makes only that preset's variants stale.
type Stored struct {
	resizer.Preset
	Since int64 `json:"since"`
}

// Set is one version of the preset configuration.
type Set struct {
	Version int64
	Presets []Stored
}

// Names returns the preset names in stored order.
func (p Set) Names() []string {
	out := make([]string, len(p.Presets))
	for i, sp := range p.Presets {
		out[i] = sp.Name
	}
	return out
}

// Get returns the preset called name.
func (p Set) Get(name string) (Stored, bool) {
	for _, sp := range p.Presets {
		if sp.Name == name {
			return sp, true
		}
	}
	return Stored{}, false
}

// Store reads and versions presets, with a short-lived cache of the current
// set (other nodes may change it).
type Store struct {
	db  *jobdb.DB
	mu  sync.Mutex
	cur *Set
	at  time.Time
	ttl time.Duration
}

// New returns the store on db (migrated by jobdb). ttl bounds how long a
// change made by another node may go unseen by Current.
func New(db *jobdb.DB, ttl time.Duration) *Store {
	return &Store{db: db, ttl: ttl}
}

var errNoPresets = errors.New("no preset set stored")

// Load returns preset version version (0: the newest).
func (ps *Store) Load(ctx context.Context, version int64) (Set, error) {
	var (
		v   int64
		raw string
		row *sql.Row
	)
	if version > 0 {
		row = ps.db.QueryRow(ctx, `SELECT version, presets FROM imgate_preset_sets WHERE version = ?`, version)
	} else {
		row = ps.db.QueryRow(ctx, `SELECT version, presets FROM imgate_preset_sets ORDER BY version DESC LIMIT 1`)
	}
	if err := row.Scan(&v, &raw); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Set{}, errNoPresets
		}
		return Set{}, fmt.Errorf("presets: load: %w", err)
	}
	set := Set{Version: v}
	if err := json.Unmarshal([]byte(raw), &set.Presets); err != nil {
		return Set{}, fmt.Errorf("presets: decode v%d: %w", v, err)
	}
	return set, nil
}

// Current returns the newest preset set (cached for ttl).
func (ps *Store) Current(ctx context.Context) (Set, error) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.cur != nil && time.Since(ps.at) < ps.ttl {
		return *ps.cur, nil
	}
	set, err := ps.Load(ctx, 0)
	if err != nil {
		return Set{}, err
	}
	ps.cur, ps.at = &set, time.Now()
	return set, nil
}

// Seed stores presets as version 1 when the store has none.
func (ps *Store) Seed(ctx context.Context, presets []resizer.Preset) error {
	if _, err := ps.Load(ctx, 0); err == nil {
		return nil
	} else if !errors.Is(err, errNoPresets) {
		return err
	}
	valid, err := resizer.ValidatePresets(presets)
	if err != nil {
		return fmt.Errorf("presets: seed: %w", err)
	}
	_, err = ps.saveOver(ctx, Set{}, valid)
	return err
}

// Update applies change to the newest set and stores the result as a new
// version. change returns the new list, or an error that is returned as is.
// A concurrent change by another node is retried a few times.
func (ps *Store) Update(ctx context.Context, change func(cur []resizer.Preset) ([]resizer.Preset, error)) (Set, error) {
	for range 5 {
		cur, err := ps.Load(ctx, 0)
		if err != nil && !errors.Is(err, errNoPresets) {
			return Set{}, err
		}
		list := make([]resizer.Preset, len(cur.Presets))
		for i, sp := range cur.Presets {
			list[i] = sp.Preset
		}
		next, err := change(list)
		if err != nil {
			return Set{}, err
		}
		valid, err := resizer.ValidatePresets(next)
		if err != nil {
			return Set{}, err
		}
		set, err := ps.saveOver(ctx, cur, valid)
		if err == nil {
			return set, nil
		}
		if !jobdb.IsConflict(err) {
			return Set{}, err
		}
	}
	return Set{}, errors.New("presets: changed concurrently, try again")
}

// saveOver stores presets as version prev.Version+1; Since is kept for
// definitions equal to prev's.
func (ps *Store) saveOver(ctx context.Context, prev Set, presets []resizer.Preset) (Set, error) {
	set := Set{Version: prev.Version + 1}
	for _, p := range presets {
		sp := Stored{Preset: p, Since: set.Version}
		if old, ok := prev.Get(p.Name); ok && old.Preset.Equal(p) {
			sp.Since = old.Since
		}
		set.Presets = append(set.Presets, sp)
	}
	raw, err := json.Marshal(set.Presets)
	if err != nil {
		return Set{}, fmt.Errorf("presets: encode: %w", err)
	}
	if _, err := ps.db.Exec(ctx, `INSERT INTO imgate_preset_sets (version, created_at, presets) VALUES (?, ?, ?)`,
		set.Version, jobdb.NowMS(), string(raw)); err != nil {
		return Set{}, fmt.Errorf("presets: save: %w", err)
	}
	ps.mu.Lock()
	ps.cur, ps.at = &set, time.Now()
	ps.mu.Unlock()
	return set, nil
}

// AllNames returns every preset name any version ever had (for deletes).
func (ps *Store) AllNames(ctx context.Context) ([]string, error) {
	rows, err := ps.db.Query(ctx, `SELECT presets FROM imgate_preset_sets`)
	if err != nil {
		return nil, fmt.Errorf("presets: list: %w", err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	var out []string
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("presets: list: %w", err)
		}
		var list []Stored
		if err := json.Unmarshal([]byte(raw), &list); err != nil {
			continue
		}
		for _, p := range list {
			if !seen[p.Name] {
				seen[p.Name] = true
				out = append(out, p.Name)
			}
		}
	}
	slices.Sort(out)
	return out, rows.Err()
}
