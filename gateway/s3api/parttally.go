package s3api

import (
	"context"
	"sync"
	"time"

	"github.com/imgate/imgate/gateway/storage"
)

// tallyTTL is how long a listing of an upload's stored parts is trusted.
// Parts this process stores are added to its tally as they are stored;
// parts stored through another gateway node count once the tally is
// listed again, so within tallyTTL.
const tallyTTL = time.Second

// partTally remembers the sizes of the stored parts of the multipart
// uploads in progress, so that UploadPart can hold a part to what the
// object limit leaves without listing the upload's parts on the backend
// for every part. That listing is a LIST request per part on S3, and MinIO
// reads the metadata of every stored part to answer it: for a 1 GiB upload
// in 8 MiB parts, 128 listings of up to 127 parts, about 0.8 s of MinIO's
// CPU per GiB in bench/upload.sh. With the tally an upload is listed at
// most once per tallyTTL.
//
// The tally is a cache of the backend's state, never the record of it:
// what it forgets (a restart, an idle upload swept after tallyTTL) is
// listed again, and Complete still checks the listed total.
type partTally struct {
	list listParts
	ttl  time.Duration
	now  func() time.Time

	mu      sync.Mutex
	uploads map[string]*tally // by tallyKey
	swept   time.Time
}

// tally is what one upload's parts are known to hold.
type tally struct {
	listed time.Time // when the backend listing behind it started
	parts  map[int]tallyPart
}

type tallyPart struct {
	size int64
	at   time.Time // listed (= tally.listed) or stored by this process
}

// listParts lists the stored parts of an upload (storage.Storage.ListParts).
type listParts func(ctx context.Context, bucket, key, uploadID string) ([]storage.PartInfo, error)

func newPartTally(list listParts, ttl time.Duration, now func() time.Time) *partTally {
	return &partTally{list: list, ttl: ttl, now: now, uploads: map[string]*tally{}}
}

func tallyKey(bucket, key, uploadID string) string {
	return bucket + "\x00" + key + "\x00" + uploadID
}

// others returns the bytes the upload's stored parts other than part n
// hold. It lists the parts when the tally is missing or older than the
// TTL; a listing's error (NoSuchUpload among them) is returned.
func (pt *partTally) others(ctx context.Context, bucket, key, uploadID string, n int) (int64, error) {
	k := tallyKey(bucket, key, uploadID)
	pt.mu.Lock()
	t := pt.uploads[k]
	if t == nil || pt.now().Sub(t.listed) >= pt.ttl {
		pt.mu.Unlock()
		start := pt.now()
		parts, err := pt.list(ctx, bucket, key, uploadID)
		if err != nil {
			return 0, err
		}
		pt.mu.Lock()
		t = pt.replace(k, start, parts)
	}
	var sum int64
	for num, p := range t.parts {
		if num != n {
			sum += p.size
		}
	}
	pt.mu.Unlock()
	return sum, nil
}

// replace installs a listing started at start as k's tally, keeping the
// parts this process stored after start (the listing may have missed
// them). Called with mu held; returns the new tally.
func (pt *partTally) replace(k string, start time.Time, parts []storage.PartInfo) *tally {
	t := &tally{listed: start, parts: make(map[int]tallyPart, len(parts))}
	for _, p := range parts {
		t.parts[p.PartNumber] = tallyPart{size: p.Size, at: start}
	}
	if old := pt.uploads[k]; old != nil {
		if old.listed.After(start) {
			return old // a newer listing got there first
		}
		for num, p := range old.parts {
			if p.at.After(start) {
				t.parts[num] = p
			}
		}
	}
	pt.sweep()
	pt.uploads[k] = t
	return t
}

// stored adds part n of size bytes, just stored by this process, to the
// upload's tally (if there is one: otherwise the next listing has it).
func (pt *partTally) stored(bucket, key, uploadID string, n int, size int64) {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	if t := pt.uploads[tallyKey(bucket, key, uploadID)]; t != nil {
		t.parts[n] = tallyPart{size: size, at: pt.now()}
	}
}

// forget drops the tally of an upload completed or aborted.
func (pt *partTally) forget(bucket, key, uploadID string) {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	delete(pt.uploads, tallyKey(bucket, key, uploadID))
}

// sweep drops, at most once per TTL, the tallies past their TTL: they
// would be listed again before use anyway, and what this process stored
// is on the backend by then. Uploads abandoned without Complete or Abort
// cost nothing after that. Called with mu held.
func (pt *partTally) sweep() {
	now := pt.now()
	if now.Sub(pt.swept) < pt.ttl {
		return
	}
	pt.swept = now
	for k, t := range pt.uploads {
		if now.Sub(t.listed) >= pt.ttl {
			delete(pt.uploads, k)
		}
	}
}
