package e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"hash"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/signer"

	"github.com/imgate/imgate/gateway/auth"
	"github.com/imgate/imgate/gateway/uploads"
	"github.com/imgate/imgate/internal/testenv"
)

// Every refusal is answered with the right S3 error code, and nothing is
// stored: after each one the key is looked up through imgate and, on MinIO,
// straight in MinIO.

// s3Error is S3's XML error body.
type s3Error struct {
	Code      string `xml:"Code"`
	Message   string `xml:"Message"`
	RequestID string `xml:"RequestId"`
}

func s3Do(t *testing.T, req *http.Request) (int, s3Error) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e s3Error
	if resp.StatusCode >= 300 {
		if err := xml.Unmarshal(b, &e); err != nil {
			t.Fatalf("%s %s: status %d, body %q is not an S3 error", req.Method, req.URL.Path, resp.StatusCode, b)
		}
		if e.RequestID == "" || resp.Header.Get("x-amz-request-id") != e.RequestID {
			t.Errorf("request id: body %q, header %q", e.RequestID, resp.Header.Get("x-amz-request-id"))
		}
	}
	return resp.StatusCode, e
}

// absent asserts that bucket/key is not stored.
func (s *server) s3Absent(t *testing.T, bucket, key string) {
	t.Helper()
	ctx := context.Background()
	_, err := s.s3Client(t).StatObject(ctx, bucket, key, minio.StatObjectOptions{})
	if minio.ToErrorResponse(err).Code != "NoSuchKey" {
		t.Fatalf("%s/%s after a refusal: stat through imgate = %v, want NoSuchKey", bucket, key, err)
	}
	if d := s.s3MinIODirect(t); d != nil {
		_, err := d.StatObject(ctx, bucket, key, minio.StatObjectOptions{})
		if minio.ToErrorResponse(err).Code != "NoSuchKey" {
			t.Fatalf("%s/%s after a refusal: stat in MinIO = %v, want NoSuchKey", bucket, key, err)
		}
	}
}

// s3SHA256Hasher adapts crypto/sha256 to the hasher minio-go's streaming signer takes.
type s3SHA256Hasher struct{ hash.Hash }

func (s3SHA256Hasher) Close() {}

// s3CorruptAt flips one byte of a stream at offset off.
type s3CorruptAt struct {
	r   io.ReadCloser
	off int64
	n   int64
}

func (c *s3CorruptAt) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.off >= c.n && c.off < c.n+int64(n) {
		p[c.off-c.n] ^= 0xff
	}
	c.n += int64(n)
	return n, err
}

func (c *s3CorruptAt) Close() error { return c.r.Close() }

// streamingPut builds a STREAMING-AWS4-HMAC-SHA256-PAYLOAD PUT signed at reqTime.
func (s *server) s3StreamingPut(t *testing.T, key string, body []byte, secret string, reqTime time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, s.URL+"/"+s.Original()+"/"+key, io.NopCloser(bytes.NewReader(body)))
	if err != nil {
		t.Fatal(err)
	}
	req = signer.StreamingSignV4(req, s.AccessKey, secret, "", "us-east-1", int64(len(body)), reqTime, s3SHA256Hasher{sha256.New()})
	return req
}

func TestS3Refusals(t *testing.T) {
	corpus := testenv.Corpus(t)
	img, err := os.ReadFile(corpus + "/e01_iphone4s_orient6_205x102.jpg")
	if err != nil {
		t.Fatal(err)
	}
	for _, backend := range []string{"fs", "minio"} {
		t.Run(backend, func(t *testing.T) {
			opts := serveOptions{}
			if backend == "minio" {
				opts.MinIO = testenv.StartMinIO(t)
			}
			srv := startServe(t, opts)
			s3TestRefusals(t, srv, img)
		})
	}
}

