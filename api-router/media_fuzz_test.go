package router

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
)

// fuzzMedia is an edge serving objects of a private video (v2) and of
// another (v3) from real local storage: each object's bytes name it, so
// that an answer tells which object was served.
type fuzzMedia struct {
	edge    http.Handler
	signer  *api
	keys    []string          // v2's objects
	objects map[string][]byte // every object, v3's included
}

func newFuzzMedia(f *testing.F) fuzzMedia {
	store, _, err := platformtest.Process(f, platformtest.Embedded).Objects(f.Context())
	if err != nil {
		f.Fatal(err)
	}
	m := fuzzMedia{signer: &api{mediaKey: testMediaKey}, objects: map[string][]byte{}}
	for i, size := range []int{0, 1, 2, 17, 1000} {
		for _, id := range []string{"v2", "v3"} {
			key := fmt.Sprintf("videos/%s/hls/720p/seg_%05d.m4s", id, i)
			name := id[1:] + "|" + key // starts with a byte of its own video's
			body := []byte(strings.Repeat(name, size/len(name)+1)[:size])
			if err := store.Put(f.Context(), key, bytes.NewReader(body), int64(size), "video/iso.segment"); err != nil {
				f.Fatal(err)
			}
			m.objects[key] = body
			if id == "v2" {
				m.keys = append(m.keys, key)
			}
		}
	}
	m.edge = edge(f, Options{Media: store, Logger: discardLogger(), Clients: Clients{Host: privacyHost()}})
	return m
}

func (m fuzzMedia) get(path string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.URL = &url.URL{Path: path, RawPath: path}
	r.RequestURI = path
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	m.edge.ServeHTTP(w, r)
	return w
}

// FuzzMediaRange asks for an object of every size with any Range header.
// The answer is the whole object, one range of it that lies within it, with
// a Content-Range that says which, or 416 naming the object's size; never
// several ranges, and never bytes the object does not hold.
func FuzzMediaRange(f *testing.F) {
	m := newFuzzMedia(f)
	now := time.Now()
	f.Fuzz(func(t *testing.T, asked string, which uint8) {
		key := m.keys[int(which)%len(m.keys)]
		obj := m.objects[key]
		w := m.get(m.signer.signedMediaPath("v2", key, now), "Range", asked)
		body, size := w.Body.Bytes(), len(obj)
		switch w.Code {
		case http.StatusOK:
			if !bytes.Equal(body, obj) {
				t.Fatalf("200 with %d bytes of the %d", len(body), size)
			}
		case http.StatusPartialContent:
			var first, last, total int
			cr := w.Header().Get("Content-Range")
			if _, err := fmt.Sscanf(cr, "bytes %d-%d/%d", &first, &last, &total); err != nil || cr != fmt.Sprintf("bytes %d-%d/%d", first, last, total) {
				t.Fatalf("206 with Content-Range %q", cr)
			}
			if total != size || first < 0 || first > last || last >= size || !bytes.Equal(body, obj[first:last+1]) {
				t.Fatalf("206 of an object of %d bytes: Content-Range %q, %d bytes", size, cr, len(body))
			}
		case http.StatusRequestedRangeNotSatisfiable:
			if cr := w.Header().Get("Content-Range"); cr != "bytes */"+strconv.Itoa(size) {
				t.Fatalf("416 with Content-Range %q, want bytes */%d: %s", cr, size, body)
			}
		default:
			t.Fatalf("Range %q of %d bytes: %d %s", asked, size, w.Code, body)
		}
	})
}

// FuzzSignedMediaLink changes a signed media link anywhere. Whatever the
// change, the link serves only objects of the video it was signed for, and
// only with the expiry it was signed with.
func FuzzSignedMediaLink(f *testing.F) {
	m := newFuzzMedia(f)
	now := time.Now()
	f.Fuzz(func(t *testing.T, which uint8, at, cut int, insert string) {
		signed := m.signer.signedMediaPath("v2", m.keys[int(which)%len(m.keys)], now)
		at = int(uint(at) % uint(len(signed)+1))
		cut = at + int(uint(cut)%uint(len(signed)-at+1))
		changed := signed[:at] + insert + signed[cut:]
		w := m.get(changed)
		if changed == signed && w.Code != http.StatusOK {
			t.Fatalf("GET %s as signed: %d %s", signed, w.Code, w.Body)
		}
		if w.Code != http.StatusOK {
			return
		}
		served := ""
		for key, obj := range m.objects {
			if bytes.Equal(obj, w.Body.Bytes()) && len(obj) > 0 {
				served = key
			}
		}
		if served != "" && !strings.HasPrefix(served, "videos/v2/") {
			t.Fatalf("%s, changed from %s, served %s", changed, signed, served)
		}
		expiry := func(path string) string {
			rest, _ := strings.CutPrefix(path, signedPrefix)
			exp, _, _ := strings.Cut(rest, "/")
			exp, _ = url.PathUnescape(exp)
			return exp
		}
		if expiry(changed) != expiry(signed) {
			t.Fatalf("%s, changed from %s, is served: its expiry %q was signed as %q", changed, signed, expiry(changed), expiry(signed))
		}
	})
}
