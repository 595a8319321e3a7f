package presets

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/imgate/imgate/resizer"
)

// Errors of the change rules. A definition the resizer refuses is a
// *resizer.Error of kind resizer.KindInvalidPreset.
var ErrNotFound = errors.New("preset not found")

// ExistsError refuses to create a preset whose name is taken.
type ExistsError struct{ Name string }

func (e *ExistsError) Error() string { return fmt.Sprintf("preset %q already exists", e.Name) }

// RuleError is a change the rules refuse; Msg is public.
type RuleError struct{ Msg string }

func (e *RuleError) Error() string { return e.Msg }

// Create adds a new preset (validated and normalised). A preset of that name
// must not exist yet.
func (ps *Store) Create(ctx context.Context, p resizer.Preset) (Set, error) {
	if err := p.Validate(); err != nil {
		return Set{}, err
	}
	p = p.Normalize()
	return ps.Update(ctx, func(cur []resizer.Preset) ([]resizer.Preset, error) {
		if slices.ContainsFunc(cur, func(c resizer.Preset) bool { return c.Name == p.Name }) {
			return nil, &ExistsError{Name: p.Name}
		}
		return append(cur, p), nil
	})
}

// Replace changes the definition of the preset called name. p.Name may be
// empty (it is name); a different name is refused: a rename is a delete and
// a create, because variants are stored under the preset's name.
func (ps *Store) Replace(ctx context.Context, name string, p resizer.Preset) (Set, error) {
	if p.Name == "" {
		p.Name = name
	}
	if p.Name != name {
		return Set{}, &RuleError{Msg: fmt.Sprintf("body name %q differs from path name %q (rename = delete + create)", p.Name, name)}
	}
	if err := p.Validate(); err != nil {
		return Set{}, err
	}
	p = p.Normalize()
	return ps.Update(ctx, func(cur []resizer.Preset) ([]resizer.Preset, error) {
		i := slices.IndexFunc(cur, func(c resizer.Preset) bool { return c.Name == name })
		if i < 0 {
			return nil, ErrNotFound
		}
		cur[i] = p
		return cur, nil
	})
}

// Delete removes the preset called name. The last preset cannot be deleted.
// Its variants stay until the caller deletes them.
func (ps *Store) Delete(ctx context.Context, name string) (Set, error) {
	return ps.Update(ctx, func(cur []resizer.Preset) ([]resizer.Preset, error) {
		i := slices.IndexFunc(cur, func(c resizer.Preset) bool { return c.Name == name })
		if i < 0 {
			return nil, ErrNotFound
		}
		if len(cur) == 1 {
			return nil, &RuleError{Msg: "cannot delete the last preset"}
		}
		return slices.Delete(cur, i, i+1), nil
	})
}
