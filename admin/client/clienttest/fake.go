// Package clienttest is test support for the dashboard: Fake, an in-memory
// client.Client whose calls are recorded, and Gradient, a test picture.
// Production code never imports it.
package clienttest

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/imgate/imgate/admin/client"
	"github.com/imgate/imgate/gateway/adminapi"
)

// Fake is an in-memory client.Client for tests. Its zero value is not
// usable; call NewFake. Fields may be set before use; Calls records every
// call by method name. Err, when set, is returned by every call.
type Fake struct {
	mu       sync.Mutex
	jobs     map[int64]adminapi.Job
	presets  adminapi.PresetList
	stats    adminapi.Stats
	webhooks adminapi.WebhookDeliveries
	backfill *adminapi.Backfill
	// Err, when not nil, is returned by every request.
	Err error
	// Validate decides preset validity; default: geometry must be non-empty
	// and contain only digits, x, %, ^, !, < and >.
	Validate func(adminapi.Preset) adminapi.Validation
	// PreviewImage is returned by Preview; default a 64×48 gradient.
	PreviewImage image.Image
	calls        []string
	// Stream receives what Events hands out: tests send on it.
	Stream chan adminapi.Event
	// Status is forwarded to Events' status channel.
	Status chan client.StreamStatus
}

var _ client.Client = (*Fake)(nil)

// NewFake returns an empty fake with the given jobs and presets.
func NewFake(jobs []adminapi.Job, presets []adminapi.Preset) *Fake {
	f := &Fake{
		jobs:    map[int64]adminapi.Job{},
		presets: adminapi.PresetList{Version: 1, Presets: presets},
		stats:   adminapi.Stats{Counts: map[string]int64{}},
		Stream:  make(chan adminapi.Event, 64),
		Status:  make(chan client.StreamStatus, 8),
	}
	for _, j := range jobs {
		f.jobs[j.ID] = j
	}
	return f
}

// SetStats sets what Stats returns.
func (f *Fake) SetStats(s adminapi.Stats) { f.mu.Lock(); f.stats = s; f.mu.Unlock() }

// SetWebhooks sets what Webhooks returns.
func (f *Fake) SetWebhooks(w adminapi.WebhookDeliveries) { f.mu.Lock(); f.webhooks = w; f.mu.Unlock() }

// SetBackfill sets what Backfill returns (nil: not found).
func (f *Fake) SetBackfill(b *adminapi.Backfill) { f.mu.Lock(); f.backfill = b; f.mu.Unlock() }

// Calls returns the names (with arguments) of the calls made so far.
func (f *Fake) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *Fake) record(format string, args ...any) error {
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
	return f.Err
}

// Jobs implements client.Client.
func (f *Fake) Jobs(_ context.Context, flt client.JobFilter) (adminapi.JobList, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("Jobs(%s,%s,%s)", flt.State, flt.Prefix, flt.Cursor); err != nil {
		return adminapi.JobList{}, err
	}
	var out adminapi.JobList
	for _, j := range f.jobs {
		if (flt.State == "" || j.State == flt.State) && strings.HasPrefix(j.Key, flt.Prefix) {
			j.Errors, j.Variants = nil, nil
			out.Jobs = append(out.Jobs, j)
		}
	}
	sort.Slice(out.Jobs, func(a, b int) bool { return out.Jobs[a].ID > out.Jobs[b].ID })
	// The cursor is the id the next page starts below.
	if flt.Cursor != "" {
		below, err := strconv.ParseInt(flt.Cursor, 10, 64)
		if err != nil {
			return adminapi.JobList{}, &client.APIError{Status: 400, Code: "bad_request", Message: "bad cursor"}
		}
		i := sort.Search(len(out.Jobs), func(i int) bool { return out.Jobs[i].ID < below })
		out.Jobs = out.Jobs[i:]
	}
	if flt.Limit > 0 && len(out.Jobs) > flt.Limit {
		out.Jobs = out.Jobs[:flt.Limit]
		out.Next = strconv.FormatInt(out.Jobs[len(out.Jobs)-1].ID, 10)
	}
	return out, nil
}

