package s3

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// script is a source that answers each Read with the next step (a step's
// data longer than the caller's buffer is handed out over several reads,
// its error with the last of them).
type script []struct {
	data string
	err  error
}

func (s *script) Read(p []byte) (int, error) {
	if len(*s) == 0 {
		return 0, io.EOF
	}
	step := &(*s)[0]
	n := copy(p, step.data)
	if n < len(step.data) {
		step.data = step.data[n:]
		return n, nil
	}
	err := step.err
	*s = (*s)[1:]
	return n, err
}

func TestFinalByteReader(t *testing.T) {
	errBad := errors.New("bad digest")
	cases := []struct {
		name    string
		src     script
		size    int64
		want    string // bytes handed out
		wantErr error  // nil: a clean io.EOF
	}{
		{"exact", script{{"hello", nil}}, 5, "hello", nil},
		{"exact with EOF", script{{"hello", io.EOF}}, 5, "hello", nil},
		{"empty", script{}, 0, "", nil},
		{"one byte", script{{"x", nil}}, 1, "x", nil},
		{"error with the last byte", script{{"hello", errBad}}, 5, "hell", errBad},
		{"error after the last byte", script{{"hello", nil}, {"", errBad}}, 5, "hell", errBad},
		{"error on an empty body", script{{"", errBad}}, 0, "", errBad},
		{"short", script{{"hel", nil}}, 5, "hel", io.ErrUnexpectedEOF},
		{"long", script{{"hello!", nil}}, 5, "hell", errLongBody},
		{"long after the last byte", script{{"hello", nil}, {"!", nil}}, 5, "hell", errLongBody},
		{"error midway", script{{"he", errBad}}, 5, "he", errBad},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.src
			r := newFinalByteReader(context.Background(), &src, tc.size)
			var got bytes.Buffer
			buf := make([]byte, 2)
			var err error
			for {
				var n int
				n, err = r.Read(buf)
				got.Write(buf[:n])
				if err != nil {
					break
				}
			}
			if got.String() != tc.want {
				t.Errorf("read %q, want %q", got.String(), tc.want)
			}
			switch {
			case tc.wantErr == nil && err != io.EOF:
				t.Errorf("ended with %v, want io.EOF", err)
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Errorf("ended with %v, want %v", err, tc.wantErr)
			}
			if _, again := r.Read(buf); again != err {
				t.Errorf("error not sticky: %v then %v", err, again)
			}
		})
	}
}

func TestFinalByteReaderWellBehaved(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 1000)
	if err := iotest.TestReader(newFinalByteReader(context.Background(), bytes.NewReader(data), int64(len(data))), data); err != nil {
		t.Error(err)
	}
}

func TestFinalByteReaderCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := newFinalByteReader(ctx, bytes.NewReader([]byte("hello")), 5)
	if n, err := r.Read(make([]byte, 8)); n != 0 || !errors.Is(err, context.Canceled) {
		t.Errorf("Read after cancel = %d, %v", n, err)
	}
}
