package jobs

import (
	"context"
	"errors"
	"fmt"

	"github.com/imgate/imgate/gateway/presets"
	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/resizer"
)

// Deleted deletes every preset's variant of an original (after the original
// was deleted), cancels its waiting jobs and forgets its finished ones, so
// re-uploading identical bytes processes them again.
func (s *Service) Deleted(ctx context.Context, bucket, key string) error {
	if bucket != s.original {
		return nil
	}
	if err := storage.ValidateKey(key); err != nil {
		return fmt.Errorf("jobs: deleted: %w", err)
	}
	names, err := s.presets.AllNames(ctx)
	if err != nil {
		return err
	}
	for _, name := range names {
		keys := []string{name + "/" + key}
		for _, f := range resizer.SiblingFormats {
			keys = append(keys, resizer.SiblingKey(name, f, key))
		}
		for _, k := range keys {
			if err := s.cfg.Storage.Delete(ctx, s.resized, k); err != nil && !errors.Is(err, storage.ErrNotFound) {
				return fmt.Errorf("jobs: delete variant %s: %w", k, err)
			}
		}
	}
	if err := s.forgetOriginal(ctx, storage.ObjectInfo{Bucket: bucket, Key: key}); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "variants deleted", "key", key, "presets", len(names))
	return nil
}

// DeletePreset removes a preset; with variants its variants are deleted in
// the background.
func (s *Service) DeletePreset(ctx context.Context, name string, variants bool) (presets.Set, error) {
	set, err := s.presets.Delete(ctx, name)
	if err != nil {
		return set, err
	}
	s.log.InfoContext(ctx, "preset deleted", "preset", name, "version", set.Version, "delete_variants", variants)
	if variants {
		s.background(func(ctx context.Context) {
			if err := s.deletePresetVariants(ctx, name); err != nil {
				s.log.WarnContext(ctx, "delete variants of preset", "preset", name, "err", err)
			}
		})
	}
	return set, nil
}

// deleteRemovedPresets deletes the variants of presets that no longer exist.
func (s *Service) deleteRemovedPresets(ctx context.Context) {
	set, err := s.presets.Current(ctx)
	if err != nil {
		return
	}
	names, err := s.presets.AllNames(ctx)
	if err != nil {
		return
	}
	for _, n := range names {
		if _, ok := set.Get(n); !ok {
			if err := s.deletePresetVariants(ctx, n); err != nil {
				s.log.WarnContext(ctx, "delete variants of removed preset", "preset", n, "err", err)
			}
		}
	}
}

// deletePresetVariants deletes NAME-resized/name/… and its sibling
// directories (name.avif/…, name.webp/…) entirely.
func (s *Service) deletePresetVariants(ctx context.Context, name string) error {
	if err := s.deletePrefix(ctx, name, name+"/"); err != nil {
		return err
	}
	for _, f := range resizer.SiblingFormats {
		if err := s.deletePrefix(ctx, name, resizer.SiblingKey(name, f, "")); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) deletePrefix(ctx context.Context, name, prefix string) error {
	var n int
	for obj, err := range s.cfg.Storage.List(ctx, s.resized, storage.ListOptions{Prefix: prefix}) {
		if errors.Is(err, storage.ErrBucketNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("jobs: list variants of %s: %w", name, err)
		}
		if err := s.cfg.Storage.Delete(ctx, s.resized, obj.Key); err != nil {
			return fmt.Errorf("jobs: delete %s: %w", obj.Key, err)
		}
		n++
	}
	s.log.InfoContext(ctx, "variants of preset deleted", "preset", name, "prefix", prefix, "count", n)
	return nil
}
