package auth

import "strings"

// Actions imgate checks (IAM names). Multipart steps (CreateMultipartUpload,
// UploadPart, CompleteMultipartUpload) are s3:PutObject, as in IAM.
const (
	ActionPutObject                  = "s3:PutObject"
	ActionGetObject                  = "s3:GetObject"
	ActionDeleteObject               = "s3:DeleteObject"
	ActionListBucket                 = "s3:ListBucket"
	ActionAbortMultipartUpload       = "s3:AbortMultipartUpload"
	ActionListMultipartUploadParts   = "s3:ListMultipartUploadParts"
	ActionListBucketMultipartUploads = "s3:ListBucketMultipartUploads"
	ActionGetBucketLocation          = "s3:GetBucketLocation"
	ActionListAllMyBuckets           = "s3:ListAllMyBuckets"
)

// listAction reports whether key is a list prefix (not an object key) for action.
func listAction(action string) bool {
	switch strings.ToLower(action) {
	case "s3:listbucket", "s3:listbucketmultipartuploads", "s3:listbucketversions":
		return true
	}
	return false
}

// Allowed reports whether the identity may do action on bucket/key (for
// list actions, key is the list prefix). Identities with a Prefix may touch
// only keys under it (in NAME-resized, keys under "<preset>/" + prefix);
// bucket-level actions without a key (GetBucketLocation, ListAllMyBuckets,
// HeadBucket) reveal no keys and pass the prefix check. Temporary
// credentials must also be allowed by their session policy, evaluated on
// "arn:aws:s3:::bucket/key" (object actions), "arn:aws:s3:::bucket" (bucket
// actions) or either of them (list actions).
func (id *Identity) Allowed(action, bucket, key string) bool {
	if id == nil || action == "" {
		return false
	}
	if id.Root && id.Policy == nil {
		return true
	}
	list := listAction(action)
	if id.Prefix != "" && (key != "" || list) {
		k := key
		if strings.HasSuffix(bucket, "-resized") {
			_, k, _ = strings.Cut(key, "/")
		}
		if !strings.HasPrefix(k, id.Prefix) {
			return false
		}
	}
	if id.Policy == nil {
		return true
	}
	bucketARN := arnPrefix + bucket
	switch {
	case list:
		return id.Policy.Allows(action, bucketARN, bucketARN+"/"+key)
	case key == "":
		return id.Policy.Allows(action, bucketARN)
	default:
		return id.Policy.Allows(action, bucketARN+"/"+key)
	}
}
