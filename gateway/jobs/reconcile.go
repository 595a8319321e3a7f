package jobs

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/riverqueue/river/rivertype"

	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/gateway/presets"
	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/resizer"
)

// stalePresets returns the names (of want) whose variant of obj is missing or
// was rendered from another ETag or an older definition of the preset.
func (s *Service) stalePresets(ctx context.Context, obj storage.ObjectInfo, set presets.Set, want []string) ([]string, error) {
	etag := NormETag(obj.ETag)
	var out []string
	for _, name := range want {
		sp, ok := set.Get(name)
		if !ok {
			continue
		}
		stale, primary, err := s.variantStale(ctx, name+"/"+obj.Key, etag, sp.Since)
		if err != nil {
			return nil, err
		}
		for _, f := range sp.Formats {
			if stale {
				break
			}
			if !resizer.SiblingPossible(primary.Metadata[metaAnimated] == "true", f) {
				continue // e.g. an animation's AVIF: never made
			}
			if stale, _, err = s.variantStale(ctx, resizer.SiblingKey(name, f, obj.Key), etag, sp.Since); err != nil {
				return nil, err
			}
		}
		if stale {
			out = append(out, name)
		}
	}
	return out, nil
}

// variantStale reports whether the variant (or sibling) at key is missing or
// was rendered from another ETag or an older preset definition, with the
// stored variant's info.
func (s *Service) variantStale(ctx context.Context, key, etag string, since int64) (bool, storage.ObjectInfo, error) {
	info, err := s.cfg.Storage.Stat(ctx, s.resized, key)
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrBucketNotFound) {
		return true, info, nil
	}
	if err != nil {
		return false, info, fmt.Errorf("jobs: stat variant %s: %w", key, err)
	}
	v, _ := strconv.ParseInt(info.Metadata[metaPresetVersion], 10, 64)
	return NormETag(info.Metadata[metaSourceETag]) != etag || v < since, info, nil
}

// Reconcile lists NAME-original and enqueues every object whose variants are
// missing or stale. Objects whose job failed for good are left alone (an
// operator retries them); a completed job whose variants have since vanished
// is run again. A job still running writes its variants itself.
func (s *Service) Reconcile(ctx context.Context) (adminapi.ReconcileResult, error) {
	var res adminapi.ReconcileResult
	set, err := s.presets.Current(ctx)
	if err != nil {
		return res, err
	}
	names := set.Names()
	for obj, err := range s.cfg.Storage.List(ctx, s.original, storage.ListOptions{}) {
		if err != nil {
			return res, fmt.Errorf("jobs: reconcile: list originals: %w", err)
		}
		res.Scanned++
		stale, err := s.stalePresets(ctx, obj, set, names)
		if err != nil {
			return res, err
		}
		if len(stale) == 0 {
			continue
		}
		obj.Bucket = s.original
		ins, err := s.enqueue(ctx, obj, "reconcile", nil, 0)
		if err != nil {
			return res, err
		}
		if ins.UniqueSkippedAsDuplicate && ins.Job.State == rivertype.JobStateCompleted {
			if ins, err = s.rerun(ctx, obj, set, names, ins.Job.ID); err != nil {
				return res, err
			}
		}
		if ins != nil && !ins.UniqueSkippedAsDuplicate {
			res.Enqueued++
		}
	}
	return res, nil
}

// rerun runs the completed job id of obj anew if its variants are still
// missing or stale (nil when they are not).
func (s *Service) rerun(ctx context.Context, obj storage.ObjectInfo, set presets.Set, names []string, id int64) (*rivertype.JobInsertResult, error) {
	again, err := s.stalePresets(ctx, obj, set, names)
	if err != nil || len(again) == 0 {
		return nil, err
	}
	if err := s.forget(ctx, id); err != nil {
		return nil, fmt.Errorf("jobs: reconcile: %w", err)
	}
	return s.enqueue(ctx, obj, "reconcile", nil, 0)
}
