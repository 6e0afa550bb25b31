package captions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"path"
	"sync"

	"github.com/cloudflix/cloudflix/internal/transcode"
	"github.com/cloudflix/cloudflix/internal/video"
)

// MediaPlaylist is the HLS subtitle media playlist of one language: the
// whole WebVTT file as its one segment, lasting the whole video. HLS asks
// for subtitles in segments so that live streams can grow them; for a
// video on demand one segment is valid (RFC 8216 section 3.5) and every
// player fetches the file once, as a <track> element would.
func MediaPlaylist(durationSeconds float64, vttURI string) []byte {
	d := max(durationSeconds, 0.001)
	return fmt.Appendf(nil, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:%d\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:%.3f,\n%s\n#EXT-X-ENDLIST\n",
		int64(math.Ceil(d)), d, vttURI)
}

// Playlists are the stored playlists a video's captions take part in, by
// object key: the master playlist and one media playlist per language.
type Playlists map[string][]byte

// Compose writes the playlists of a video with id, encoded as renditions
// lasting durationSeconds, with captions.
func Compose(id string, renditions []video.Rendition, durationSeconds float64, captions []video.Caption) (Playlists, error) {
	master, err := transcode.MasterPlaylist(renditions, captions)
	if err != nil {
		return nil, err
	}
	pls := Playlists{video.MasterPlaylistKey(id): master}
	for _, c := range captions {
		vtt := path.Base(video.CaptionKey(id, c.Language))
		pls[video.CaptionPlaylistKey(id, c.Language)] = MediaPlaylist(durationSeconds, vtt)
	}
	return pls, nil
}

// Objects is where playlists are stored.
type Objects interface {
	Put(ctx context.Context, key string, body io.Reader, size int64, contentType string) error
}

// Write stores the playlists, the master last, so that a player that
// reads the master finds every playlist it names.
func (pls Playlists) Write(ctx context.Context, objects Objects) error {
	var master string
	for key, body := range pls {
		if path.Base(key) == "master.m3u8" {
			master = key
			continue
		}
		if err := objects.Put(ctx, key, bytes.NewReader(body), int64(len(body)), video.OutputType(key)); err != nil {
			return fmt.Errorf("store %s: %w", key, err)
		}
	}
	if master == "" {
		return errors.New("playlists without a master playlist")
	}
	body := pls[master]
	if err := objects.Put(ctx, master, bytes.NewReader(body), int64(len(body)), video.OutputType(master)); err != nil {
		return fmt.Errorf("store %s: %w", master, err)
	}
	return nil
}

func (pls Playlists) equal(other Playlists) bool {
	if len(pls) != len(other) {
		return false
	}
	for k, v := range pls {
		if !bytes.Equal(v, other[k]) {
			return false
		}
	}
	return true
}

// Store is what Publish reads a video's state from.
type Store interface {
	Video(ctx context.Context, id string) (video.Video, error)
	Captions(ctx context.Context, videoID string) ([]video.Caption, error)
}

// publishRounds bounds how many times Publish writes the playlists while
// the captions keep changing under it. Writers in one process take turns
// (see publishing), so the rounds are spent only on changes made by other
// processes between a write and the read after it; each such round means
// another change was committed, and whoever made it publishes too.
const publishRounds = 32

// publishing makes the writers of one video in this process take turns,
// so concurrent caption changes (eight languages uploaded at once) do not
// each rewrite the playlists once per change of the others. Videos share
// a lock only when their identifiers hash alike, which costs a wait and
// nothing else.
var publishing struct {
	seed  maphash.Seed
	locks [64]sync.Mutex
}

func init() { publishing.seed = maphash.MakeSeed() }

func publishLock(id string) *sync.Mutex {
	return &publishing.locks[maphash.String(publishing.seed, id)%uint64(len(publishing.locks))]
}

// Publish writes the stored playlists of a ready video from the metadata
// store's current state: its renditions and its captions. Two writers can
// race (a caption changed while an encode publishes, or two captions
// changed at once, in this process or in another), and the last to write
// could write what it read before the other's change. So each writer,
// after writing, reads the state again and writes once more if it has
// changed: whichever write lands last, its writer then sees the newest
// state, and the stored playlists end as that state says. A video that is
// not ready has nothing published; its encode publishes the captions when
// it ends.
func Publish(ctx context.Context, st Store, objects Objects, id string) error {
	mu := publishLock(id)
	mu.Lock()
	defer mu.Unlock()
	var written Playlists
	for range publishRounds {
		v, err := st.Video(ctx, id)
		if errors.Is(err, video.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("publish the captions of %s: %w", id, err)
		}
		if v.State != video.StateReady || len(v.Renditions) == 0 {
			return nil
		}
		caps, err := st.Captions(ctx, id)
		if err != nil {
			return fmt.Errorf("publish the captions of %s: %w", id, err)
		}
		pls, err := Compose(id, v.Renditions, v.DurationSeconds, caps)
		if err != nil {
			return fmt.Errorf("publish the captions of %s: %w", id, err)
		}
		if written != nil && pls.equal(written) {
			return nil
		}
		if err := pls.Write(ctx, objects); err != nil {
			return fmt.Errorf("publish the captions of %s: %w", id, err)
		}
		written = pls
	}
	return fmt.Errorf("publish the captions of %s: they changed %d times while being written", id, publishRounds)
}
