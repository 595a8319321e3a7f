package jobsapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/gateway/presets"
	"github.com/imgate/imgate/internal/httpjson"
	"github.com/imgate/imgate/resizer"
)

func toWire(p resizer.Preset) adminapi.Preset {
	return adminapi.Preset{
		Name: p.Name, Geometry: p.Geometry, Format: p.Format, Quality: p.Quality,
		Crop: p.Crop, Gravity: p.Gravity, Background: p.Background, Formats: p.Formats, Animated: p.Animated,
	}
}

func fromWire(p adminapi.Preset) resizer.Preset {
	return resizer.Preset{
		Name: p.Name, Geometry: p.Geometry, Format: p.Format, Quality: p.Quality,
		Crop: p.Crop, Gravity: p.Gravity, Background: p.Background, Formats: p.Formats, Animated: p.Animated,
	}
}

func wireList(set presets.Set) adminapi.PresetList {
	out := adminapi.PresetList{Version: set.Version, Presets: []adminapi.Preset{}}
	for _, sp := range set.Presets {
		out.Presets = append(out.Presets, toWire(sp.Preset))
	}
	return out
}

func (a *API) listPresets(w http.ResponseWriter, r *http.Request) {
	set, err := a.presets.Load(r.Context(), 0)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, wireList(set))
}

func (a *API) createPreset(w http.ResponseWriter, r *http.Request) {
	var p adminapi.Preset
	if err := decodeBody(r, &p); err != nil {
		a.fail(w, r, err)
		return
	}
	set, err := a.presets.Create(r.Context(), fromWire(p))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.log.InfoContext(r.Context(), "preset created", "preset", p.Name, "version", set.Version)
	httpjson.Write(w, http.StatusCreated, wireList(set))
}

func (a *API) updatePreset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	var p adminapi.Preset
	if err := decodeBody(r, &p); err != nil {
		a.fail(w, r, err)
		return
	}
	set, err := a.presets.Replace(r.Context(), name, fromWire(p))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.log.InfoContext(r.Context(), "preset updated", "preset", name, "version", set.Version)
	httpjson.Write(w, http.StatusOK, wireList(set))
}

func (a *API) deletePreset(w http.ResponseWriter, r *http.Request) {
	del := false
	if v := r.URL.Query().Get("delete_variants"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			a.fail(w, r, &badRequest{msg: fmt.Sprintf("delete_variants %q: want true or false", v)})
			return
		}
		del = b
	}
	set, err := a.jobs.DeletePreset(r.Context(), r.PathValue("name"), del)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, wireList(set))
}

// validatePreset answers 200 with the verdict on a preset definition.
func (a *API) validatePreset(w http.ResponseWriter, r *http.Request) {
	var p adminapi.Preset
	if err := decodeBody(r, &p); err != nil {
		a.fail(w, r, err)
		return
	}
	if err := fromWire(p).Validate(); err != nil {
		var re *resizer.Error
		msg := "invalid preset"
		if errors.As(err, &re) {
			msg = re.Public()
		}
		httpjson.Write(w, http.StatusOK, adminapi.Validation{Valid: false, Error: msg})
		return
	}
	httpjson.Write(w, http.StatusOK, adminapi.Validation{Valid: true})
}
