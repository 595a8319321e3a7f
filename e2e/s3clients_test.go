package e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/imgate/imgate/internal/testenv"
)

// The real S3 clients, each with its default settings plus only endpoint,
// credentials and path-style addressing (as in RECIPES.md), upload through
// `imgate serve` on the fs and the MinIO backend; every upload is read back
// through imgate (and, on MinIO, straight from MinIO) and compared by MD5.

// s3TestFiles are the local files the clients upload.
type s3TestFiles struct {
	small string // a real JPEG from the corpus
	mid   string // 12 MiB: multipart with 5 MiB parts
	big   string // 20 MiB: multipart with aws-cli's 8 MiB parts
}

func s3MakeTestFiles(t *testing.T) s3TestFiles {
	t.Helper()
	corpus := testenv.Corpus(t)
	small := filepath.Join(corpus, "e01_iphone4s_orient6_205x102.jpg")
	head, err := os.ReadFile(small)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mk := func(name string, size int) string {
		b := make([]byte, size)
		_, _ = rand.Read(b)
		copy(b, head) // a real JPEG first, so the content sniffs as image/jpeg
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return s3TestFiles{small: small, mid: mk("mid.jpg", 12<<20+17), big: mk("big.jpg", 20<<20)}
}

func s3FileMD5(t *testing.T, p string) string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func s3ReaderMD5(t *testing.T, r io.Reader) string {
	t.Helper()
	h := md5.New()
	if _, err := io.Copy(h, r); err != nil {
		t.Fatalf("read: %v", err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// s3 returns a minio-go client for imgate with the root keys.
func (s *server) s3Client(t testing.TB) *minio.Client {
	t.Helper()
	return s.s3ClientWith(t, credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""))
}

func (s *server) s3ClientWith(t testing.TB, creds *credentials.Credentials) *minio.Client {
	t.Helper()
	c, err := minio.New(s.Addr, &minio.Options{Creds: creds, Region: "us-east-1", BucketLookup: minio.BucketLookupPath, MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// minioDirect returns a client for the MinIO behind imgate (nil on fs).
func (s *server) s3MinIODirect(t testing.TB) *minio.Client {
	t.Helper()
	m := s.opts.MinIO
	if m == nil {
		return nil
	}
	c, err := minio.New(m.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(m.AccessKey, m.SecretKey, ""), BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkStored asserts that key in NAME-original holds exactly the bytes of
// local (MD5), read through imgate and, on MinIO, straight from MinIO.
func (s *server) s3CheckStored(t *testing.T, key, local string) {
	t.Helper()
	want := s3FileMD5(t, local)
	ctx := context.Background()
	obj, err := s.s3Client(t).GetObject(ctx, s.Original(), key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer obj.Close()
	if got := s3ReaderMD5(t, obj); got != want {
		t.Fatalf("%s through imgate: md5 %s, want %s", key, got, want)
	}
	if d := s.s3MinIODirect(t); d != nil {
		o, err := d.GetObject(ctx, s.Original(), key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatalf("get %s from MinIO: %v", key, err)
		}
		defer o.Close()
		if got := s3ReaderMD5(t, o); got != want {
			t.Fatalf("%s in MinIO: md5 %s, want %s", key, got, want)
		}
	}
}

// etag returns the stored ETag of key (no quotes).
func (s *server) s3ETag(t *testing.T, key string) string {
	t.Helper()
	st, err := s.s3Client(t).StatObject(context.Background(), s.Original(), key, minio.StatObjectOptions{})
	if err != nil {
		t.Fatalf("stat %s: %v", key, err)
	}
	return strings.Trim(st.ETag, `"`)
}

func s3Run(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	// AWS_CA_BUNDLE (set on some machines) makes rclone fail with LoadCustomCABundleError.
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "AWS_CA_BUNDLE=") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestS3Clients(t *testing.T) {
	files := s3MakeTestFiles(t)
	for _, backend := range []string{"fs", "minio"} {
		t.Run(backend, func(t *testing.T) {
			opts := serveOptions{}
			if backend == "minio" {
				opts.MinIO = testenv.StartMinIO(t)
			}
			srv := startServe(t, opts)
			t.Run("aws-cli", func(t *testing.T) { s3TestAWSCLI(t, srv, files) })
			t.Run("s3cmd", func(t *testing.T) { s3TestS3cmd(t, srv, files) })
			t.Run("rclone", func(t *testing.T) { s3TestRclone(t, srv, files) })
			t.Run("minio-go", func(t *testing.T) { s3TestMinioGo(t, srv, files) })
			t.Run("mc", func(t *testing.T) { s3TestMC(t, srv, files) })
		})
	}
}

func s3TestAWSCLI(t *testing.T, srv *server, f s3TestFiles) {
	testenv.Tool(t, "/usr/bin/aws")
	o := srv.Original()
	aws := func(args ...string) string {
		t.Helper()
		out, err := srv.aws(t, args...)
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	aws("s3", "cp", "--no-progress", f.small, "s3://"+o+"/aws/small.jpg")
	srv.s3CheckStored(t, "aws/small.jpg", f.small)

	// A key that needs encoding in the path and in listings (encoding-type=url).
	odd := "aws/odd/sp ace+plus%25 é&=.jpg"
	aws("s3", "cp", "--no-progress", f.small, "s3://"+o+"/"+odd)
	srv.s3CheckStored(t, odd, f.small)
	if ls := aws("s3", "ls", "s3://"+o+"/aws/odd/"); !strings.Contains(ls, "sp ace+plus%25 é&=.jpg") {
		t.Errorf("aws s3 ls does not show the key as uploaded: %q", ls)
	}

	aws("s3", "cp", "--no-progress", f.big, "s3://"+o+"/aws/big.jpg")
	srv.s3CheckStored(t, "aws/big.jpg", f.big)
	if e := srv.s3ETag(t, "aws/big.jpg"); !strings.HasSuffix(e, "-3") {
		t.Errorf("20 MiB in 8 MiB parts: ETag %q, want the -3 multipart suffix", e)
	}
	// Download with aws itself.
	dl := filepath.Join(t.TempDir(), "dl.jpg")
	aws("s3", "cp", "--no-progress", "s3://"+o+"/aws/big.jpg", dl)
	if s3FileMD5(t, dl) != s3FileMD5(t, f.big) {
		t.Error("aws s3 cp download differs")
	}

	out := aws("s3api", "put-object", "--bucket", o, "--key", "aws/api.jpg", "--body", f.small)
	if !strings.Contains(out, s3FileMD5(t, f.small)) {
		t.Errorf("put-object output lacks the ETag: %s", out)
	}
	srv.s3CheckStored(t, "aws/api.jpg", f.small)

	// Presigned GET with plain HTTP.
	u := strings.TrimSpace(aws("s3", "presign", "s3://"+o+"/aws/small.jpg", "--expires-in", "300"))
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("presigned GET: %d", resp.StatusCode)
	}
	if s3ReaderMD5(t, resp.Body) != s3FileMD5(t, f.small) {
		t.Error("presigned GET body differs")
	}

	// STS AssumeRole, then upload with the temporary credentials.
	out = aws("sts", "assume-role", "--role-arn", "arn:aws:iam::000000000000:role/imgate",
		"--role-session-name", "e2e", "--duration-seconds", "900")
	var ar struct {
		Credentials struct{ AccessKeyId, SecretAccessKey, SessionToken, Expiration string }
	}
	if err := json.Unmarshal([]byte(out), &ar); err != nil || ar.Credentials.SessionToken == "" {
		t.Fatalf("assume-role output %q: %v", out, err)
	}
	env := append(srv.awsEnv(t), "AWS_ACCESS_KEY_ID="+ar.Credentials.AccessKeyId,
		"AWS_SECRET_ACCESS_KEY="+ar.Credentials.SecretAccessKey, "AWS_SESSION_TOKEN="+ar.Credentials.SessionToken)
	s3Run(t, env, "/usr/bin/aws", "--endpoint-url", srv.URL, "s3", "cp", "--no-progress", f.small, "s3://"+o+"/aws/sts.jpg")
	srv.s3CheckStored(t, "aws/sts.jpg", f.small)
}

func s3TestS3cmd(t *testing.T, srv *server, f s3TestFiles) {
	bin := testenv.Tool(t, "s3cmd")
	cfg := filepath.Join(t.TempDir(), "s3cfg")
	conf := fmt.Sprintf("[default]\naccess_key = %s\nsecret_key = %s\nhost_base = %s\nhost_bucket = %s\nuse_https = False\nbucket_location = us-east-1\nsignature_v2 = False\nmultipart_chunk_size_mb = 5\n",
		srv.AccessKey, srv.SecretKey, srv.Addr, srv.Addr)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	o := srv.Original()
	s3Run(t, nil, bin, "-c", cfg, "put", f.small, "s3://"+o+"/s3cmd/small.jpg")
	srv.s3CheckStored(t, "s3cmd/small.jpg", f.small)
	s3Run(t, nil, bin, "-c", cfg, "put", f.mid, "s3://"+o+"/s3cmd/mid.jpg")
	srv.s3CheckStored(t, "s3cmd/mid.jpg", f.mid)
	if e := srv.s3ETag(t, "s3cmd/mid.jpg"); !strings.HasSuffix(e, "-3") {
		t.Errorf("12 MiB in 5 MiB parts: ETag %q, want -3", e)
	}
	dl := filepath.Join(t.TempDir(), "dl.jpg")
	s3Run(t, nil, bin, "-c", cfg, "get", "s3://"+o+"/s3cmd/mid.jpg", dl)
	if s3FileMD5(t, dl) != s3FileMD5(t, f.mid) {
		t.Error("s3cmd get differs")
	}
}

func s3TestRclone(t *testing.T, srv *server, f s3TestFiles) {
	bin := testenv.Tool(t, "rclone")
	env := []string{"RCLONE_CONFIG=/dev/null", "RCLONE_CONFIG_T_TYPE=s3", "RCLONE_CONFIG_T_PROVIDER=Minio",
		"RCLONE_CONFIG_T_ACCESS_KEY_ID=" + srv.AccessKey, "RCLONE_CONFIG_T_SECRET_ACCESS_KEY=" + srv.SecretKey,
		"RCLONE_CONFIG_T_ENDPOINT=" + srv.URL, "RCLONE_CONFIG_T_REGION=us-east-1", "RCLONE_CONFIG_T_FORCE_PATH_STYLE=true"}
	o := srv.Original()
	s3Run(t, env, bin, "copyto", f.small, "T:"+o+"/rclone/small.jpg")
	srv.s3CheckStored(t, "rclone/small.jpg", f.small)
	s3Run(t, env, bin, "copyto", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M", f.mid, "T:"+o+"/rclone/mid.jpg")
	srv.s3CheckStored(t, "rclone/mid.jpg", f.mid)
	if e := srv.s3ETag(t, "rclone/mid.jpg"); !strings.Contains(e, "-") {
		t.Errorf("rclone multipart: ETag %q lacks the -N suffix", e)
	}
	dl := filepath.Join(t.TempDir(), "dl.jpg")
	s3Run(t, env, bin, "copyto", "T:"+o+"/rclone/mid.jpg", dl)
	if s3FileMD5(t, dl) != s3FileMD5(t, f.mid) {
		t.Error("rclone download differs")
	}
}

func s3TestMinioGo(t *testing.T, srv *server, f s3TestFiles) {
	ctx := context.Background()
	c := srv.s3Client(t)
	o := srv.Original()

	// PutObject with a known size over HTTP: STREAMING-AWS4-HMAC-SHA256-PAYLOAD.
	fh, err := os.Open(f.small)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := fh.Stat()
	if _, err := c.PutObject(ctx, o, "minio-go/stream.jpg", fh, st.Size(), minio.PutObjectOptions{}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	fh.Close()
	srv.s3CheckStored(t, "minio-go/stream.jpg", f.small)

	// FPutObject in 5 MiB parts.
	info, err := c.FPutObject(ctx, o, "minio-go/fput.jpg", f.mid, minio.PutObjectOptions{PartSize: 5 << 20})
	if err != nil {
		t.Fatalf("FPutObject: %v", err)
	}
	if !strings.HasSuffix(info.ETag, "-3") {
		t.Errorf("FPutObject ETag %q, want -3", info.ETag)
	}
	srv.s3CheckStored(t, "minio-go/fput.jpg", f.mid)

	// PresignedPutObject + plain HTTP PUT.
	u, err := c.PresignedPutObject(ctx, o, "minio-go/presigned.jpg", 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := os.ReadFile(f.small)
	req, _ := http.NewRequest(http.MethodPut, u.String(), bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("presigned PUT: %d", resp.StatusCode)
	}
	srv.s3CheckStored(t, "minio-go/presigned.jpg", f.small)

	// PresignedPostPolicy + a browser-style multipart POST.
	p := minio.NewPostPolicy()
	_ = p.SetBucket(o)
	_ = p.SetKey("minio-go/post.jpg")
	_ = p.SetExpires(time.Now().UTC().Add(5 * time.Minute))
	_ = p.SetContentLengthRange(1, 1<<20)
	_ = p.SetContentType("image/jpeg")
	pu, fields, err := c.PresignedPostPolicy(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	code, text := s3PostForm(t, pu.String(), fields, "post.jpg", body)
	if code != http.StatusNoContent {
		t.Fatalf("POST policy upload: %d %s", code, text)
	}
	srv.s3CheckStored(t, "minio-go/post.jpg", f.small)

	// STS AssumeRole credentials.
	creds, err := credentials.NewSTSAssumeRole(srv.URL, credentials.STSAssumeRoleOptions{
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Location: "us-east-1", DurationSeconds: 900,
	})
	if err != nil {
		t.Fatal(err)
	}
	sc := srv.s3ClientWith(t, creds)
	if _, err := sc.FPutObject(ctx, o, "minio-go/sts.jpg", f.small, minio.PutObjectOptions{}); err != nil {
		t.Fatalf("PutObject with AssumeRole credentials: %v", err)
	}
	srv.s3CheckStored(t, "minio-go/sts.jpg", f.small)
}

// postForm POSTs fields then the file as multipart/form-data.
func s3PostForm(t testing.TB, u string, fields map[string]string, filename string, file []byte) (int, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", filename)
	_, _ = fw.Write(file)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, u, &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(text)
}

func s3TestMC(t *testing.T, srv *server, f s3TestFiles) {
	// The MinIO client: IMGATE_MC_BIN, the CI cache, then PATH (where "mc"
	// may also be Midnight Commander, so it is checked below).
	home, _ := os.UserHomeDir()
	cands := []string{filepath.Join(home, ".cache", "imgate-ci", "bin", "mc"), "mc"}
	if p := os.Getenv("IMGATE_MC_BIN"); p != "" {
		cands = append([]string{p}, cands...)
	}
	bin := testenv.Tool(t, cands...)
	if out, err := exec.Command(bin, "--version").CombinedOutput(); err != nil || !strings.Contains(strings.ToLower(string(out)), "minio") {
		testenv.Missing(t, "%s is not the MinIO client (mc --version: %q)", bin, out)
	}
	env := []string{"MC_CONFIG_DIR=" + t.TempDir(),
		fmt.Sprintf("MC_HOST_imgate=http://%s:%s@%s", srv.AccessKey, srv.SecretKey, srv.Addr)}
	o := srv.Original()
	s3Run(t, env, bin, "cp", f.small, "imgate/"+o+"/mc/small.jpg")
	srv.s3CheckStored(t, "mc/small.jpg", f.small)
	s3Run(t, env, bin, "cp", f.big, "imgate/"+o+"/mc/big.jpg")
	srv.s3CheckStored(t, "mc/big.jpg", f.big)
	dl := filepath.Join(t.TempDir(), "dl.jpg")
	s3Run(t, env, bin, "cp", "imgate/"+o+"/mc/big.jpg", dl)
	if s3FileMD5(t, dl) != s3FileMD5(t, f.big) {
		t.Error("mc download differs")
	}
}

// TestUploadsAPI: an app backend asks /v1/uploads for a presigned PUT URL
// and a POST form (through the gateway, and straight to MinIO), and a
// browser-like client uses them with plain HTTP.
func TestUploadsAPI(t *testing.T) {
	img, err := os.ReadFile(filepath.Join(testenv.Corpus(t), "e01_iphone4s_orient6_205x102.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(t.TempDir(), "img.jpg")
	if err := os.WriteFile(local, img, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, backend := range []string{"fs", "minio"} {
		t.Run(backend, func(t *testing.T) {
			opts := serveOptions{}
			if backend == "minio" {
				opts.MinIO = testenv.StartMinIO(t)
			}
			srv := startServe(t, opts)
			type uploadAnswer struct {
				URL     string            `json:"url"`
				Method  string            `json:"method"`
				Headers map[string]string `json:"headers"`
				Fields  map[string]string `json:"fields"`
				Key     string            `json:"key"`
			}
			var put uploadAnswer
			s3APIPost(t, srv, "/v1/uploads", map[string]any{"key": "app/put.jpg", "content_types": []string{"image/jpeg"}, "expires_in": 300}, &put)
			req, _ := http.NewRequest(put.Method, put.URL, bytes.NewReader(img))
			for k, v := range put.Headers {
				req.Header.Set(k, v)
			}
			if status, e := s3Do(t, req); status != 200 {
				t.Fatalf("PUT to the gateway URL: %d %s", status, e.Code)
			}
			srv.s3CheckStored(t, "app/put.jpg", local)

			var post uploadAnswer
			s3APIPost(t, srv, "/v1/uploads", map[string]any{"key_prefix": "app/forms/", "method": "post", "max_bytes": 1 << 20, "content_types": []string{"image/jpeg"}}, &post)
			if status, body := s3PostForm(t, post.URL, post.Fields, "photo.jpg", img); status != 204 {
				t.Fatalf("POST form to the gateway: %d %s", status, body)
			}
			srv.s3CheckStored(t, "app/forms/photo.jpg", local)

			// Straight to the backend: only with MinIO.
			b, _ := json.Marshal(map[string]any{"key_prefix": "app/direct/", "method": "post", "max_bytes": 1 << 20, "target": "backend"})
			req, _ = http.NewRequest(http.MethodPost, srv.URL+"/v1/uploads", bytes.NewReader(b))
			req.Header.Set("Authorization", "Bearer "+srv.APIKey)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if backend == "fs" {
				if resp.StatusCode != 400 || !strings.Contains(string(raw), "invalid_request") {
					t.Fatalf("backend target on fs: %d %s, want 400", resp.StatusCode, raw)
				}
				return
			}
			if resp.StatusCode != 200 {
				t.Fatalf("backend POST form: %d %s", resp.StatusCode, raw)
			}
			var direct uploadAnswer
			if err := json.Unmarshal(raw, &direct); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(direct.URL, opts.MinIO.URL) {
				t.Fatalf("backend form URL %q is not MinIO's %q", direct.URL, opts.MinIO.URL)
			}
			if status, body := s3PostForm(t, direct.URL, direct.Fields, "direct.jpg", img); status/100 != 2 {
				t.Fatalf("POST form to MinIO: %d %s", status, body)
			}
			srv.s3CheckStored(t, "app/direct/direct.jpg", local)
		})
	}
}
