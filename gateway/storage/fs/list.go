package fs

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"iter"
	"os"
	"path"
	"slices"
	"strings"
	"syscall"

	"github.com/imgate/imgate/gateway/storage"
)

// List yields the objects of a bucket in lexical byte order of their keys,
// walking one directory at a time in sorted order, so memory stays bounded
// by the largest directory, not the bucket.
func (s *Store) List(ctx context.Context, bucket string, opts storage.ListOptions) iter.Seq2[storage.ObjectInfo, error] {
	return func(yield func(storage.ObjectInfo, error) bool) {
		if err := s.checkBucket(ctx, bucket); err != nil {
			yield(storage.ObjectInfo{}, fmt.Errorf("fs list: %w", err))
			return
		}
		// Start at the deepest directory every matching key lies in.
		dir := path.Join(bucketsDir, bucket)
		keyPrefix := ""
		if i := strings.LastIndexByte(opts.Prefix, '/'); i >= 0 {
			for seg := range strings.SplitSeq(opts.Prefix[:i], "/") {
				if seg == "" || seg == "." || seg == ".." || len(seg) > maxSegment || strings.ContainsRune(seg, 0) {
					return // no valid key has this prefix
				}
				dir += "/d" + seg
			}
			keyPrefix = opts.Prefix[:i+1]
		}
		w := walker{s: s, ctx: ctx, bucket: bucket, opts: opts, yield: yield}
		w.walk(dir, keyPrefix)
	}
}

// walker is one List call's depth-first walk.
type walker struct {
	s      *Store
	ctx    context.Context
	bucket string
	opts   storage.ListOptions
	yield  func(storage.ObjectInfo, error) bool
}

// entry is a directory entry with the part of the key it stands for: the
// segment for an object file, segment+"/" for a directory. Sorting by that
// name sorts whole keys, since every key below directory "x" starts "x/".
type entry struct {
	name  string // file name on disk
	logic string
	dir   bool
}

// walk lists dir, whose keys all start with keyPrefix. It returns false
// once the caller stopped or an error was yielded.
func (w *walker) walk(dir, keyPrefix string) bool {
	if err := w.ctx.Err(); err != nil {
		w.yield(storage.ObjectInfo{}, fmt.Errorf("fs list: %w", err))
		return false
	}
	ents, err := w.readDir(dir)
	if err != nil {
		if errors.Is(err, iofs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return true
		}
		w.yield(storage.ObjectInfo{}, fmt.Errorf("fs list %s: %w", w.bucket, err))
		return false
	}
	for _, e := range ents {
		full := keyPrefix + e.logic
		// Every key at or below this entry starts with full.
		if !strings.HasPrefix(full, w.opts.Prefix) && !strings.HasPrefix(w.opts.Prefix, full) {
			if full > w.opts.Prefix {
				return true // sorted: nothing later can match either
			}
			continue
		}
		if w.opts.StartAfter != "" && w.opts.StartAfter >= full && !(e.dir && strings.HasPrefix(w.opts.StartAfter, full)) {
			continue // all keys here are <= StartAfter
		}
		if e.dir {
			if !w.walk(dir+"/"+e.name, full) {
				return false
			}
			continue
		}
		if !strings.HasPrefix(full, w.opts.Prefix) {
			continue
		}
		info, err := w.stat(dir+"/"+e.name, full)
		if errors.Is(err, iofs.ErrNotExist) {
			continue // deleted while we walked
		}
		if err != nil {
			w.yield(storage.ObjectInfo{}, fmt.Errorf("fs list %s/%s: %w", w.bucket, full, err))
			return false
		}
		if !w.yield(info, nil) {
			return false
		}
	}
	return true
}

// readDir returns the object files and key directories of dir in key order.
// Symbolic links and foreign files are skipped.
func (w *walker) readDir(dir string) ([]entry, error) {
	d, err := w.s.root.OpenFile(dir, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_DIRECTORY, 0)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	des, err := d.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	ents := make([]entry, 0, len(des))
	for _, de := range des {
		n := de.Name()
		switch {
		case strings.HasPrefix(n, "f") && de.Type().IsRegular():
			ents = append(ents, entry{name: n, logic: n[1:]})
		case strings.HasPrefix(n, "d") && de.IsDir():
			ents = append(ents, entry{name: n, logic: n[1:] + "/", dir: true})
		}
	}
	slices.SortFunc(ents, func(a, b entry) int { return strings.Compare(a.logic, b.logic) })
	return ents, nil
}

// stat reads one object file's trailer.
func (w *walker) stat(p, key string) (storage.ObjectInfo, error) {
	f, err := w.s.root.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return storage.ObjectInfo{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return storage.ObjectInfo{}, err
	}
	m, err := readTrailer(f, st.Size())
	if err != nil {
		return storage.ObjectInfo{}, err
	}
	return m.info(w.bucket, key), nil
}
