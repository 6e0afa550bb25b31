package localblob

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// FuzzPartURL changes a presigned part URL anywhere and PUTs to it. The
// part handler stores a part only when the URL still grants what was
// signed: the same upload, part number, size and expiry. Any other change
// is refused before a byte is stored.
func FuzzPartURL(f *testing.F) {
	s, err := Open(Options{Dir: filepath.Join(f.TempDir(), "blobs"), PartURL: "/storage/parts", SigningKey: newKey(), MaxPartSize: 1 << 12})
	if err != nil {
		f.Fatal(err)
	}
	if err := s.EnsureBucket(f.Context()); err != nil {
		f.Fatal(err)
	}
	const key = "sources/fuzz"
	uploadID, err := s.CreateMultipart(f.Context(), key, "video/mp4")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, part uint16, size uint16, at, cut int, insert string) {
		n, want := int(part)%MaxParts+1, int64(size)%(1<<12+1)
		signed, err := s.PresignPart(t.Context(), key, uploadID, n, want, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		at = int(uint(at) % uint(len(signed)+1))
		cut = at + int(uint(cut)%uint(len(signed)-at+1))
		changed := signed[:at] + insert + signed[cut:]
		u, err := url.Parse(changed)
		if err != nil || u.Path == "" || u.Path[0] != '/' {
			return // not a URL a client could PUT to
		}
		q := u.Query()
		length := want
		if l, err := strconv.ParseInt(q.Get("size"), 10, 64); err == nil && l >= 0 && l <= 1<<12 {
			length = l // the size the changed URL claims
		}
		r := httptest.NewRequest(http.MethodPut, "/", bytes.NewReader(make([]byte, length)))
		r.URL, r.RequestURI = u, changed
		w := httptest.NewRecorder()
		s.PartHandler().ServeHTTP(w, r)
		if changed == signed && w.Code != http.StatusOK {
			t.Fatalf("PUT %s as signed: %d %s", signed, w.Code, w.Body)
		}
		if w.Code != http.StatusOK {
			return
		}
		id, num, _ := partPath(u.Path)
		got := grant{uploadID: id, part: num, size: q.Get("size"), expires: q.Get("expires")}
		orig, _ := url.Parse(signed)
		if wantGrant := (grant{uploadID: uploadID, part: strconv.Itoa(n), size: strconv.FormatInt(want, 10), expires: orig.Query().Get("expires")}); got != wantGrant {
			t.Fatalf("%s, changed from %s, stored a part: it grants %+v, not %+v", changed, signed, got, wantGrant)
		}
		p, err := s.statPart(uploadID, n)
		if err != nil || p.Size != want {
			t.Fatalf("%s stored part %d: %+v, %v; want %d bytes", changed, n, p, err, want)
		}
	})
}
