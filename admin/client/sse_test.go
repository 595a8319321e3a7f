package client

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestReadSSE(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []SSEMessage
	}{
		{"one event", "id: 1\nevent: job\ndata: {\"a\":1}\n\n",
			[]SSEMessage{{ID: "1", HasID: true, Event: "job", Data: `{"a":1}`}}},
		{"crlf and cr", "id: 2\r\ndata: x\r\n\r\nid: 3\rdata: y\r\r",
			[]SSEMessage{{ID: "2", HasID: true, Event: "message", Data: "x"}, {ID: "3", HasID: true, Event: "message", Data: "y"}}},
		{"multi-line data", "data: a\ndata: b\ndata\n\n",
			[]SSEMessage{{Event: "message", Data: "a\nb\n"}}},
		{"comments and unknown fields", ": ping\nfoo: bar\ndata:no-space\n\n",
			[]SSEMessage{{Event: "message", Data: "no-space"}}},
		{"only one leading space dropped", "data:  two\n\n",
			[]SSEMessage{{Event: "message", Data: " two"}}},
		{"no data is not dispatched", "id: 5\nevent: job\n\n", nil},
		{"unterminated last block dropped", "data: a\n\ndata: b\n",
			[]SSEMessage{{Event: "message", Data: "a"}}},
		{"retry", "retry: 1500\ndata: r\n\n",
			[]SSEMessage{{Event: "message", Data: "r", Retry: 1500 * time.Millisecond}}},
		{"bad retry ignored", "retry: soon\ndata: r\n\n",
			[]SSEMessage{{Event: "message", Data: "r"}}},
		{"id with NUL ignored", "id: a\x00b\ndata: r\n\n",
			[]SSEMessage{{Event: "message", Data: "r"}}},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []SSEMessage
			err := ReadSSE(strings.NewReader(tt.in), func(m SSEMessage) error {
				got = append(got, m)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestReadSSEStopsOnCallbackError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := ReadSSE(strings.NewReader("data: 1\n\ndata: 2\n\n"), func(SSEMessage) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("err=%v n=%d", err, n)
	}
}

func TestReadSSELineTooLong(t *testing.T) {
	in := "data: " + strings.Repeat("a", maxSSELine+10) + "\n\n"
	err := ReadSSE(strings.NewReader(in), func(SSEMessage) error { return nil })
	if err == nil {
		t.Fatal("want an error for an over-long line")
	}
}

func FuzzReadSSE(f *testing.F) {
	for _, s := range []string{"id: 1\nevent: job\ndata: {}\n\n", "data: a\r\ndata: b\r\r\n", ":c\nretry: 5\n\n", "\r", "data"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var msgs []SSEMessage
		err := ReadSSE(strings.NewReader(in), func(m SSEMessage) error { msgs = append(msgs, m); return nil })
		if err != nil && len(in) < maxSSELine {
			t.Fatalf("unexpected error on short input: %v", err)
		}
		for _, m := range msgs {
			if m.Event == "" {
				t.Fatal("dispatched message without event type")
			}
			if strings.ContainsAny(m.ID, "\r\n\x00") || strings.ContainsAny(m.Event, "\r\n") {
				t.Fatalf("line break leaked into a field: %+v", m)
			}
		}
		// Splitting the input into two reads must not change the result.
		if len(in) > 1 {
			var again []SSEMessage
			r := &twoPartReader{a: in[:len(in)/2], b: in[len(in)/2:]}
			_ = ReadSSE(r, func(m SSEMessage) error { again = append(again, m); return nil })
			if !reflect.DeepEqual(msgs, again) {
				t.Fatalf("result depends on read boundaries:\n%+v\n%+v", msgs, again)
			}
		}
	})
}

type twoPartReader struct{ a, b string }

func (r *twoPartReader) Read(p []byte) (int, error) {
	if r.a != "" {
		n := copy(p, r.a)
		r.a = r.a[n:]
		return n, nil
	}
	if r.b != "" {
		n := copy(p, r.b)
		r.b = r.b[n:]
		return n, nil
	}
	return 0, io.EOF
}
