package s3api

import (
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"strings"

	"github.com/imgate/imgate/gateway/storage"
)

type commonPrefix struct {
	Prefix string `xml:"Prefix"`
}

type objectXML struct {
	Key          string `xml:"Key"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
	Owner        *owner `xml:"Owner,omitempty"`
	StorageClass string `xml:"StorageClass"`
}

type listObjectsResult struct {
	XMLName               xml.Name       `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name                  string         `xml:"Name"`
	Prefix                string         `xml:"Prefix"`
	Marker                *string        `xml:"Marker,omitempty"`
	NextMarker            string         `xml:"NextMarker,omitempty"`
	StartAfter            string         `xml:"StartAfter,omitempty"`
	ContinuationToken     string         `xml:"ContinuationToken,omitempty"`
	NextContinuationToken string         `xml:"NextContinuationToken,omitempty"`
	KeyCount              *int           `xml:"KeyCount,omitempty"`
	MaxKeys               int            `xml:"MaxKeys"`
	Delimiter             string         `xml:"Delimiter,omitempty"`
	EncodingType          string         `xml:"EncodingType,omitempty"`
	IsTruncated           bool           `xml:"IsTruncated"`
	Contents              []objectXML    `xml:"Contents"`
	CommonPrefixes        []commonPrefix `xml:"CommonPrefixes"`
}

// listPage is one page of a listing, before encoding.
type listPage struct {
	objects   []storage.ObjectInfo
	prefixes  []string
	truncated bool
	last      string // the last key or common prefix returned (the next marker)
}

// listPage walks the bucket in key order from after marker, grouping keys
// by delimiter into common prefixes, until maxKeys entries are collected.
// A key belongs to the group of its common prefix (or itself); groups at or
// before marker are skipped, so a marker that is a common prefix resumes
// after all of its keys.
func (h *handler) listPage(r *http.Request, bucket, prefix, delim, marker string, maxKeys int) (listPage, error) {
	var p listPage
	startAfter := marker
	if startAfter < prefix {
		startAfter = ""
	}
	seen := ""
	for obj, err := range h.cfg.Storage.List(r.Context(), bucket, storage.ListOptions{Prefix: prefix, StartAfter: startAfter}) {
		if err != nil {
			return p, err
		}
		if !strings.HasPrefix(obj.Key, prefix) {
			continue
		}
		group, isPrefix := obj.Key, false
		if delim != "" {
			if i := strings.Index(obj.Key[len(prefix):], delim); i >= 0 {
				group, isPrefix = obj.Key[:len(prefix)+i+len(delim)], true
			}
		}
		if marker != "" && group <= marker {
			continue
		}
		if isPrefix && group == seen {
			continue
		}
		if len(p.objects)+len(p.prefixes) >= maxKeys {
			p.truncated = true
			break
		}
		if isPrefix {
			p.prefixes = append(p.prefixes, group)
			seen = group
		} else {
			p.objects = append(p.objects, obj)
		}
		p.last = group
	}
	return p, nil
}

func (h *handler) listObjects(w http.ResponseWriter, r *http.Request, bucket string, v2 bool) {
	q := r.URL.Query()
	// The list prefix is what a prefix-limited identity is checked against.
	if _, ok := h.prepareList(w, r, actListBucket, bucket, q.Get("prefix")); !ok {
		return
	}
	maxKeys, err := intParam(q.Get("max-keys"), 1000, 0, 1000)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	prefix, delim := q.Get("prefix"), q.Get("delimiter")
	enc := urlEncoder(q.Get("encoding-type"))
	if et := q.Get("encoding-type"); et != "" && enc == nil {
		h.writeError(w, r, errInvalidArgument("Invalid Encoding Method specified in Request"))
		return
	}
	res := listObjectsResult{Name: bucket, MaxKeys: maxKeys}
	var marker string
	if v2 {
		token := q.Get("continuation-token")
		startAfter := q.Get("start-after")
		marker = startAfter
		if q.Has("continuation-token") {
			m, err := base64.RawURLEncoding.DecodeString(token)
			if err != nil || token == "" {
				h.writeError(w, r, errInvalidArgument("The continuation token provided is incorrect."))
				return
			}
			marker = string(m)
			res.ContinuationToken = token
		}
		res.StartAfter = enc.apply(startAfter)
	} else {
		marker = q.Get("marker")
		m := enc.apply(marker)
		res.Marker = &m
	}
	page := listPage{}
	if maxKeys > 0 {
		page, err = h.listPage(r, bucket, prefix, delim, marker, maxKeys)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
	}
	res.IsTruncated = page.truncated
	for _, o := range page.objects {
		ox := objectXML{
			Key: enc.apply(o.Key), LastModified: s3Time(o.LastModified), ETag: quoteETag(o.ETag),
			Size: o.Size, StorageClass: "STANDARD",
		}
		if !v2 || q.Get("fetch-owner") == "true" {
			ox.Owner = &imgateOwner
		}
		res.Contents = append(res.Contents, ox)
	}
	for _, p := range page.prefixes {
		res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix{Prefix: enc.apply(p)})
	}
	if page.truncated {
		if v2 {
			res.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(page.last))
		} else {
			res.NextMarker = enc.apply(page.last)
		}
	}
	if v2 {
		n := len(res.Contents) + len(res.CommonPrefixes)
		res.KeyCount = &n
	}
	res.Prefix, res.Delimiter = enc.apply(prefix), enc.apply(delim)
	if enc != nil {
		res.EncodingType = "url"
	}
	writeXML(w, http.StatusOK, res)
}

// encoder URL-encodes listing strings when the client asked for
// encoding-type=url. A nil encoder leaves strings as they are.
type encoder struct{}

func urlEncoder(encodingType string) *encoder {
	if strings.EqualFold(encodingType, "url") {
		return &encoder{}
	}
	return nil
}

// apply percent-encodes everything but RFC 3986 unreserved characters and
// '/', so both unquote and unquote_plus style decoders restore the key.
func (e *encoder) apply(s string) string {
	if e == nil || s == "" {
		return s
	}
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' || c == '/' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexd[c>>4])
		b.WriteByte(hexd[c&15])
	}
	return b.String()
}

type tagSet struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ Tagging"`
	TagSet  struct{} `xml:"TagSet"`
}

func (h *handler) getObjectTagging(w http.ResponseWriter, r *http.Request, bucket, key string) {
	if _, ok := h.prepareRead(w, r, actGetObject, bucket, key); !ok {
		return
	}
	if _, err := h.cfg.Storage.Stat(r.Context(), bucket, key); err != nil {
		h.writeError(w, r, err)
		return
	}
	writeXML(w, http.StatusOK, tagSet{})
}
