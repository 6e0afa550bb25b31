package blobtest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/blob"
)

// testPartLength holds a part URL to the length it was signed for: a body
// longer or shorter (each with its true Content-Length), a chunked one and
// one whose Content-MD5 does not match are refused, and none of them
// leaves a part behind; the exact body is stored.
func testPartLength(t *testing.T, s Store) {
	ctx := t.Context()
	const key = "sources/bounded"
	id, err := s.CreateMultipart(ctx, key, "video/mp4")
	if err != nil {
		t.Fatalf("CreateMultipart: %v", err)
	}
	t.Cleanup(func() { _ = s.AbortMultipart(context.Background(), key, id) })
	data := randomBytes(7, 64<<10)
	u, err := s.PresignPart(ctx, key, id, 1, int64(len(data)), 5*time.Minute)
	if err != nil {
		t.Fatalf("PresignPart: %v", err)
	}
	wrongSum := md5.Sum([]byte("other bytes"))
	for _, c := range []struct {
		name    string
		body    []byte
		chunked bool
		md5     string
	}{
		{name: "longer", body: append(slices.Clone(data), "and more"...)},
		{name: "shorter", body: data[:len(data)-1]},
		{name: "empty", body: []byte{}},
		{name: "chunked", body: data, chunked: true},
		{name: "wrong Content-MD5", body: data, md5: base64.StdEncoding.EncodeToString(wrongSum[:])},
	} {
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, u, bytes.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		if c.chunked {
			// An unknown length makes the client send the body chunked.
			req.Body = io.NopCloser(bytes.NewReader(c.body))
			req.ContentLength = -1
		}
		if c.md5 != "" {
			req.Header.Set("Content-MD5", c.md5)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			// A server may hang up on a body it will not take.
			t.Logf("%s body: %v", c.name, err)
			continue
		}
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if resp.StatusCode/100 != 4 {
			t.Errorf("PUT of a %s body to a URL signed for %d bytes: status %d (%s), want a 4xx refusal", c.name, len(data), resp.StatusCode, msg)
		}
	}
	if ps, err := s.ListParts(ctx, key, id); err != nil || len(ps) != 0 {
		t.Fatalf("ListParts after refused PUTs = %+v, %v; want none stored", ps, err)
	}
	sum := md5.Sum(data)
	status, etag, msg, err := httpPut(ctx, u, data, "Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
	if err != nil || status != http.StatusOK {
		t.Fatalf("PUT of the exact body with its Content-MD5: %d (%s), %v; want 200", status, msg, err)
	}
	ps, err := s.ListParts(ctx, key, id)
	if err != nil || len(ps) != 1 || ps[0].Size != int64(len(data)) || ps[0].ETag != etag {
		t.Fatalf("ListParts = %+v, %v; want part 1 of %d bytes with ETag %s", ps, err, len(data), etag)
	}
}

// testPartCutShort sends a part's headers, with its Content-MD5, and half
// its body, then hangs up, as a client killed mid-part does: nothing may be
// stored, or a resumed upload (which can only compare sizes) would keep a
// part that is not the file's.
func testPartCutShort(t *testing.T, s Store) {
	ctx := t.Context()
	const key = "sources/cut"
	id, err := s.CreateMultipart(ctx, key, "video/mp4")
	if err != nil {
		t.Fatalf("CreateMultipart: %v", err)
	}
	t.Cleanup(func() { _ = s.AbortMultipart(context.Background(), key, id) })
	data := randomBytes(8, 256<<10)
	raw, err := s.PresignPart(ctx, key, id, 1, int64(len(data)), 5*time.Minute)
	if err != nil {
		t.Fatalf("PresignPart: %v", err)
	}
	sum := md5.Sum(data)
	status, err := putCutShort(ctx, raw, data, len(data)/2, base64.StdEncoding.EncodeToString(sum[:]))
	t.Logf("the server answered the cut-short PUT with %d (%v)", status, err)
	// The server finishes with the cut body after it answers, if it does.
	deadline := time.Now().Add(10 * time.Second)
	for {
		ps, err := s.ListParts(ctx, key, id)
		if err != nil {
			t.Fatalf("ListParts: %v", err)
		}
		if len(ps) != 0 {
			t.Fatalf("a part cut short after %d of %d bytes was stored: %+v", len(data)/2, len(data), ps)
		}
		if time.Now().After(deadline) {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// putCutShort writes a PUT to raw by hand: its headers say the whole data,
// its body stops after sent bytes, and the connection is closed for
// writing. It returns the status the server answered with, if any.
func putCutShort(ctx context.Context, raw string, data []byte, sent int, md5 string) (int, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return 0, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\nContent-MD5: %s\r\nConnection: close\r\n\r\n",
		u.RequestURI(), u.Host, len(data), md5)
	if _, err := conn.Write(data[:sent]); err != nil {
		return 0, err
	}
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func testList(t *testing.T, s Store) {
	ctx := t.Context()
	before := time.Now().Add(-time.Minute)
	keys := []string{
		"sources/a", "sources/b",
		"videos/1/hls/master.m3u8", "videos/1/hls/720p/seg0.m4s", "videos/1/thumb.jpg",
		"videos/2/thumb.jpg", "videos/stray.txt",
	}
	for _, k := range keys {
		if err := s.Put(ctx, k, strings.NewReader(k), int64(len(k)), "text/plain"); err != nil {
			t.Fatalf("Put %s: %v", k, err)
		}
	}
	list := func(prefix string, folders bool) map[string]blob.ObjectInfo {
		t.Helper()
		got := map[string]blob.ObjectInfo{}
		err := s.List(ctx, prefix, folders, func(o blob.ObjectInfo) error {
			if _, twice := got[o.Key]; twice {
				t.Errorf("List(%q, %v) gave %s twice", prefix, folders, o.Key)
			}
			got[o.Key] = o
			return nil
		})
		if err != nil {
			t.Fatalf("List(%q, %v): %v", prefix, folders, err)
		}
		return got
	}
	names := func(m map[string]blob.ObjectInfo) string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return strings.Join(out, " ")
	}
	if got, want := names(list("videos/", true)), "videos/1/ videos/2/ videos/stray.txt"; got != want {
		t.Errorf("List(videos/, folders) = %s, want %s", got, want)
	}
	if got, want := names(list("sources/", false)), "sources/a sources/b"; got != want {
		t.Errorf("List(sources/) = %s, want %s", got, want)
	}
	under := list("videos/1/", false)
	if got, want := names(under), "videos/1/hls/720p/seg0.m4s videos/1/hls/master.m3u8 videos/1/thumb.jpg"; got != want {
		t.Errorf("List(videos/1/) = %s, want %s", got, want)
	}
	for k, o := range under {
		if o.Size != int64(len(k)) || o.LastModified.Before(before) || o.LastModified.After(time.Now().Add(time.Minute)) {
			t.Errorf("listed %+v, want size %d and a time of about now", o, len(k))
		}
	}
	if got := list("videos/3/", false); len(got) != 0 {
		t.Errorf("List of a prefix with nothing under it = %v", names(got))
	}
	stop := errors.New("enough")
	n := 0
	if err := s.List(ctx, "videos/", false, func(blob.ObjectInfo) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("List whose callback fails = %v after %d calls, want that error after one", err, n)
	}
}

func testDelete(t *testing.T, s Store) {
	ctx := t.Context()
	doomed := []string{"sources/ab", "videos/1/hls/720p/seg0.m4s", "videos/1/thumb.jpg"}
	kept := []string{"sources/abc", "videos/1/hls/master.m3u8", "videos/10/thumb.jpg"}
	for _, k := range append(slices.Clone(doomed), kept...) {
		if err := s.Put(ctx, k, strings.NewReader(k), int64(len(k)), "text/plain"); err != nil {
			t.Fatalf("Put %s: %v", k, err)
		}
	}
	if err := s.Delete(ctx, append(slices.Clone(doomed), "no/such/key")); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	for _, k := range doomed {
		if _, err := s.Stat(ctx, k); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("%s: Stat after Delete = %v, want blob.ErrNotFound", k, err)
		}
	}
	for _, k := range kept {
		if _, err := s.Stat(ctx, k); err != nil {
			t.Errorf("%s, not given to Delete: Stat = %v, want it kept", k, err)
		}
	}
	if err := s.Delete(ctx, nil); err != nil {
		t.Errorf("Delete of no keys: %v", err)
	}
}
