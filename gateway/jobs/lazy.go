package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/imgate/imgate/gateway/presets"
	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/resizer"
)

// RenderMissing renders the variant of one preset for the original key on
// the spot and stores it (a GET of a variant whose job is still queued, or
// of a preset added without a backfill). Concurrent calls for the same
// preset and key share one render. The siblings follow in the background,
// so the caller waits for the primary only. An unknown preset or a missing
// original is storage.ErrNotFound, found before any work.
func (s *Service) RenderMissing(ctx context.Context, preset, key string) error {
	if storage.ValidateKey(key) != nil {
		return fmt.Errorf("jobs: lazy %s/%s: %w", preset, key, storage.ErrNotFound)
	}
	set, err := s.presets.Current(ctx)
	if err != nil {
		return err
	}
	sp, ok := set.Get(preset)
	if !ok {
		return fmt.Errorf("jobs: lazy: preset %q: %w", preset, storage.ErrNotFound)
	}
	// A job rendering this preset for key right now: wait for it instead.
	if done := s.flights.find(key, preset); done != nil {
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if _, err := s.cfg.Storage.Stat(ctx, s.resized, preset+"/"+key); err == nil {
			return nil
		}
	}
	ch := s.lazy.DoChan(preset+"/"+key, func() (any, error) {
		// Not bound to the first caller: the others wait for the same render.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.JobTimeout)
		defer cancel()
		return nil, s.renderOne(rctx, set, sp, key)
	})
	select {
	case res := <-ch:
		return res.Err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// SiblingFormats returns the sibling formats the current preset named
// preset is configured to have (nil for an unknown preset).
func (s *Service) SiblingFormats(ctx context.Context, preset string) []string {
	set, err := s.presets.Current(ctx)
	if err != nil {
		return nil
	}
	sp, ok := set.Get(preset)
	if !ok {
		return nil
	}
	return sp.Formats
}

func (s *Service) renderOne(ctx context.Context, set presets.Set, sp presets.Stored, key string) error {
	defer s.flights.finish(key, s.flights.start(key, []resizer.Preset{sp.Preset}))
	rc, info, err := s.cfg.Storage.Get(ctx, s.original, key, storage.GetOptions{Length: -1})
	if err != nil {
		return fmt.Errorf("jobs: lazy: read original: %w", err)
	}
	defer rc.Close()
	start := time.Now()
	_, variants, err := s.cfg.Resizer.Resize(ctx, &countingReader{r: rc, size: info.Size}, []resizer.Preset{sp.Preset})
	if err != nil {
		return fmt.Errorf("jobs: lazy: resize: %w", err)
	}
	if len(variants) != 1 {
		return errors.New("jobs: lazy: no variant rendered")
	}
	etag := NormETag(info.ETag)
	if _, err := s.storeVariant(ctx, sp.Name+"/"+key, variants[0], etag, sp.Since, time.Since(start)); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "variant rendered on demand", "preset", sp.Name, "key", key, "ms", time.Since(start).Milliseconds())
	if len(sp.Formats) > 0 {
		s.background(func(ctx context.Context) {
			if _, err := s.storeSiblings(ctx, key, variants, set, etag); err != nil {
				s.log.WarnContext(ctx, "siblings of on-demand variant", "preset", sp.Name, "key", key, "err", err)
			}
		})
	}
	return nil
}

// flights are the renders in progress (jobs and lazy renders), so that a
// lazy GET waits for the job already rendering its variant.
type flights struct {
	mu    sync.Mutex
	calls map[string][]*flight // by original key
}

type flight struct {
	presets []string
	done    chan struct{}
}

func (f *flights) start(key string, list []resizer.Preset) *flight {
	c := &flight{done: make(chan struct{})}
	for _, p := range list {
		c.presets = append(c.presets, p.Name)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string][]*flight{}
	}
	f.calls[key] = append(f.calls[key], c)
	return c
}

func (f *flights) finish(key string, c *flight) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[key] = slices.DeleteFunc(f.calls[key], func(x *flight) bool { return x == c })
	if len(f.calls[key]) == 0 {
		delete(f.calls, key)
	}
	close(c.done)
}

// find returns the done channel of a render of preset for key in progress.
func (f *flights) find(key, preset string) <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.calls[key] {
		if slices.Contains(c.presets, preset) {
			return c.done
		}
	}
	return nil
}

// notYetRendered drops from list the presets whose variant and siblings of
// this original are already stored and current (rendered on demand while
// the job waited in the queue), so the job does not render them again.
func (s *Service) notYetRendered(ctx context.Context, args resizeArgs, set presets.Set, list []resizer.Preset) []resizer.Preset {
	names := make([]string, len(list))
	for i, p := range list {
		names[i] = p.Name
	}
	stale, err := s.stalePresets(ctx, storage.ObjectInfo{Key: args.Key, ETag: args.ETag}, set, names)
	if err != nil {
		return list // render everything rather than guess
	}
	return slices.DeleteFunc(list, func(p resizer.Preset) bool { return !slices.Contains(stale, p.Name) })
}

// warmSiblingEncoders compiles the WebP and AVIF encoders (WebAssembly,
// about 2 s and 7 s of CPU) in the background at start when a preset has
// formats, so that the first job or lazy GET does not pay for it.
func (s *Service) warmSiblingEncoders(ctx context.Context) {
	set, err := s.presets.Current(ctx)
	if err != nil {
		return
	}
	for _, sp := range set.Presets {
		if len(sp.Formats) > 0 {
			go resizer.WarmSiblingEncoders()
			return
		}
	}
}
