package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/resizer"
)

// storedPreset is a preset as kept in the store: its definition plus the
// preset-set version at which that definition last changed. Variants record
// Since, so a change to one preset makes only that preset's variants stale.
type storedPreset struct {
	resizer.Preset
	Since int64 `json:"since"`
}

// presetSet is one version of the preset configuration.
type presetSet struct {
	Version int64
	Presets []storedPreset
}

func (p presetSet) names() []string {
	out := make([]string, len(p.Presets))
	for i, sp := range p.Presets {
		out[i] = sp.Name
	}
	return out
}

func (p presetSet) get(name string) (storedPreset, bool) {
	for _, sp := range p.Presets {
		if sp.Name == name {
			return sp, true
		}
	}
	return storedPreset{}, false
}

// presetStore reads and versions presets, with a short-lived cache of the
// current set (other nodes may change it).
type presetStore struct {
	db  *db
	mu  sync.Mutex
	cur *presetSet
	at  time.Time
	ttl time.Duration
}

var errNoPresets = errors.New("no preset set stored")

func (ps *presetStore) load(ctx context.Context, version int64) (presetSet, error) {
	var (
		v   int64
		raw string
		row *sql.Row
	)
	if version > 0 {
		row = ps.db.queryRow(ctx, `SELECT version, presets FROM imgate_preset_sets WHERE version = ?`, version)
	} else {
		row = ps.db.queryRow(ctx, `SELECT version, presets FROM imgate_preset_sets ORDER BY version DESC LIMIT 1`)
	}
	if err := row.Scan(&v, &raw); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return presetSet{}, errNoPresets
		}
		return presetSet{}, fmt.Errorf("jobs: load presets: %w", err)
	}
	set := presetSet{Version: v}
	if err := json.Unmarshal([]byte(raw), &set.Presets); err != nil {
		return presetSet{}, fmt.Errorf("jobs: decode presets v%d: %w", v, err)
	}
	return set, nil
}

// current returns the newest preset set (cached for ttl).
func (ps *presetStore) current(ctx context.Context) (presetSet, error) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.cur != nil && time.Since(ps.at) < ps.ttl {
		return *ps.cur, nil
	}
	set, err := ps.load(ctx, 0)
	if err != nil {
		return presetSet{}, err
	}
	ps.cur, ps.at = &set, time.Now()
	return set, nil
}

// seed stores presets as version 1 when the store has none.
func (ps *presetStore) seed(ctx context.Context, presets []resizer.Preset) error {
	if _, err := ps.load(ctx, 0); err == nil {
		return nil
	} else if !errors.Is(err, errNoPresets) {
		return err
	}
	valid, err := resizer.ValidatePresets(presets)
	if err != nil {
		return fmt.Errorf("jobs: seed presets: %w", err)
	}
	_, err = ps.save(ctx, valid)
	return err
}

// update applies change to the newest set and stores the result as a new
// version. change returns the new list, or an error that is returned as is.
func (ps *presetStore) update(ctx context.Context, change func(cur []resizer.Preset) ([]resizer.Preset, error)) (presetSet, error) {
	for range 5 {
		cur, err := ps.load(ctx, 0)
		if err != nil && !errors.Is(err, errNoPresets) {
			return presetSet{}, err
		}
		list := make([]resizer.Preset, len(cur.Presets))
		for i, sp := range cur.Presets {
			list[i] = sp.Preset
		}
		next, err := change(list)
		if err != nil {
			return presetSet{}, err
		}
		valid, err := resizer.ValidatePresets(next)
		if err != nil {
			return presetSet{}, err
		}
		set, err := ps.saveOver(ctx, cur, valid)
		if err == nil {
			return set, nil
		}
		if !isConflict(err) {
			return presetSet{}, err
		}
	}
	return presetSet{}, errors.New("jobs: presets changed concurrently, try again")
}

func (ps *presetStore) save(ctx context.Context, presets []resizer.Preset) (presetSet, error) {
	return ps.saveOver(ctx, presetSet{}, presets)
}

// saveOver stores presets as version prev.Version+1; Since is kept for
// definitions equal to prev's.
func (ps *presetStore) saveOver(ctx context.Context, prev presetSet, presets []resizer.Preset) (presetSet, error) {
	set := presetSet{Version: prev.Version + 1}
	for _, p := range presets {
		sp := storedPreset{Preset: p, Since: set.Version}
		if old, ok := prev.get(p.Name); ok && old.Preset == p {
			sp.Since = old.Since
		}
		set.Presets = append(set.Presets, sp)
	}
	raw, err := json.Marshal(set.Presets)
	if err != nil {
		return presetSet{}, fmt.Errorf("jobs: encode presets: %w", err)
	}
	if _, err := ps.db.exec(ctx, `INSERT INTO imgate_preset_sets (version, created_at, presets) VALUES (?, ?, ?)`,
		set.Version, nowMS(), string(raw)); err != nil {
		return presetSet{}, fmt.Errorf("jobs: save presets: %w", err)
	}
	ps.mu.Lock()
	ps.cur, ps.at = &set, time.Now()
	ps.mu.Unlock()
	return set, nil
}

// allNames returns every preset name any version ever had (for deletes).
func (ps *presetStore) allNames(ctx context.Context) ([]string, error) {
	rows, err := ps.db.query(ctx, `SELECT presets FROM imgate_preset_sets`)
	if err != nil {
		return nil, fmt.Errorf("jobs: list presets: %w", err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	var out []string
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("jobs: list presets: %w", err)
		}
		var list []storedPreset
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

func isConflict(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return containsAny(s, "UNIQUE constraint", "duplicate key", "SQLSTATE 23505", "constraint failed")
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func toWire(p resizer.Preset) adminapi.Preset {
	return adminapi.Preset{
		Name: p.Name, Geometry: p.Geometry, Format: p.Format, Quality: p.Quality,
		Crop: p.Crop, Gravity: p.Gravity, Background: p.Background,
	}
}

func fromWire(p adminapi.Preset) resizer.Preset {
	return resizer.Preset{
		Name: p.Name, Geometry: p.Geometry, Format: p.Format, Quality: p.Quality,
		Crop: p.Crop, Gravity: p.Gravity, Background: p.Background,
	}
}

func wireList(set presetSet) adminapi.PresetList {
	out := adminapi.PresetList{Version: set.Version, Presets: []adminapi.Preset{}}
	for _, sp := range set.Presets {
		out.Presets = append(out.Presets, toWire(sp.Preset))
	}
	return out
}
