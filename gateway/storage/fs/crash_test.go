package fs_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/gateway/storage/fs"
)

const (
	crashDirEnv = "IMGATE_FS_CRASH_DIR"
	crashBucket = "crash"
	crashSize   = 256 << 20 // declared size of the interrupted writes
	crashAfter  = 8 << 20   // bytes written before the child says it is mid-write
)

// slowBody yields crashAfter bytes, reports on ready, then trickles bytes
// and never ends: the writer is always mid-stream when it is killed.
type slowBody struct {
	n     int
	ready func()
	once  sync.Once
}

func (b *slowBody) Read(p []byte) (int, error) {
	if b.n >= crashAfter {
		b.once.Do(b.ready)
		time.Sleep(10 * time.Millisecond)
		p = p[:min(len(p), 512)]
	}
	for i := range p {
		p[i] = byte(b.n + i)
	}
	b.n += len(p)
	return len(p), nil
}

// TestMain runs the crash writer instead of the tests when the test binary is
// re-executed as TestKill9DuringWrite's child (so no test shows as skipped).
func TestMain(m *testing.M) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		crashWriterChild(dir)
	}
	os.Exit(m.Run())
}

// crashWriterChild is the child process of TestKill9DuringWrite: it
// streams two large objects into the store and is killed mid-write.
func crashWriterChild(dir string) {
	s, err := fs.New(dir)
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	var wg sync.WaitGroup
	for _, key := range []string{"big/existing", "big/fresh"} {
		wg.Go(func() {
			body := &slowBody{ready: func() { fmt.Println("WRITING", key) }}
			_, err := s.Put(context.Background(), crashBucket, key, body, crashSize, storage.PutOptions{ContentType: "image/jpeg"})
			fmt.Println("ERROR put returned", err)
		})
	}
	wg.Wait()
	os.Exit(1)
}

// TestKill9DuringWrite kills (SIGKILL) a process in the middle of two large
// writes, one replacing an object and one creating a new one, then checks
// that the store shows the previous complete version and no new object, and
// that reopening it removes the partial temporary files.
func TestKill9DuringWrite(t *testing.T) {
	dir := t.TempDir()
	s, err := fs.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := t.Context()
	if err := s.EnsureBucket(c, crashBucket); err != nil {
		t.Fatal(err)
	}
	v1 := bytes.Repeat([]byte("complete version one\n"), 50000)
	if _, err := s.Put(c, crashBucket, "big/existing", bytes.NewReader(v1), int64(len(v1)), storage.PutOptions{ContentType: "text/plain"}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	sc := bufio.NewScanner(out)
	writing := 0
	for writing < 2 && sc.Scan() {
		line := sc.Text()
		t.Logf("child: %s", line)
		if strings.HasPrefix(line, "WRITING ") {
			writing++
		} else if strings.HasPrefix(line, "ERROR") {
			t.Fatalf("child failed: %s", line)
		}
	}
	if writing < 2 {
		t.Fatalf("child ended before writing: %v", sc.Err())
	}
	// Both writes are in flight: their temporary files hold at least crashAfter bytes.
	partial := tempFiles(t, dir)
	if len(partial) != 2 {
		t.Fatalf("expected 2 temporary files mid-write, found %v", partial)
	}
	for name, size := range partial {
		if size < crashAfter {
			t.Fatalf("temporary file %s has %d bytes, want >= %d", name, size, crashAfter)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed = true
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die of SIGKILL: %v", err)
	}
	io.Copy(io.Discard, out)

	s2, err := fs.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	st, err := s2.Stat(c, crashBucket, "big/existing")
	sum := md5.Sum(v1)
	if err != nil || st.Size != int64(len(v1)) || st.ETag != hex.EncodeToString(sum[:]) || st.ContentType != "text/plain" {
		t.Errorf("after the crash big/existing = %+v, %v; want the complete first version", st, err)
	}
	rc, _, err := s2.Get(c, crashBucket, "big/existing", storage.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, v1) {
		t.Errorf("after the crash big/existing reads %d bytes, not the first version", len(got))
	}
	if _, err := s2.Stat(c, crashBucket, "big/fresh"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("after the crash big/fresh: %v, want ErrNotFound", err)
	}
	var keys []string
	for info, err := range s2.List(c, crashBucket, storage.ListOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, fmt.Sprintf("%s:%d", info.Key, info.Size))
	}
	if want := fmt.Sprintf("[big/existing:%d]", len(v1)); fmt.Sprint(keys) != want {
		t.Errorf("after the crash List = %v, want %s", keys, want)
	}
	if left := tempFiles(t, dir); len(left) != 0 {
		t.Errorf("reopening left the dead writer's temporary files: %v", left)
	}
}

// tempFiles returns the files under the store's tmp directory and their sizes.
func tempFiles(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dir, "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, e := range ents {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = info.Size()
	}
	return out
}
