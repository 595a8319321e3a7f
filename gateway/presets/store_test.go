package presets_test

import (
	"context"
	"errors"
	"testing"

	"github.com/imgate/imgate/gateway/jobs/jobstest"
	"github.com/imgate/imgate/gateway/presets"
	"github.com/imgate/imgate/resizer"
)

func TestPresetVersionsTrackChangedPresetsOnly(t *testing.T) {
	ps := jobstest.New(t, jobstest.Options{NoStart: true}).Svc.Presets()
	ctx := context.Background()
	set, err := ps.Update(ctx, func(cur []resizer.Preset) ([]resizer.Preset, error) {
		cur[1].Quality = 70 // 150x changes
		return append(cur, resizer.Preset{Geometry: "300x300>"}), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	since := map[string]int64{}
	for _, p := range set.Presets {
		since[p.Name] = p.Since
	}
	if set.Version != 2 || since["50x50"] != 1 || since["x150"] != 1 || since["150x"] != 2 || since["300x300>"] != 2 {
		t.Fatalf("version %d since %v", set.Version, since)
	}
	old, err := ps.Load(ctx, 1)
	if err != nil || len(old.Presets) != 3 {
		t.Fatalf("version 1 kept: %+v %v", old, err)
	}
	// Invalid changes are refused and store nothing.
	if _, err := ps.Update(ctx, func(cur []resizer.Preset) ([]resizer.Preset, error) {
		return append(cur, resizer.Preset{Geometry: "nope"}), nil
	}); err == nil {
		t.Fatal("invalid preset stored")
	}
	if cur, _ := ps.Load(ctx, 0); cur.Version != 2 {
		t.Fatalf("version after refused change: %d", cur.Version)
	}
}

func TestChangeRules(t *testing.T) {
	ps := jobstest.New(t, jobstest.Options{NoStart: true}).Svc.Presets()
	ctx := context.Background()
	var exists *presets.ExistsError
	if _, err := ps.Create(ctx, resizer.Preset{Geometry: "150x"}); !errors.As(err, &exists) || exists.Name != "150x" {
		t.Errorf("create existing: %v", err)
	}
	var re *resizer.Error
	if _, err := ps.Create(ctx, resizer.Preset{Name: "bad", Geometry: "12q"}); !errors.As(err, &re) || re.Kind != resizer.KindInvalidPreset {
		t.Errorf("create invalid: %v", err)
	}
	var rule *presets.RuleError
	if _, err := ps.Replace(ctx, "150x", resizer.Preset{Name: "other", Geometry: "10x"}); !errors.As(err, &rule) {
		t.Errorf("replace with another name: %v", err)
	}
	if _, err := ps.Replace(ctx, "nosuch", resizer.Preset{Geometry: "10x"}); !errors.Is(err, presets.ErrNotFound) {
		t.Errorf("replace unknown: %v", err)
	}
	set, err := ps.Replace(ctx, "150x", resizer.Preset{Geometry: "150x", Quality: 60})
	if err != nil || set.Version != 2 {
		t.Fatalf("replace: %+v %v", set, err)
	}
	if sp, _ := set.Get("150x"); sp.Quality != 60 || sp.Since != 2 {
		t.Errorf("replaced preset %+v", sp)
	}
	for _, name := range []string{"50x50", "x150"} {
		if _, err := ps.Delete(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ps.Delete(ctx, "150x"); !errors.As(err, &rule) {
		t.Errorf("delete the last preset: %v", err)
	}
	if _, err := ps.Delete(ctx, "nosuch"); !errors.Is(err, presets.ErrNotFound) {
		t.Errorf("delete unknown: %v", err)
	}
	if cur, _ := ps.Load(ctx, 0); cur.Version != 4 || len(cur.Presets) != 1 {
		t.Errorf("after deletes: %+v", cur)
	}
}
