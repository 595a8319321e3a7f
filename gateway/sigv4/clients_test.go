package sigv4

// Real S3 clients (aws-cli v2, s3cmd, rclone) sign requests against a small
// S3-shaped test server whose every request goes through Verifier and
// Auth.Body. This checks the verifier against the signing code of the
// clients users actually run, not only against minio-go.

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imgate/imgate/internal/testenv"
)

type fakeS3 struct {
	*httptest.Server
	v       *Verifier
	mu      sync.Mutex
	objects map[string][]byte
	parts   map[string]map[int][]byte
	log     []string // "METHOD path?query -> result"
	modes   map[PayloadMode]int
}

func newFakeS3(t *testing.T) *fakeS3 {
	f := &fakeS3{
		v:       &Verifier{Region: "us-east-1", Lookup: testLookup},
		objects: map[string][]byte{},
		parts:   map[string]map[int][]byte{},
		modes:   map[PayloadMode]int{},
	}
	f.Server = httptest.NewServer(http.HandlerFunc(f.handle))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeS3) record(r *http.Request, result string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, fmt.Sprintf("%s %s?%s -> %s", r.Method, r.URL.Path, r.URL.RawQuery, result))
}

func (f *fakeS3) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := AsError(err)
	f.record(r, e.Code)
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(e.Status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, e.Code, xmlEscape(e.Message))
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func (f *fakeS3) handle(w http.ResponseWriter, r *http.Request) {
	service := "s3"
	if r.Method == "POST" && r.URL.Path == "/" {
		service = "sts"
	}
	a, err := f.v.Verify(r.Context(), r, service)
	if err != nil {
		f.fail(w, r, err)
		return
	}
	body, err := a.Body(r)
	if err != nil {
		f.fail(w, r, err)
		return
	}
	defer body.Close()
	data, err := io.ReadAll(body)
	if err != nil {
		f.fail(w, r, err)
		return
	}
	f.mu.Lock()
	f.modes[a.Payload]++
	f.mu.Unlock()
	q := r.URL.Query()
	path := r.URL.Path
	etag := func(b []byte) string { s := md5.Sum(b); return `"` + hex.EncodeToString(s[:]) + `"` }
	w.Header().Set("Content-Type", "application/xml")
	switch {
	case service == "sts":
		f.record(r, "OK sts "+string(data))
		fmt.Fprint(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>IGTX</AccessKeyId><SecretAccessKey>secret</SecretAccessKey><SessionToken>token</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::000000000000:assumed-role/r/s</Arn><AssumedRoleId>X:s</AssumedRoleId></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleResponse>`)
		return
	case r.Method == "GET" && q.Has("location"):
		f.record(r, "OK")
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></LocationConstraint>`)
		return
	case r.Method == "POST" && q.Has("uploads"):
		f.mu.Lock()
		id := fmt.Sprintf("u%d", len(f.parts)+1)
		f.parts[id] = map[int][]byte{}
		f.mu.Unlock()
		f.record(r, "OK")
		fmt.Fprintf(w, `<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>%s</UploadId></InitiateMultipartUploadResult>`, id)
		return
	case r.Method == "PUT" && q.Has("uploadId"):
		var n int
		fmt.Sscan(q.Get("partNumber"), &n)
		f.mu.Lock()
		f.parts[q.Get("uploadId")][n] = data
		f.mu.Unlock()
		f.record(r, "OK")
		w.Header().Set("ETag", etag(data))
		return
	case r.Method == "POST" && q.Has("uploadId"):
		f.mu.Lock()
		parts := f.parts[q.Get("uploadId")]
		var nums []int
		for n := range parts {
			nums = append(nums, n)
		}
		sort.Ints(nums)
		var all, sums []byte
		for _, n := range nums {
			all = append(all, parts[n]...)
			s := md5.Sum(parts[n])
			sums = append(sums, s[:]...)
		}
		f.objects[path] = all
		f.mu.Unlock()
		f.record(r, "OK")
		s := md5.Sum(sums)
		fmt.Fprintf(w, `<CompleteMultipartUploadResult><Location>x</Location><Bucket>b</Bucket><Key>k</Key><ETag>"%x-%d"</ETag></CompleteMultipartUploadResult>`, s, len(nums))
		return
	case r.Method == "PUT" && r.Header.Get("X-Amz-Copy-Source") != "":
		f.record(r, "OK")
		fmt.Fprintf(w, `<CopyObjectResult><ETag>"x"</ETag><LastModified>%s</LastModified></CopyObjectResult>`, time.Now().UTC().Format(time.RFC3339))
		return
	case r.Method == "PUT":
		f.mu.Lock()
		f.objects[path] = data
		f.mu.Unlock()
		f.record(r, "OK")
		w.Header().Set("ETag", etag(data))
		return
	case r.Method == "HEAD" && strings.Count(path, "/") == 1:
		f.record(r, "OK")
		return
	case r.Method == "GET" && strings.Count(path, "/") == 1:
		f.record(r, "OK")
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix></Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`)
		return
	case r.Method == "GET" || r.Method == "HEAD":
		f.mu.Lock()
		obj, ok := f.objects[path]
		f.mu.Unlock()
		if !ok {
			f.record(r, "NoSuchKey")
			w.WriteHeader(404)
			if r.Method == "GET" {
				fmt.Fprint(w, `<Error><Code>NoSuchKey</Code><Message>no</Message></Error>`)
			}
			return
		}
		f.record(r, "OK")
		w.Header().Set("ETag", etag(obj))
		w.Header().Set("Content-Length", fmt.Sprint(len(obj)))
		w.Header().Set("Last-Modified", time.Now().UTC().Format(http.TimeFormat))
		w.Header().Set("Content-Type", "application/octet-stream")
		if r.Method == "GET" {
			w.Write(obj)
		}
		return
	}
	f.record(r, "unhandled")
	w.WriteHeader(501)
}

func (f *fakeS3) object(path string) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.objects[path]
}

func (f *fakeS3) requireAllVerified(t *testing.T) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, l := range f.log {
		if !strings.Contains(l, "-> OK") && !strings.Contains(l, "-> NoSuchKey") {
			t.Errorf("request not verified: %s", l)
		}
	}
	if t.Failed() {
		t.Logf("requests:\n%s", strings.Join(f.log, "\n"))
	}
}

func runTool(t *testing.T, env []string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("aws-cli run takes about a minute")
	}
	aws := testenv.Tool(t, "/usr/bin/aws")
	f := newFakeS3(t)
	dir := t.TempDir()
	cfg := writeFile(t, dir, "config", []byte("[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n    signature_version = s3v4\n    multipart_threshold = 8MB\n    multipart_chunksize = 8MB\n"))
	env := []string{"AWS_ACCESS_KEY_ID=" + testAK, "AWS_SECRET_ACCESS_KEY=" + testSecret, "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=" + cfg, "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "none"), "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=", "HOME=" + dir}
	ep := []string{"--endpoint-url", f.URL}
	small := payload(100 << 10)
	big := payload(20 << 20)
	smallPath := writeFile(t, dir, "small.bin", small)
	bigPath := writeFile(t, dir, "big.bin", big)

	steps := []struct {
		name string
		args []string
		key  string
		want []byte
	}{
		{"s3 cp small", []string{"s3", "cp", smallPath, "s3://b/dir/small é+.bin"}, "/b/dir/small é+.bin", small},
		{"s3 cp multipart", []string{"s3", "cp", bigPath, "s3://b/big.bin"}, "/b/big.bin", big},
		{"s3api put-object", []string{"s3api", "put-object", "--bucket", "b", "--key", "api.bin", "--body", smallPath}, "/b/api.bin", small},
		{"s3api put-object with md5", []string{"s3api", "put-object", "--bucket", "b", "--key", "md5.bin", "--body", smallPath, "--content-md5", md5b64(small)}, "/b/md5.bin", small},
		{"sts assume-role", []string{"sts", "assume-role", "--role-arn", "arn:aws:iam::000000000000:role/r", "--role-session-name", "session", "--duration-seconds", "900"}, "", nil},
	}
	for _, s := range steps {
		out, err := runTool(t, env, aws, append(ep, s.args...)...)
		if err != nil {
			t.Fatalf("%s: %v\n%s", s.name, err, out)
		}
		if s.key != "" && !bytes.Equal(f.object(s.key), s.want) {
			t.Fatalf("%s: stored %d bytes, want %d identical", s.name, len(f.object(s.key)), len(s.want))
		}
	}
	// aws s3 presign, then a plain HTTP GET of the URL.
	out, err := runTool(t, env, aws, append(ep, "s3", "presign", "s3://b/api.bin", "--expires-in", "300")...)
	if err != nil {
		t.Fatalf("presign: %v\n%s", err, out)
	}
	resp, err := http.Get(strings.TrimSpace(out))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(got, small) {
		t.Fatalf("presigned GET: %d, %d bytes", resp.StatusCode, len(got))
	}
	f.requireAllVerified(t)

	// The wrong secret is refused, and nothing is stored.
	bad := append(append([]string{}, env...), "AWS_SECRET_ACCESS_KEY=wrong-secret")
	out, err = runTool(t, bad, aws, append(ep, "s3api", "put-object", "--bucket", "b", "--key", "bad.bin", "--body", smallPath)...)
	if err == nil || !strings.Contains(out, "SignatureDoesNotMatch") || f.object("/b/bad.bin") != nil {
		t.Fatalf("wrong secret accepted: %v\n%s", err, out)
	}
	t.Logf("payload modes seen: %v", f.modes)
}

func md5b64(b []byte) string {
	s := md5.Sum(b)
	return base64Std(s[:])
}

func TestS3cmd(t *testing.T) {
	s3cmd := testenv.Tool(t, "s3cmd")
	f := newFakeS3(t)
	dir := t.TempDir()
	host := strings.TrimPrefix(f.URL, "http://")
	cfg := writeFile(t, dir, "s3cfg", []byte(fmt.Sprintf("[default]\naccess_key = %s\nsecret_key = %s\nhost_base = %s\nhost_bucket = %s\nuse_https = False\nbucket_location = us-east-1\nsignature_v2 = False\nmultipart_chunk_size_mb = 5\n", testAK, testSecret, host, host)))
	small := payload(100 << 10)
	big := payload(12 << 20)
	for _, s := range []struct {
		name string
		data []byte
		key  string
	}{{"put", small, "s.bin"}, {"multipart put", big, "m.bin"}} {
		p := writeFile(t, dir, s.key, s.data)
		out, err := runTool(t, []string{"HOME=" + dir}, s3cmd, "-c", cfg, "put", p, "s3://b/"+s.key)
		if err != nil {
			t.Fatalf("%s: %v\n%s", s.name, err, out)
		}
		if !bytes.Equal(f.object("/b/"+s.key), s.data) {
			t.Fatalf("%s: stored %d bytes", s.name, len(f.object("/b/"+s.key)))
		}
	}
	out, err := runTool(t, []string{"HOME=" + dir}, s3cmd, "-c", cfg, "get", "--force", "s3://b/s.bin", filepath.Join(dir, "got.bin"))
	if err != nil {
		t.Fatalf("get: %v\n%s", err, out)
	}
	f.requireAllVerified(t)
}

func TestRclone(t *testing.T) {
	rclone := testenv.Tool(t, "rclone")
	f := newFakeS3(t)
	dir := t.TempDir()
	env := []string{"AWS_CA_BUNDLE=", "RCLONE_CONFIG=/dev/null", "RCLONE_CONFIG_T_TYPE=s3", "RCLONE_CONFIG_T_PROVIDER=Minio",
		"RCLONE_CONFIG_T_ACCESS_KEY_ID=" + testAK, "RCLONE_CONFIG_T_SECRET_ACCESS_KEY=" + testSecret,
		"RCLONE_CONFIG_T_ENDPOINT=" + f.URL, "RCLONE_CONFIG_T_REGION=us-east-1", "RCLONE_CONFIG_T_FORCE_PATH_STYLE=true", "HOME=" + dir}
	small := payload(100 << 10)
	big := payload(12 << 20)
	for _, s := range []struct {
		name string
		data []byte
		key  string
		args []string
	}{
		{"copyto", small, "s.bin", nil},
		{"multipart", big, "m.bin", []string{"--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M"}},
	} {
		p := writeFile(t, dir, s.key, s.data)
		args := append([]string{"copyto", p, "T:b/" + s.key}, s.args...)
		out, err := runTool(t, env, rclone, args...)
		if err != nil {
			t.Fatalf("%s: %v\n%s", s.name, err, out)
		}
		if !bytes.Equal(f.object("/b/"+s.key), s.data) {
			t.Fatalf("%s: stored %d bytes", s.name, len(f.object("/b/"+s.key)))
		}
	}
	f.requireAllVerified(t)
}

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func TestMC(t *testing.T) {
	mc := testenv.Tool(t, "mc", filepath.Join(os.Getenv("HOME"), ".cache/imgate-ci/bin/mc"), "/root/.cache/imgate-ci/bin/mc")
	f := newFakeS3(t)
	dir := t.TempDir()
	host := strings.TrimPrefix(f.URL, "http://")
	env := []string{"MC_CONFIG_DIR=" + dir, "MC_HOST_t=http://" + testAK + ":" + testSecret + "@" + host}
	small := payload(100 << 10)
	big := payload(20 << 20) // above mc's 16 MiB multipart threshold
	for _, s := range []struct {
		name string
		data []byte
		key  string
	}{{"cp", small, "s.bin"}, {"multipart cp", big, "m.bin"}} {
		p := writeFile(t, dir, s.key, s.data)
		out, err := runTool(t, env, mc, "--no-color", "cp", p, "t/bkt/"+s.key)
		if err != nil {
			t.Fatalf("%s: %v\n%s", s.name, err, out)
		}
		if !bytes.Equal(f.object("/bkt/"+s.key), s.data) {
			t.Fatalf("%s: stored %d bytes", s.name, len(f.object("/bkt/"+s.key)))
		}
	}
	f.requireAllVerified(t)
	t.Logf("payload modes seen: %v", f.modes)
}
