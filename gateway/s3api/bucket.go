package s3api

import (
	"encoding/xml"
	"net/http"
)

// Bucket-level operations: the two served buckets exist from the start and
// carry no configuration of their own.

type bucketXML struct {
	Name         string `xml:"Name"`
	CreationDate string `xml:"CreationDate"`
}

type listBucketsResult struct {
	XMLName xml.Name    `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListAllMyBucketsResult"`
	Owner   owner       `xml:"Owner"`
	Buckets []bucketXML `xml:"Buckets>Bucket"`
}

func (h *handler) listBuckets(w http.ResponseWriter, r *http.Request) {
	c, err := h.authenticate(r, "s3")
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	res := listBucketsResult{Owner: imgateOwner}
	for _, b := range []string{h.original, h.resized} {
		if c.allowed(actGetBucketLocation, b, "") || c.allowed(actListAllMyBuckets, "", "") {
			res.Buckets = append(res.Buckets, bucketXML{Name: b, CreationDate: s3Time(h.created)})
		}
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	writeXML(w, http.StatusOK, res)
}

// Bucket-level reads that reveal no keys (HeadBucket, GetBucketLocation,
// versioning and other configuration) are checked as s3:GetBucketLocation,
// which identities limited to a key prefix are allowed too.

func (h *handler) headBucket(w http.ResponseWriter, r *http.Request, bucket string) {
	if _, ok := h.prepareRead(w, r, actGetBucketLocation, bucket, ""); !ok {
		return
	}
	w.Header().Set("x-amz-bucket-region", h.cfg.Region)
	w.WriteHeader(http.StatusOK)
}

type locationResult struct {
	XMLName  xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ LocationConstraint"`
	Location string   `xml:",chardata"`
}

func (h *handler) getBucketLocation(w http.ResponseWriter, r *http.Request, bucket string) {
	if _, ok := h.prepareRead(w, r, actGetBucketLocation, bucket, ""); !ok {
		return
	}
	loc := h.cfg.Region
	if loc == "us-east-1" {
		loc = "" // S3 answers an empty constraint for us-east-1
	}
	writeXML(w, http.StatusOK, locationResult{Location: loc})
}

type versioningResult struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ VersioningConfiguration"`
}

func (h *handler) getBucketVersioning(w http.ResponseWriter, r *http.Request, bucket string) {
	if _, ok := h.prepareRead(w, r, actGetBucketLocation, bucket, ""); !ok {
		return
	}
	writeXML(w, http.StatusOK, versioningResult{})
}

// bucketSubresourceMissing answers a bucket configuration imgate does not have.
func (h *handler) bucketSubresourceMissing(w http.ResponseWriter, r *http.Request, bucket string, e *Error) {
	if _, ok := h.prepareRead(w, r, actGetBucketLocation, bucket, ""); !ok {
		return
	}
	h.writeError(w, r, e)
}

// createBucket answers CreateBucket: the two buckets exist already (clients
// such as rclone create the bucket before writing), anything else is refused.
func (h *handler) createBucket(w http.ResponseWriter, r *http.Request, bucket string, subresource bool) {
	c, err := h.authenticate(r, "s3")
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if subresource {
		if h.readable(bucket) != nil {
			h.writeError(w, r, errNoSuchBucket)
			return
		}
		h.writeError(w, r, errNotImplemented)
		return
	}
	if h.kind(bucket) == bucketUnknown || !c.allowed(actGetBucketLocation, bucket, "") {
		h.writeError(w, r, errorf("AccessDenied", http.StatusForbidden, "imgate serves only the buckets %s and %s; it does not create buckets.", h.original, h.resized))
		return
	}
	// Drain the (small) CreateBucketConfiguration body, if any, so the
	// signature over it is checked.
	if body, err := c.body(r); err == nil {
		_, _ = drainSmall(body, 64<<10)
		_ = body.Close()
	}
	w.Header().Set("Location", "/"+bucket)
	w.WriteHeader(http.StatusOK)
}