// Job implements client.Client.
func (f *Fake) Job(_ context.Context, id int64) (adminapi.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("Job(%d)", id); err != nil {
		return adminapi.Job{}, err
	}
	j, ok := f.jobs[id]
	if !ok {
		return j, &client.APIError{Status: 404, Code: "not_found", Message: "no such job"}
	}
	return j, nil
}

// PutJob adds or replaces a job.
func (f *Fake) PutJob(j adminapi.Job) { f.mu.Lock(); f.jobs[j.ID] = j; f.mu.Unlock() }

func (f *Fake) setState(name string, id int64, state string) (adminapi.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("%s(%d)", name, id); err != nil {
		return adminapi.Job{}, err
	}
	j, ok := f.jobs[id]
	if !ok {
		return j, &client.APIError{Status: 404, Code: "not_found", Message: "no such job"}
	}
	j.State = state
	f.jobs[id] = j
	return j, nil
}

// Webhooks implements client.Client (not in Calls: it rides along with Stats).
func (f *Fake) Webhooks(context.Context) (adminapi.WebhookDeliveries, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.webhooks, f.Err
}

// Retry implements client.Client.
func (f *Fake) Retry(_ context.Context, id int64) (adminapi.Job, error) {
	return f.setState("Retry", id, adminapi.StateQueued)
}

// Cancel implements client.Client.
func (f *Fake) Cancel(_ context.Context, id int64) (adminapi.Job, error) {
	return f.setState("Cancel", id, adminapi.StateCancelled)
}

// Stats implements client.Client.
func (f *Fake) Stats(context.Context) (adminapi.Stats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("Stats"); err != nil {
		return adminapi.Stats{}, err
	}
	return f.stats, nil
}

// Presets implements client.Client.
func (f *Fake) Presets(context.Context) (adminapi.PresetList, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("Presets"); err != nil {
		return adminapi.PresetList{}, err
	}
	return f.copyPresets(), nil
}

func (f *Fake) copyPresets() adminapi.PresetList {
	return adminapi.PresetList{Version: f.presets.Version, Presets: append([]adminapi.Preset(nil), f.presets.Presets...)}
}

func (f *Fake) validate(p adminapi.Preset) adminapi.Validation {
	if f.Validate != nil {
		return f.Validate(p)
	}
	if p.Geometry == "" || strings.Trim(p.Geometry, "0123456789x%^!<>") != "" {
		return adminapi.Validation{Error: fmt.Sprintf("invalid geometry %q", p.Geometry)}
	}
	return adminapi.Validation{Valid: true}
}

// CreatePreset implements client.Client.
func (f *Fake) CreatePreset(_ context.Context, p adminapi.Preset) (adminapi.PresetList, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("CreatePreset(%s,%s)", p.Name, p.Geometry); err != nil {
		return adminapi.PresetList{}, err
	}
	if v := f.validate(p); !v.Valid {
		return adminapi.PresetList{}, &client.APIError{Status: 400, Code: "invalid_preset", Message: v.Error}
	}
	for _, q := range f.presets.Presets {
		if q.Name == p.Name {
			return adminapi.PresetList{}, &client.APIError{Status: 409, Code: "conflict", Message: "preset exists"}
		}
	}
	f.presets.Presets = append(f.presets.Presets, p)
	f.presets.Version++
	return f.copyPresets(), nil
}

// UpdatePreset implements client.Client.
func (f *Fake) UpdatePreset(_ context.Context, name string, p adminapi.Preset) (adminapi.PresetList, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("UpdatePreset(%s,%s)", name, p.Geometry); err != nil {
		return adminapi.PresetList{}, err
	}
	if v := f.validate(p); !v.Valid {
		return adminapi.PresetList{}, &client.APIError{Status: 400, Code: "invalid_preset", Message: v.Error}
	}
	for i, q := range f.presets.Presets {
		if q.Name == name {
			f.presets.Presets[i] = p
			f.presets.Version++
			return f.copyPresets(), nil
		}
	}
	return adminapi.PresetList{}, &client.APIError{Status: 404, Code: "not_found", Message: "no such preset"}
}

