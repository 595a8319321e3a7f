package s3

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/imgate/imgate/gateway/storage"
)

// PresignPut returns a URL that lets anyone holding it PUT bucket/key until
// expiry passes (1 s to 7 days). A presigned PUT cannot limit the size;
// use PresignPost for that.
func (s *Store) PresignPut(ctx context.Context, bucket, key string, expiry time.Duration) (string, error) {
	if err := validate("presign put", bucket, key); err != nil {
		return "", err
	}
	u, err := s.client.PresignedPutObject(ctx, bucket, key, expiry)
	if err != nil {
		return "", wrap("presign put", bucket, key, err)
	}
	return u.String(), nil
}

// PresignPost returns the URL and form fields of a browser POST upload the
// server will check against p: the exact key or a key prefix, the content
// type, the size range and the expiry. Several ContentTypes can only be
// expressed as their common prefix (a POST policy has no "one of"), so
// with ["image/png","image/jpeg"] any "image/" type is accepted.
// ExtraFields may hold x-amz-meta-*, Content-Disposition, Content-Encoding
// and success_action_redirect.
func (s *Store) PresignPost(ctx context.Context, p storage.PostPolicy) (string, map[string]string, error) {
	pol, err := postPolicy(p)
	if err != nil {
		return "", nil, fmt.Errorf("s3 presign post: %w", err)
	}
	u, fields, err := s.client.PresignedPostPolicy(ctx, pol)
	if err != nil {
		return "", nil, wrap("presign post", p.Bucket, p.Key, err)
	}
	return u.String(), fields, nil
}

// postPolicy translates a storage.PostPolicy into minio-go's.
func postPolicy(p storage.PostPolicy) (*minio.PostPolicy, error) {
	if err := storage.ValidateBucket(p.Bucket); err != nil {
		return nil, err
	}
	if p.Expiry <= 0 {
		return nil, errors.New("expiry must be positive")
	}
	pol := minio.NewPostPolicy()
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	add(pol.SetBucket(p.Bucket))
	add(pol.SetExpires(time.Now().UTC().Add(p.Expiry)))
	switch {
	case p.Key != "" && p.KeyPrefix != "":
		return nil, errors.New("set either Key or KeyPrefix, not both")
	case p.Key != "":
		if err := storage.ValidateKey(p.Key); err != nil {
			return nil, err
		}
		add(pol.SetKey(p.Key))
	default:
		add(pol.SetKeyStartsWith(p.KeyPrefix))
	}
	switch {
	case p.ContentType != "":
		add(pol.SetContentType(p.ContentType))
	case len(p.ContentTypes) == 1:
		add(pol.SetContentType(p.ContentTypes[0]))
	case len(p.ContentTypes) > 1:
		add(pol.SetContentTypeStartsWith(commonPrefix(p.ContentTypes)))
	}
	if p.MaxBytes > 0 {
		add(pol.SetContentLengthRange(max(p.MinBytes, 0), p.MaxBytes))
	}
	if p.SuccessCode != 0 {
		add(pol.SetSuccessStatusAction(strconv.Itoa(p.SuccessCode)))
	}
	for k, v := range p.ExtraFields {
		lk := strings.ToLower(k)
		switch {
		case strings.HasPrefix(lk, "x-amz-meta-"):
			add(pol.SetUserMetadata(strings.TrimPrefix(lk, "x-amz-meta-"), v))
		case lk == "content-disposition":
			add(pol.SetContentDisposition(v))
		case lk == "content-encoding":
			add(pol.SetContentEncoding(v))
		case lk == "success_action_redirect":
			add(pol.SetSuccessActionRedirect(v))
		default:
			errs = append(errs, fmt.Errorf("form field %q is not supported", k))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return pol, nil
}

// commonPrefix returns the longest prefix all strings share.
func commonPrefix(ss []string) string {
	p := ss[0]
	for _, s := range ss[1:] {
		for !strings.HasPrefix(s, p) {
			p = p[:len(p)-1]
		}
	}
	return p
}
