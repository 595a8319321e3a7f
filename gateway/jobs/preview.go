package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/resizer"
)

// Preview renders preset p (validated here) from the original key, or from
// the newest original when key is empty, without storing anything. It
// returns the variant and the key it used.
func (s *Service) Preview(ctx context.Context, p resizer.Preset, key string) (resizer.Variant, string, error) {
	if err := p.Validate(); err != nil {
		return resizer.Variant{}, "", err
	}
	p = p.Normalize()
	if key == "" {
		newest, err := s.newestOriginal(ctx)
		if err != nil {
			return resizer.Variant{}, "", err
		}
		key = newest
	} else if err := storage.ValidateKey(key); err != nil {
		return resizer.Variant{}, "", &InvalidError{Msg: err.Error()}
	}
	rc, info, err := s.cfg.Storage.Get(ctx, s.original, key, storage.GetOptions{Length: -1})
	if err != nil {
		return resizer.Variant{}, "", fmt.Errorf("jobs: preview: %w", err)
	}
	defer rc.Close()
	// With its size the resizer refuses an original over its byte limit
	// before reading it, and reads one into a buffer of that size.
	_, variants, err := s.cfg.Resizer.Resize(ctx, &countingReader{r: rc, size: info.Size}, []resizer.Preset{p})
	if err != nil {
		return resizer.Variant{}, "", fmt.Errorf("jobs: preview: %w", err)
	}
	if len(variants) == 0 {
		return resizer.Variant{}, "", errors.New("jobs: preview: resizer returned no variant")
	}
	return variants[0], key, nil
}

// newestOriginal returns the most recently modified original (scanning at
// most 10000 objects).
func (s *Service) newestOriginal(ctx context.Context) (string, error) {
	var (
		best  string
		bestT time.Time
		n     int
	)
	for obj, err := range s.cfg.Storage.List(ctx, s.original, storage.ListOptions{}) {
		if err != nil {
			return "", fmt.Errorf("jobs: list originals: %w", err)
		}
		if best == "" || obj.LastModified.After(bestT) {
			best, bestT = obj.Key, obj.LastModified
		}
		if n++; n >= 10000 {
			break
		}
	}
	if best == "" {
		return "", &InvalidError{Msg: "no original to preview: upload an image first or name a key"}
	}
	return best, nil
}

// PublicReason is the text users may see for an error of this package or
// of the resizer: never internal paths or credentials.
func PublicReason(err error) string { return publicReason(err) }