// DeletePreset implements client.Client.
func (f *Fake) DeletePreset(_ context.Context, name string, deleteVariants bool) (adminapi.PresetList, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("DeletePreset(%s,%v)", name, deleteVariants); err != nil {
		return adminapi.PresetList{}, err
	}
	for i, q := range f.presets.Presets {
		if q.Name == name {
			f.presets.Presets = append(f.presets.Presets[:i:i], f.presets.Presets[i+1:]...)
			f.presets.Version++
			return f.copyPresets(), nil
		}
	}
	return adminapi.PresetList{}, &client.APIError{Status: 404, Code: "not_found", Message: "no such preset"}
}

// ValidatePreset implements client.Client.
func (f *Fake) ValidatePreset(_ context.Context, p adminapi.Preset) (adminapi.Validation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("ValidatePreset(%s)", p.Geometry); err != nil {
		return adminapi.Validation{}, err
	}
	return f.validate(p), nil
}

// Preview implements client.Client.
func (f *Fake) Preview(_ context.Context, req adminapi.PreviewRequest) (image.Image, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("Preview(%s)", req.Preset.Geometry); err != nil {
		return nil, err
	}
	if f.PreviewImage != nil {
		return f.PreviewImage, nil
	}
	return Gradient(64, 48), nil
}

// Gradient returns a w×h test picture: a colour gradient with a dark frame.
func Gradient(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{uint8(255 * x / max(w-1, 1)), uint8(255 * y / max(h-1, 1)), 160, 255}
			if x == 0 || y == 0 || x == w-1 || y == h-1 {
				c = color.RGBA{20, 20, 20, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// StartBackfill implements client.Client.
func (f *Fake) StartBackfill(_ context.Context, req adminapi.BackfillRequest) (adminapi.Backfill, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("StartBackfill(%s)", strings.Join(req.Presets, ",")); err != nil {
		return adminapi.Backfill{}, err
	}
	id := int64(1)
	if f.backfill != nil {
		id = f.backfill.ID + 1
	}
	presets := req.Presets
	if len(presets) == 0 {
		for _, p := range f.presets.Presets {
			presets = append(presets, p.Name)
		}
	}
	f.backfill = &adminapi.Backfill{ID: id, State: "running", Presets: presets, StartedAt: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
	return *f.backfill, nil
}

// Backfill implements client.Client.
func (f *Fake) Backfill(context.Context) (adminapi.Backfill, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("Backfill"); err != nil {
		return adminapi.Backfill{}, err
	}
	if f.backfill == nil {
		return adminapi.Backfill{}, &client.APIError{Status: 404, Code: "not_found", Message: "no backfill yet"}
	}
	return *f.backfill, nil
}

// CancelBackfill implements client.Client.
func (f *Fake) CancelBackfill(context.Context) (adminapi.Backfill, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("CancelBackfill"); err != nil {
		return adminapi.Backfill{}, err
	}
	if f.backfill == nil {
		return adminapi.Backfill{}, &client.APIError{Status: 404, Code: "not_found", Message: "no backfill yet"}
	}
	f.backfill.State = "cancelled"
	return *f.backfill, nil
}

// Events implements client.Client: it forwards f.Stream and f.Status until ctx ends.
func (f *Fake) Events(ctx context.Context, lastEventID int64) (<-chan adminapi.Event, <-chan client.StreamStatus) {
	f.mu.Lock()
	f.calls = append(f.calls, fmt.Sprintf("Events(%d)", lastEventID))
	f.mu.Unlock()
	events := make(chan adminapi.Event)
	status := make(chan client.StreamStatus)
	go func() {
		defer close(events)
		defer close(status)
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-f.Stream:
				select {
				case events <- ev:
				case <-ctx.Done():
					return
				}
			case st := <-f.Status:
				select {
				case status <- st:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return events, status
}
