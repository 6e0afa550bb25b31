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
//
// A signed link is of one of two kinds. The link to a private or hidden
// video is handed out only to its owner, moderators and admins, and is
// served until it expires. The link to an unlisted video is handed out to
// anyone with the video's page, so it is shared: it is served only while
// an anonymous visitor may still see the video, and stops working within
// publicTTL once a moderator hides the video (or its owner makes it
// private).

// mediaLinkTTL is how long a signed link works at least: long enough to
// watch a long video through. Expiries are rounded up to the hour, so that
// links handed out within one hour are the same and stay cached.
const mediaLinkTTL = 4 * time.Hour

// signedPrefix starts the path of a signed media link.
const signedPrefix = "/media/s/"

// mediaSignature signs a video's media until expires (Unix seconds), for
// a link to share when shared, else for its owner and moderators.
func (a *api) mediaSignature(id string, expires int64, shared bool) string {
	m := hmac.New(sha256.New, a.mediaKey)
	if shared {
		m.Write([]byte("shared\x00"))
	}
	m.Write([]byte(id + "\x00" + strconv.FormatInt(expires, 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// signedMediaPath is the path of key (under videos/{id}/) valid until at
// least now + mediaLinkTTL, for the owner and moderators of a private or
// hidden video.
func (a *api) signedMediaPath(id, key string, now time.Time) string {
	return a.mediaPath(id, key, now, false)
}

// sharedMediaPath is signedMediaPath for an unlisted video, served only
// while anonymous visitors may see the video.
func (a *api) sharedMediaPath(id, key string, now time.Time) string {
	return a.mediaPath(id, key, now, true)
}

func (a *api) mediaPath(id, key string, now time.Time, shared bool) string {
	expires := now.Add(mediaLinkTTL).Truncate(time.Hour).Add(time.Hour).Unix()
	return signedPrefix + strconv.FormatInt(expires, 10) + "/" + a.mediaSignature(id, expires, shared) + "/" + key
}

// serveSignedMedia serves a signed link's object once its signature holds.
func (a *api) serveSignedMedia(w http.ResponseWriter, r *http.Request) error {
	key, exp := r.PathValue("key"), r.PathValue("expires")
	expires, err := strconv.ParseInt(exp, 10, 64)
	id := videoOfKey(key)
	// The expiry must be written as it was signed: "+1…" or "01…" would
	// be another link to the same media, for each cache to keep apart.
	if err != nil || strconv.FormatInt(expires, 10) != exp || id == "" || !mediaKey(key) {
		return errNoMedia
	}
	signature := []byte(r.PathValue("signature"))
	shared := hmac.Equal(signature, []byte(a.mediaSignature(id, expires, true)))
	if !shared && !hmac.Equal(signature, []byte(a.mediaSignature(id, expires, false))) {
		return errNoMedia
	}
	if time.Now().Unix() > expires {
		return &edgeError{status: http.StatusForbidden, code: "permission_denied",
			msg: "this media link has expired; open the video again for a new one"}
	}
	if shared {
		seen, err := a.anonymousView(r.Context(), id)
		if err != nil {
			return err
		}
		if !seen.visible {
			return errNoMedia
		}
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

// publicVideos remembers for a short while what an anonymous visitor may
// see of each video, so that the segments of a public video (or of an
// unlisted one by its shared link), fetched every few seconds by every
// viewer, cost no call to the host service each. A video made private, or
// hidden by a moderator, stops being served to visitors within publicTTL;
// what a CDN cached before stays there, as with any public file.
type publicVideos struct {
	mu      sync.Mutex
	entries map[string]publicEntry
}

// publicEntry is what an anonymous visitor may see of a video: whether it
// is public, and whether they may see it at all (public or unlisted, and
// not hidden).
type publicEntry struct {
	public, visible bool
	until           time.Time
}

const (
	publicTTL     = 10 * time.Second
	publicEntries = 10000 // a bound on memory; the map starts afresh past it
)

// isPublic asks the host service, as an anonymous visitor, whether the video
// is public.
func (a *api) isPublic(ctx context.Context, id string) (bool, error) {
	e, err := a.anonymousView(ctx, id)
	return e.public, err
}

// anonymousView asks the host service, as an anonymous visitor, what such
// a visitor may see of the video.
func (a *api) anonymousView(ctx context.Context, id string) (publicEntry, error) {
	now := time.Now()
	a.public.mu.Lock()
	e, ok := a.public.entries[id]
	a.public.mu.Unlock()
	if ok && now.Before(e.until) {
		return e, nil
	}
	v, err := a.clients.Host.GetVideo(ctx, &pb.GetVideoRequest{Id: id})
	if err != nil && status.Code(err) != codes.NotFound && status.Code(err) != codes.InvalidArgument {
		return publicEntry{}, err
	}
	e = publicEntry{
		visible: err == nil,
		public:  err == nil && v.GetPrivacy() == pb.VideoPrivacy_VIDEO_PRIVACY_PUBLIC,
		until:   now.Add(publicTTL),
	}
	a.public.mu.Lock()
	if a.public.entries == nil || len(a.public.entries) >= publicEntries {
		a.public.entries = make(map[string]publicEntry)
	}
	a.public.entries[id] = e
	a.public.mu.Unlock()
	return e, nil
}
