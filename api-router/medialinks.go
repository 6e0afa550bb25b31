package router

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// Media of a public video is served to anyone at /media/videos/{id}/...,
// cacheable by any CDN. Media of an unlisted or private video is served
// only under a signed prefix, /media/s/{expires}/{signature}/videos/{id}/...:
// the signature is an HMAC of the video id and the expiry under a key only
// the edge holds, and it is handed out only in the video JSON of someone
// the host service let see the video. Playlists name their renditions and
// segments by relative paths, so a player that loads a signed master
// playlist loads everything under the same prefix, with no custom header.

// mediaLinkTTL is how long a signed link works at least: long enough to
// watch a long video through. Expiries are rounded up to the hour, so that
// links handed out within one hour are the same and stay cached.
const mediaLinkTTL = 4 * time.Hour

// signedPrefix starts the path of a signed media link.
const signedPrefix = "/media/s/"

// mediaSignature signs a video's media until expires (Unix seconds).
func (a *api) mediaSignature(id string, expires int64) string {
	m := hmac.New(sha256.New, a.mediaKey)
	m.Write([]byte(id + "\x00" + strconv.FormatInt(expires, 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// signedMediaPath is the path of key (under videos/{id}/) valid until at
// least now + mediaLinkTTL.
func (a *api) signedMediaPath(id, key string, now time.Time) string {
	expires := now.Add(mediaLinkTTL).Truncate(time.Hour).Add(time.Hour).Unix()
	return signedPrefix + strconv.FormatInt(expires, 10) + "/" + a.mediaSignature(id, expires) + "/" + key
}

// serveSignedMedia serves a signed link's object once its signature holds.
func (a *api) serveSignedMedia(w http.ResponseWriter, r *http.Request) error {
	key, exp := r.PathValue("key"), r.PathValue("expires")
	expires, err := strconv.ParseInt(exp, 10, 64)
	id := videoOfKey(key)
	// The expiry must be written as it was signed: "+1…" or "01…" would
	// be another link to the same media, for each cache to keep apart.
	if err != nil || strconv.FormatInt(expires, 10) != exp || id == "" || !mediaKey(key) ||
		!hmac.Equal([]byte(r.PathValue("signature")), []byte(a.mediaSignature(id, expires))) {
		return errNoMedia
	}
	if time.Now().Unix() > expires {
		return &edgeError{status: http.StatusForbidden, code: "permission_denied",
			msg: "this media link has expired; open the video again for a new one"}
	}
	return a.sendMedia(w, r, key, "private, max-age=3600")
}

// videoOfKey is the video id of a media key "videos/{id}/...".
func videoOfKey(key string) string {
	rest, ok := strings.CutPrefix(key, mediaPrefix)
	if !ok {
		return ""
	}
	id, _, ok := strings.Cut(rest, "/")
	if !ok {
		return ""
	}
	return id
}

// publicVideos remembers for a short while which videos are public, so that
// the segments of a public video, fetched every few seconds by every
// viewer, cost no call to the host service each. A video made private stops
// being served plainly within publicTTL; what a CDN cached before stays
// there, as with any public file.
type publicVideos struct {
	mu      sync.Mutex
	entries map[string]publicEntry
}

type publicEntry struct {
	public bool
	until  time.Time
}

const (
	publicTTL     = 10 * time.Second
	publicEntries = 10000 // a bound on memory; the map starts afresh past it
)

// isPublic asks the host service, as an anonymous visitor, whether the video
// is public.
func (a *api) isPublic(ctx context.Context, id string) (bool, error) {
	now := time.Now()
	a.public.mu.Lock()
	e, ok := a.public.entries[id]
	a.public.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.public, nil
	}
	v, err := a.clients.Host.GetVideo(ctx, &pb.GetVideoRequest{Id: id})
	public := err == nil && v.GetPrivacy() == pb.VideoPrivacy_VIDEO_PRIVACY_PUBLIC
	if err != nil && status.Code(err) != codes.NotFound && status.Code(err) != codes.InvalidArgument {
		return false, err
	}
	a.public.mu.Lock()
	if a.public.entries == nil || len(a.public.entries) >= publicEntries {
		a.public.entries = make(map[string]publicEntry)
	}
	a.public.entries[id] = publicEntry{public: public, until: now.Add(publicTTL)}
	a.public.mu.Unlock()
	return public, nil
}
