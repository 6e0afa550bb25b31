package router

import (
	"errors"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/cloudflix/cloudflix/internal/blob"
	"github.com/cloudflix/cloudflix/internal/rpc"
	"github.com/cloudflix/cloudflix/internal/video"
)

// mediaPrefix is the only part of the object store the edge serves: the
// encoded outputs. Sources ("sources/…") are private to the services.
const mediaPrefix = "videos/"

// mediaKey reports whether key may be served: under videos/, with no empty,
// "." or ".." segment, so that no spelling of a key reaches outside the
// prefix whatever the store does with it.
func mediaKey(key string) bool {
	if !strings.HasPrefix(key, mediaPrefix) {
		return false
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.ContainsAny(seg, "\\\x00") {
			return false
		}
	}
	return true
}

// cacheControl says how long a response may be reused. Segments, init
// segments and images are written once under their name; playlists and
// WebVTT are text that a re-encode rewrites in place, so they get a short
// life.
func cacheControl(key string) string {
	switch path.Ext(key) {
	case ".m3u8", ".vtt":
		return "public, max-age=60"
	}
	return "public, max-age=31536000, immutable"
}

// errNoMedia is the one answer for media that is absent or not to be
// served, so that a private video's existence does not show.
var errNoMedia = &edgeError{status: http.StatusNotFound, code: "not_found", msg: "no such media object"}

// serveMedia serves the media of public videos.
func (a *api) serveMedia(w http.ResponseWriter, r *http.Request) error {
	key := r.PathValue("key")
	id := videoOfKey(key)
	if !mediaKey(key) || id == "" {
		return errNoMedia
	}
	public, err := a.isPublic(r.Context(), id)
	if err != nil {
		return err
	}
	if !public {
		return errNoMedia
	}
	return a.sendMedia(w, r, key, cacheControl(key))
}

// sendMedia sends the stored object under key with the given caching.
func (a *api) sendMedia(w http.ResponseWriter, r *http.Request, key, caching string) error {
	if a.media == nil {
		return &edgeError{status: http.StatusServiceUnavailable, code: "unavailable", msg: "media storage is not configured"}
	}
	obj, err := a.media.Open(r.Context(), key)
	if errors.Is(err, blob.ErrNotFound) {
		return errNoMedia
	}
	if err != nil {
		// Storage out of reach is a 503 with Retry-After, as the services
		// answer for their backends: one mapping for both.
		return rpc.Error(r.Context(), fmt.Errorf("open %s: %w", key, err))
	}
	defer obj.Close()
	info := obj.Info()
	if caching, err = playlistCaching(key, obj, caching); err != nil {
		return rpc.Error(r.Context(), fmt.Errorf("read %s: %w", key, err))
	}

	h := w.Header()
	ct := video.OutputType(key)
	if ct == "application/octet-stream" && info.ContentType != "" {
		ct = info.ContentType
	}
	h.Set("Content-Type", ct)
	h.Set("Cache-Control", caching)
	if info.ETag != "" {
		h.Set("ETag", quoteETag(info.ETag))
	}
	if asked := r.Header.Get("Range"); asked != "" {
		if served := servedRange(asked, info.Size); served == "" {
			r.Header.Del("Range")
		} else {
			r.Header.Set("Range", served)
		}
	}
	// ServeContent answers Range, If-None-Match, If-Modified-Since and
	// HEAD from the headers above and the object's seekable body.
	http.ServeContent(a.transfer.paceWrites(w), r, key, info.LastModified, obj)
	return nil
}

// maxRanges is how many byte ranges one request is served. Players ask for
// one at a time, and each range costs a read of its own from storage (a GET
// on S3), so a request for more gets the whole object in one read instead,
// as RFC 9110 §14.2 lets a server do.
const maxRanges = 1

// servedRange is the Range header ServeContent is given for an object of
// size bytes: the one range asked for, written out as first-last within
// the object, or none. A range unit other than bytes is ignored, as RFC
// 9110 §14.2 requires, and so is a Range on an empty object or naming more
// than maxRanges ranges: the whole object is sent. A range that is
// malformed, or that names no byte of the object (a suffix of no byte,
// "bytes=-0", included: §14.1.1), becomes a range starting at the end,
// answered 416 with "bytes */size" as §15.5.17 asks. ServeContent would
// answer a malformed range 416 without the size, a unit it does not know
// 416 instead of ignoring it, and both kinds of suffix 206 with a
// Content-Range whose last byte comes before its first (golang/go#81262).
func servedRange(asked string, size int64) string {
	specs, ok := strings.CutPrefix(asked, "bytes=")
	if !ok || size == 0 {
		return ""
	}
	var one string
	n := 0
	for spec := range strings.SplitSeq(specs, ",") {
		if spec = strings.TrimSpace(spec); spec != "" {
			one = spec
			n++
		}
	}
	if n > maxRanges {
		return ""
	}
	first, last, ok := byteRange(one, size)
	if !ok {
		return "bytes=" + strconv.FormatInt(size, 10) + "-"
	}
	return "bytes=" + strconv.FormatInt(first, 10) + "-" + strconv.FormatInt(last, 10)
}

// byteRange reads one byte range of an object of size bytes ("first-last",
// "first-" or the suffix "-length", RFC 9110 §14.1.2): the first and last
// byte it names within the object, or false when it is malformed or names
// none of them. A position too large for an int64 lies past any object.
func byteRange(spec string, size int64) (first, last int64, ok bool) {
	a, b, found := strings.Cut(spec, "-")
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if !found || !digits(a) && a != "" || !digits(b) && b != "" || a == "" && b == "" {
		return 0, 0, false
	}
	if a == "" {
		length, err := strconv.ParseInt(b, 10, 64)
		if err != nil {
			length = size
		}
		return max(size-length, 0), size - 1, length > 0
	}
	first, err := strconv.ParseInt(a, 10, 64)
	if err != nil || first >= size {
		return 0, 0, false
	}
	last = size - 1
	if b == "" {
		return first, last, true
	}
	// b is digits: ParseInt fails only on a position past any object.
	if l, err := strconv.ParseInt(b, 10, 64); err == nil {
		if l < first {
			return 0, 0, false
		}
		last = min(l, last)
	}
	return first, last, true
}

func digits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// quoteETag makes a store's ETag (S3 hands them out bare or quoted) the
// quoted entity-tag HTTP requires.
func quoteETag(etag string) string {
	if strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, `W/"`) {
		return etag
	}
	return `"` + etag + `"`
}
