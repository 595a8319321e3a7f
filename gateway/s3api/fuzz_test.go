package s3api

import (
	"bytes"
	"mime/multipart"
	"net/url"
	"strings"
	"testing"
)

// Fuzz targets for every parser of untrusted input in this package. Each
// checks invariants, not just "no panic".

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"", "bytes=0-9", "bytes=-5", "bytes=5-", "bytes=9-0", "bytes=0-1,2-3", "bytes= 1 - 2 ", "bytes=-0"} {
		f.Add(s, int64(100))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			size = -size
		}
		if size < 0 {
			return
		}
		off, n, partial, err := parseRange(h, size)
		if err != nil {
			return
		}
		if off < 0 || n < 0 || off+n > size {
			t.Fatalf("range %q over %d: offset %d length %d out of bounds", h, size, off, n)
		}
		if !partial && (off != 0 || n != size) {
			t.Fatalf("non-partial range %q is not the whole object: %d,%d", h, off, n)
		}
		if partial && n == 0 {
			t.Fatalf("partial range %q of zero bytes", h)
		}
	})
}

func FuzzParseCompleteBody(f *testing.F) {
	f.Add([]byte(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"a"</ETag></Part><Part><PartNumber>2</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>`))
	f.Add([]byte(`<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><ETag>x</ETag><PartNumber>3</PartNumber></Part></CompleteMultipartUpload>`))
	f.Add([]byte(`<CompleteMultipartUpload><Part><PartNumber>2</PartNumber></Part><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>`))
	f.Add([]byte(`<x>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		parts, err := parseCompleteBody(bytes.NewReader(b))
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T is not an S3 error", err)
			}
			return
		}
		if len(parts) == 0 || len(parts) > maxParts {
			t.Fatalf("%d parts accepted", len(parts))
		}
		for i, p := range parts {
			if p.PartNumber < 1 || p.PartNumber > maxParts {
				t.Fatalf("part number %d accepted", p.PartNumber)
			}
			if i > 0 && p.PartNumber <= parts[i-1].PartNumber {
				t.Fatal("parts not strictly ascending")
			}
			if strings.HasPrefix(p.ETag, `"`) || strings.HasSuffix(p.ETag, `"`) {
				t.Fatalf("etag %q keeps quotes", p.ETag)
			}
		}
	})
}

func FuzzParseDeleteBody(f *testing.F) {
	f.Add([]byte(`<Delete><Quiet>true</Quiet><Object><Key>a.png</Key></Object></Delete>`))
	f.Add([]byte(`<Delete><Object><Key>a</Key><VersionId>1</VersionId></Object><Object><Key>b</Key></Object></Delete>`))
	f.Add([]byte(`<Delete></Delete>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := parseDeleteBody(bytes.NewReader(b))
		if err != nil {
			return
		}
		if len(req.Objects) == 0 || len(req.Objects) > 1000 {
			t.Fatalf("%d objects accepted", len(req.Objects))
		}
	})
}

func FuzzReadFormFields(f *testing.F) {
	build := func(fields [][2]string, file bool) []byte {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		_ = mw.SetBoundary("BOUNDARY")
		for _, kv := range fields {
			_ = mw.WriteField(kv[0], kv[1])
		}
		if file {
			fw, _ := mw.CreateFormFile("file", "a.png")
			_, _ = fw.Write([]byte("\x89PNG\r\n\x1a\n"))
		}
		_ = mw.Close()
		return b.Bytes()
	}
	f.Add(build([][2]string{{"key", "a/${filename}"}, {"policy", "e30="}, {"X-Amz-Signature", "00"}}, true))
	f.Add(build([][2]string{{"key", "a"}, {"KEY", "b"}}, true))
	f.Add(build(nil, false))
	f.Add([]byte("--BOUNDARY\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nx\r\n--BOUNDARY--\r\n"))
	f.Add([]byte("--BOUNDARY\r\nContent-Disposition: form-data; name=\"File\"\r\n\r\nx\r\n--BOUNDARY--\r\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		fields, file, err := readFormFields(multipart.NewReader(bytes.NewReader(body), "BOUNDARY"))
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T is not an S3 error", err)
			}
			return
		}
		if file == nil || strings.ToLower(file.FormName()) != "file" {
			t.Fatal("no file part returned without an error")
		}
		total := 0
		for k, v := range fields {
			if k != strings.ToLower(k) {
				t.Fatalf("field name %q not lower-cased", k)
			}
			if len(v) > maxFormFieldBytes {
				t.Fatalf("field %q of %d bytes accepted", k, len(v))
			}
			total += len(k) + len(v)
		}
		if total > maxFormFieldsSize || len(fields) > maxFormFields {
			t.Fatalf("form of %d bytes / %d fields accepted", total, len(fields))
		}
	})
}

func FuzzParseSTSForm(f *testing.F) {
	f.Add("Action=AssumeRole&Version=2011-06-15&DurationSeconds=900")
	f.Add("Action=AssumeRole&Policy=%7B%7D&DurationSeconds=99999")
	f.Add("Action=GetSessionToken")
	f.Fuzz(func(t *testing.T, s string) {
		form, err := url.ParseQuery(s)
		if err != nil {
			return
		}
		req, err := parseSTSForm(form)
		if err != nil {
			return
		}
		if form.Get("Action") != "AssumeRole" {
			t.Fatalf("action %q accepted", form.Get("Action"))
		}
		secs := int(req.duration.Seconds())
		if secs < minSTSSeconds || secs > maxSTSSeconds {
			t.Fatalf("duration %v accepted", req.duration)
		}
		if len(req.policy) > maxSessionPolicy {
			t.Fatal("oversized policy accepted")
		}
	})
}

func FuzzSniffContentType(f *testing.F) {
	f.Add([]byte("\xff\xd8\xff\xe0"))
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBP"))
	f.Add([]byte("<svg xmlns=\"http://www.w3.org/2000/svg\"><script>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ct := sniffContentType(b)
		if ct == "" || strings.ContainsAny(ct, "; ") {
			t.Fatalf("content type %q", ct)
		}
		// Nothing that starts like markup may pass as an image.
		if strings.HasPrefix(ct, "image/") && bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), []byte("<")) && ct != "image/svg+xml" {
			t.Fatalf("markup sniffed as %s", ct)
		}
		if ct == "image/svg+xml" {
			t.Fatal("svg must never be sniffed (not an allowed upload type)")
		}
	})
}

func FuzzListEncoder(f *testing.F) {
	f.Add("a b+c%/d~é")
	f.Fuzz(func(t *testing.T, s string) {
		enc := urlEncoder("url").apply(s)
		dec, err := url.PathUnescape(enc)
		if err != nil || dec != s {
			t.Fatalf("%q encoded %q decodes to %q (%v)", s, enc, dec, err)
		}
		dec2, err := url.QueryUnescape(enc)
		if err != nil || dec2 != s {
			t.Fatalf("%q encoded %q query-decodes to %q (%v)", s, enc, dec2, err)
		}
	})
}
