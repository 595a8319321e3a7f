package fs

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"time"

	"github.com/imgate/imgate/gateway/storage"
)

// An object (or part) file is laid out as
//
//	content | metadata JSON | uint32 big-endian length of the JSON | footerMagic
//
// The trailer is written after the content has been streamed, so the MD5 and
// size are known, and the whole file is renamed into place at once.
const (
	footerMagic  = "IMGATEo1"
	footerSize   = 4 + len(footerMagic)
	maxMetaBytes = 1 << 20
)

// objMeta is the metadata trailer of an object or part file.
type objMeta struct {
	Key          string            `json:"key,omitempty"`
	Size         int64             `json:"size"`
	ETag         string            `json:"etag"`
	ContentType  string            `json:"content_type,omitempty"`
	CacheControl string            `json:"cache_control,omitempty"`
	ModTime      time.Time         `json:"mtime"`
	Metadata     map[string]string `json:"metadata,omitempty"`
}

// errCorrupt marks a file whose trailer cannot be read.
var errCorrupt = errors.New("fs: corrupt object file")

// appendTrailer returns the trailer bytes for m.
func appendTrailer(m *objMeta) ([]byte, error) {
	js, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	if len(js) > maxMetaBytes {
		return nil, fmt.Errorf("fs: metadata is %d bytes, the limit is %d", len(js), maxMetaBytes)
	}
	out := make([]byte, 0, len(js)+footerSize)
	out = append(out, js...)
	out = binary.BigEndian.AppendUint32(out, uint32(len(js)))
	return append(out, footerMagic...), nil
}

// readTrailer reads the metadata of a file of fileSize bytes and checks it
// is consistent with the file's length.
func readTrailer(r io.ReaderAt, fileSize int64) (*objMeta, error) {
	if fileSize < int64(footerSize) {
		return nil, fmt.Errorf("%w: %d bytes", errCorrupt, fileSize)
	}
	var foot [footerSize]byte
	if _, err := r.ReadAt(foot[:], fileSize-int64(footerSize)); err != nil {
		return nil, fmt.Errorf("%w: %w", errCorrupt, err)
	}
	return parseTrailer(foot[:], fileSize, func(off int64, n int) ([]byte, error) {
		buf := make([]byte, n)
		if _, err := r.ReadAt(buf, off); err != nil {
			return nil, err
		}
		return buf, nil
	})
}

// parseTrailer decodes a footer and the JSON it points to (read by readAt).
func parseTrailer(foot []byte, fileSize int64, readAt func(off int64, n int) ([]byte, error)) (*objMeta, error) {
	if len(foot) != footerSize || string(foot[4:]) != footerMagic {
		return nil, fmt.Errorf("%w: bad footer", errCorrupt)
	}
	n := int64(binary.BigEndian.Uint32(foot[:4]))
	if n > maxMetaBytes || n+int64(footerSize) > fileSize {
		return nil, fmt.Errorf("%w: bad metadata length %d", errCorrupt, n)
	}
	js, err := readAt(fileSize-int64(footerSize)-n, int(n))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errCorrupt, err)
	}
	var m objMeta
	if err := json.Unmarshal(js, &m); err != nil {
		return nil, fmt.Errorf("%w: %w", errCorrupt, err)
	}
	if m.Size != fileSize-int64(footerSize)-n {
		return nil, fmt.Errorf("%w: size %d does not match the file", errCorrupt, m.Size)
	}
	return &m, nil
}

// info converts the trailer to the public ObjectInfo.
func (m *objMeta) info(bucket, key string) storage.ObjectInfo {
	var md map[string]string
	if len(m.Metadata) > 0 {
		md = maps.Clone(m.Metadata)
	}
	return storage.ObjectInfo{
		Bucket:       bucket,
		Key:          key,
		Size:         m.Size,
		ETag:         m.ETag,
		ContentType:  m.ContentType,
		CacheControl: m.CacheControl,
		LastModified: m.ModTime,
		Metadata:     md,
	}
}
