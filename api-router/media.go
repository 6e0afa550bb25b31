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
// size bytes: the one asked for, except where ServeContent's answer would
// be wrong or costly. A range of an empty object and a request naming more
// than maxRanges ranges get none: the whole object. A suffix of no byte
// ("bytes=-0") is unsatisfiable (RFC 9110 §14.1.1) and becomes a range
// starting at the end, answered 416 with "bytes */size". ServeContent would
// answer both kinds of suffix 206 with a Content-Range whose last byte
// comes before its first (golang/go#81262).
func servedRange(asked string, size int64) string {
	specs, ok := strings.CutPrefix(asked, "bytes=")
	if !ok {
		return asked // not bytes: ServeContent refuses it
	}
	if size == 0 {
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
	if first, last, ok := strings.Cut(one, "-"); ok && strings.TrimSpace(first) == "" {
		if suffix, err := strconv.ParseInt(strings.TrimSpace(last), 10, 64); err == nil && suffix == 0 {
			return "bytes=" + strconv.FormatInt(size, 10) + "-"
		}
	}
	return asked
}

// quoteETag makes a store's ETag (S3 hands them out bare or quoted) the
// quoted entity-tag HTTP requires.
func quoteETag(etag string) string {
	if strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, `W/"`) {
		return etag
	}
	return `"` + etag + `"`
}