func s3TestRefusals(t *testing.T, srv *server, img []byte) {
	ctx := context.Background()
	o := srv.Original()
	big := append(append([]byte{}, img...), make([]byte, 3<<20)...) // 3 MiB+: several 64 KiB chunks

	t.Run("wrong secret", func(t *testing.T) {
		c := srv.s3ClientWith(t, credentials.NewStaticV4(srv.AccessKey, "not-the-secret-key", ""))
		_, err := c.PutObject(ctx, o, "refused/wrong-secret.jpg", bytes.NewReader(img), int64(len(img)), minio.PutObjectOptions{})
		if code := minio.ToErrorResponse(err).Code; code != "SignatureDoesNotMatch" {
			t.Fatalf("got %q (%v), want SignatureDoesNotMatch", code, err)
		}
		srv.s3Absent(t, o, "refused/wrong-secret.jpg")
	})

	t.Run("tampered presigned URL", func(t *testing.T) {
		u, err := srv.s3Client(t).PresignedPutObject(ctx, o, "refused/presigned-a.jpg", 5*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		bad := strings.Replace(u.String(), "presigned-a.jpg", "presigned-b.jpg", 1)
		req, _ := http.NewRequest(http.MethodPut, bad, bytes.NewReader(img))
		if status, e := s3Do(t, req); status != 403 || e.Code != "SignatureDoesNotMatch" {
			t.Fatalf("got %d %s, want 403 SignatureDoesNotMatch", status, e.Code)
		}
		// Tampering with the expiry breaks the signature as well.
		bad = strings.Replace(u.String(), "X-Amz-Expires=300", "X-Amz-Expires=600", 1)
		req, _ = http.NewRequest(http.MethodPut, bad, bytes.NewReader(img))
		if status, e := s3Do(t, req); status != 403 || e.Code != "SignatureDoesNotMatch" {
			t.Fatalf("expiry tampered: got %d %s, want 403 SignatureDoesNotMatch", status, e.Code)
		}
		srv.s3Absent(t, o, "refused/presigned-b.jpg")
		srv.s3Absent(t, o, "refused/presigned-a.jpg")
	})

	t.Run("expired presigned URL", func(t *testing.T) {
		// Signed ten minutes ago for one minute.
		sg := uploads.Signer{BaseURL: srv.URL, Region: "us-east-1", AccessKey: srv.AccessKey, SecretKey: srv.SecretKey}
		u, _, err := sg.PresignPut(o, "refused/expired.jpg", "", time.Now().Add(-10*time.Minute), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPut, u, bytes.NewReader(img))
		if status, e := s3Do(t, req); status != 403 || e.Code != "AccessDenied" || !strings.Contains(e.Message, "expired") {
			t.Fatalf("got %d %s %q, want 403 AccessDenied (expired)", status, e.Code, e.Message)
		}
		srv.s3Absent(t, o, "refused/expired.jpg")
	})

	t.Run("20 min clock skew", func(t *testing.T) {
		req := srv.s3StreamingPut(t, "refused/skewed.jpg", img, srv.SecretKey, time.Now().UTC().Add(-20*time.Minute))
		if status, e := s3Do(t, req); status != 403 || e.Code != "RequestTimeTooSkewed" {
			t.Fatalf("got %d %s, want 403 RequestTimeTooSkewed", status, e.Code)
		}
		srv.s3Absent(t, o, "refused/skewed.jpg")
	})

	t.Run("chunk with a bad signature", func(t *testing.T) {
		// Control: the same signer, uncorrupted, is accepted.
		req := srv.s3StreamingPut(t, "refused/chunk-ok.jpg", big, srv.SecretKey, time.Now().UTC())
		if status, e := s3Do(t, req); status != 200 {
			t.Fatalf("uncorrupted streaming upload: %d %s", status, e.Code)
		}
		// Flip one payload byte of the second chunk (after 64 KiB + framing).
		req = srv.s3StreamingPut(t, "refused/chunk-bad.jpg", big, srv.SecretKey, time.Now().UTC())
		req.Body = &s3CorruptAt{r: req.Body, off: 64<<10 + 300}
		if status, e := s3Do(t, req); status != 403 || e.Code != "SignatureDoesNotMatch" {
			t.Fatalf("got %d %s, want 403 SignatureDoesNotMatch", status, e.Code)
		}
		srv.s3Absent(t, o, "refused/chunk-bad.jpg")
	})

	postPolicy := func(t *testing.T, key string, startsWith bool, maxBytes int64) (string, map[string]string) {
		p := minio.NewPostPolicy()
		_ = p.SetBucket(o)
		if startsWith {
			_ = p.SetKeyStartsWith("forms/")
		} else {
			_ = p.SetKey(key)
		}
		_ = p.SetExpires(time.Now().UTC().Add(5 * time.Minute))
		_ = p.SetContentLengthRange(1, maxBytes)
		u, fields, err := srv.s3Client(t).PresignedPostPolicy(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		fields["key"] = key
		return u.String(), fields
	}

	t.Run("POST above content-length-range", func(t *testing.T) {
		u, fields := postPolicy(t, "forms/too-big.jpg", false, int64(len(img))-1)
		status, body := s3PostForm(t, u, fields, "too-big.jpg", img)
		var e s3Error
		_ = xml.Unmarshal([]byte(body), &e)
		if status != 400 || e.Code != "EntityTooLarge" {
			t.Fatalf("got %d %s, want 400 EntityTooLarge", status, body)
		}
		srv.s3Absent(t, o, "forms/too-big.jpg")
		// Control: within the range it is stored.
		u, fields = postPolicy(t, "forms/fits.jpg", false, int64(len(img)))
		if status, body := s3PostForm(t, u, fields, "fits.jpg", img); status != 204 {
			t.Fatalf("POST within range: %d %s", status, body)
		}
	})

	t.Run("POST key outside starts-with", func(t *testing.T) {
		u, fields := postPolicy(t, "elsewhere/x.jpg", true, 1<<20)
		status, body := s3PostForm(t, u, fields, "x.jpg", img)
		var e s3Error
		_ = xml.Unmarshal([]byte(body), &e)
		if status != 403 || e.Code != "AccessDenied" {
			t.Fatalf("got %d %s, want 403 AccessDenied", status, body)
		}
		srv.s3Absent(t, o, "elsewhere/x.jpg")
	})

	t.Run("temporary credentials outside their prefix", func(t *testing.T) {
		policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject"],"Resource":["arn:aws:s3:::` + o + `/users/alice/*"]}]}`
		creds, err := credentials.NewSTSAssumeRole(srv.URL, credentials.STSAssumeRoleOptions{
			AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Location: "us-east-1", DurationSeconds: 900, Policy: policy,
		})
		if err != nil {
			t.Fatal(err)
		}
		c := srv.s3ClientWith(t, creds)
		if _, err := c.PutObject(ctx, o, "users/alice/ok.jpg", bytes.NewReader(img), int64(len(img)), minio.PutObjectOptions{}); err != nil {
			t.Fatalf("inside the policy: %v", err)
		}
		_, err = c.PutObject(ctx, o, "users/bob/x.jpg", bytes.NewReader(img), int64(len(img)), minio.PutObjectOptions{})
		if code := minio.ToErrorResponse(err).Code; code != "AccessDenied" {
			t.Fatalf("got %q (%v), want AccessDenied", code, err)
		}
		srv.s3Absent(t, o, "users/bob/x.jpg")

		// The same through /v1/credentials (prefix-limited).
		var cr uploads.CredentialsResponse
		s3APIPost(t, srv, "/v1/credentials", map[string]any{"prefix": "tenant/7/", "duration_seconds": 900}, &cr)
		c = srv.s3ClientWith(t, credentials.NewStaticV4(cr.AccessKeyID, cr.SecretAccessKey, cr.SessionToken))
		_, err = c.PutObject(ctx, o, "tenant/8/x.jpg", bytes.NewReader(img), int64(len(img)), minio.PutObjectOptions{})
		if code := minio.ToErrorResponse(err).Code; code != "AccessDenied" {
			t.Fatalf("/v1/credentials outside prefix: got %q (%v), want AccessDenied", code, err)
		}
		srv.s3Absent(t, o, "tenant/8/x.jpg")
	})

	t.Run("expired temporary credentials", func(t *testing.T) {
		// Credentials minted two hours ago with the server's token secret
		// (what a client holding them since then would present).
		past := func() time.Time { return time.Now().Add(-2 * time.Hour) }
		st, err := auth.NewStore(auth.Config{RootAccessKey: srv.AccessKey, RootSecretKey: srv.SecretKey, TokenSecret: []byte(srv.TokenSecret), Now: past})
		if err != nil {
			t.Fatal(err)
		}
		tc, err := st.Mint(ctx, &auth.Identity{AccessKey: srv.AccessKey, Root: true}, "", "", auth.MinDuration)
		if err != nil {
			t.Fatal(err)
		}
		c := srv.s3ClientWith(t, credentials.NewStaticV4(tc.AccessKeyID, tc.SecretAccessKey, tc.SessionToken))
		_, err = c.PutObject(ctx, o, "refused/expired-creds.jpg", bytes.NewReader(img), int64(len(img)), minio.PutObjectOptions{})
		if code := minio.ToErrorResponse(err).Code; code != "ExpiredToken" {
			t.Fatalf("got %q (%v), want ExpiredToken", code, err)
		}
		srv.s3Absent(t, o, "refused/expired-creds.jpg")
	})

	t.Run("write into resized", func(t *testing.T) {
		_, err := srv.s3Client(t).PutObject(ctx, srv.Resized(), "150x/evil.jpg", bytes.NewReader(img), int64(len(img)), minio.PutObjectOptions{})
		if code := minio.ToErrorResponse(err).Code; code != "AccessDenied" {
			t.Fatalf("got %q (%v), want AccessDenied", code, err)
		}
		srv.s3Absent(t, srv.Resized(), "150x/evil.jpg")
		// Multipart and delete are refused too.
		_, err = srv.s3Client(t).PutObject(ctx, srv.Resized(), "150x/evil-mp.jpg", bytes.NewReader(big), int64(len(big)), minio.PutObjectOptions{PartSize: 5 << 20, ConcurrentStreamParts: false})
		if code := minio.ToErrorResponse(err).Code; code != "AccessDenied" {
			t.Fatalf("multipart: got %q (%v), want AccessDenied", code, err)
		}
		err = srv.s3Client(t).RemoveObject(ctx, srv.Resized(), "150x/anything.jpg", minio.RemoveObjectOptions{})
		if code := minio.ToErrorResponse(err).Code; code != "AccessDenied" {
			t.Fatalf("delete: got %q (%v), want AccessDenied", code, err)
		}
	})

	t.Run("bad Content-MD5", func(t *testing.T) {
		for _, key := range []string{"refused/bad-md5.jpg"} {
			req, _ := http.NewRequest(http.MethodPut, srv.URL+"/"+o+"/"+key, bytes.NewReader(img))
			wrong := md5.Sum([]byte("something else"))
			req.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString(wrong[:]))
			req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
			req = signer.SignV4(*req, srv.AccessKey, srv.SecretKey, "", "us-east-1")
			if status, e := s3Do(t, req); status != 400 || e.Code != "BadDigest" {
				t.Fatalf("got %d %s, want 400 BadDigest", status, e.Code)
			}
			srv.s3Absent(t, o, key)
		}
	})

	t.Run("not an image", func(t *testing.T) {
		html := []byte("<html><body><script>alert(1)</script></body></html>")
		_, err := srv.s3Client(t).PutObject(ctx, o, "refused/page.jpg", bytes.NewReader(html), int64(len(html)), minio.PutObjectOptions{ContentType: "image/jpeg"})
		if code := minio.ToErrorResponse(err).Code; code != "InvalidArgument" {
			t.Fatalf("got %q (%v), want InvalidArgument", code, err)
		}
		srv.s3Absent(t, o, "refused/page.jpg")
	})
}

// apiPost calls a /v1 JSON endpoint with the API key.
func s3APIPost(t *testing.T, srv *server, path string, body, out any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+srv.APIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d %s", path, resp.StatusCode, rb)
	}
	if err := json.Unmarshal(rb, out); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
