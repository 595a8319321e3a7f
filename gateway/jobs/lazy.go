package jobs

import (
	"context"
	"errors"
	"fmt"
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

func (s *Service) renderOne(ctx context.Context, set presets.Set, sp presets.Stored, key string) error {
	rc, info, err := s.cfg.Storage.Get(ctx, s.original, key, storage.GetOptions{Length: -1})
	if err != nil {
		return fmt.Errorf("jobs: lazy: read original: %w", err)
	}
	defer rc.Close()
	if limit := s.cfg.Resizer.Limits().MaxBytes; info.Size > limit {
		return fmt.Errorf("jobs: lazy: original of %d bytes over the limit %d", info.Size, limit)
	}
	start := time.Now()
	_, variants, err := s.cfg.Resizer.Resize(ctx, rc, []resizer.Preset{sp.Preset})
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
