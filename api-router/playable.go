package router

import (
	"bytes"
	"io"
	"path"
	"strings"

	"github.com/cloudflix/cloudflix/internal/video"
	"github.com/cloudflix/cloudflix/internal/videopb"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// playableToJSON says in out whether v can be watched now, and how much of
// it: all of a ready video, the published start of one still processing
// (its hls_url then serves growing playlists that become the on-demand
// ones, at the same URLs, when the encode ends).
func playableToJSON(out *videoJSON, v *pb.Video) {
	out.Playable = video.Video{State: videopb.DomainState(v.GetState()), PlayableSeconds: v.GetPlayableSeconds()}.Playable()
	switch {
	case v.GetState() == pb.VideoState_VIDEO_STATE_READY:
		out.PlayableSeconds = v.GetDurationSeconds()
	case out.Playable:
		out.PlayableSeconds = v.GetPlayableSeconds()
	}
}

// playlistHead is how much of a playlist is read for its type: the
// encoder writes EXT-X-PLAYLIST-TYPE in its first lines.
const playlistHead = 256

// growingType is the line of a media playlist that is still growing: a
// video playable while it encodes (RFC 8216 section 6.2.1).
var growingType = []byte("\n#EXT-X-PLAYLIST-TYPE:EVENT\n")

// playlistCaching is the caching of the object obj under key: caching,
// but for a growing playlist, which every request must revalidate (its
// ETag makes that cheap): a player reloads it every segment to learn what
// was added, and a cached copy would stop the video at whatever it listed
// when cached. The segments it lists are written once and keep their long
// life.
func playlistCaching(key string, obj io.ReadSeeker, caching string) (string, error) {
	if path.Ext(key) != ".m3u8" {
		return caching, nil
	}
	head := make([]byte, playlistHead)
	n, err := io.ReadFull(obj, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return "", err
	}
	if _, err := obj.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	if !bytes.Contains(head[:n], growingType) {
		return caching, nil
	}
	if strings.HasPrefix(caching, "private") {
		return "private, no-cache", nil
	}
	return "public, no-cache", nil
}
