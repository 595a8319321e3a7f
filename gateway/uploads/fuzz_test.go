package uploads

import (
	"github.com/imgate/imgate/resizer"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/gateway/storage"
)

// FuzzUploadRequest feeds arbitrary bodies to the /v1/uploads request
// parser and checks that whatever is accepted is safe to sign.
func FuzzUploadRequest(f *testing.F) {
	f.Add(`{"key":"a/b.png","content_types":["image/png"],"max_bytes":100,"expires_in":60,"method":"post"}`)
	f.Add(`{"key_prefix":"u/1/","target":"backend"}`)
	f.Add(`{"key":"../x"}`)
	f.Add(`{"key":"a","key_prefix":"b"}`)
	f.Add(`{"key":"a"} {}`)
	f.Fuzz(func(t *testing.T, body string) {
		r, _ := http.NewRequest(http.MethodPost, "/v1/uploads", strings.NewReader(body))
		var req UploadRequest
		if err := decode(r, &req); err != nil {
			return
		}
		if err := req.validate(); err != nil {
			if _, ok := err.(*apiError); !ok {
				t.Fatalf("validation error %T is not an API error", err)
			}
			return
		}
		if (req.Key == "") == (req.KeyPrefix == "") {
			t.Fatalf("accepted key %q and prefix %q", req.Key, req.KeyPrefix)
		}
		if req.Key != "" && storage.ValidateKey(req.Key) != nil {
			t.Fatalf("accepted invalid key %q", req.Key)
		}
		if req.Method != "put" && req.Method != "post" || req.Target != "gateway" && req.Target != "backend" {
			t.Fatalf("accepted method %q target %q", req.Method, req.Target)
		}
		if req.MaxBytes < 0 || req.ExpiresIn < 0 || time.Duration(req.ExpiresIn)*time.Second > MaxExpiry {
			t.Fatalf("accepted limits %d / %d", req.MaxBytes, req.ExpiresIn)
		}
		for _, ct := range req.ContentTypes {
			if !resizer.Decodable(ct) {
				t.Fatalf("accepted content type %q", ct)
			}
		}
		// What is accepted can be signed.
		s := Signer{BaseURL: "http://127.0.0.1:8080", Region: "us-east-1", AccessKey: "AK", SecretKey: "SK"}
		key := req.Key
		if key == "" {
			key = req.KeyPrefix + "x"
		}
		if _, _, err := s.PresignPut("imgate-original", key, "", time.Now(), time.Minute); err != nil {
			t.Fatalf("presign %q: %v", key, err)
		}
		if _, fields, err := s.PresignPost(PostForm{Bucket: "imgate-original", Key: req.Key, KeyPrefix: req.KeyPrefix, MaxBytes: req.MaxBytes, Expiry: time.Minute}, time.Now()); err != nil || fields["policy"] == "" {
			t.Fatalf("presign post: %v", err)
		}
	})
}
