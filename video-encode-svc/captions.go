package encodesvc

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/cloudflix/cloudflix/internal/captions"
	"github.com/cloudflix/cloudflix/internal/video"
)

// publishPlaylists stores the master playlist of the renditions just
// encoded, naming the captions the video has now, with their media
// playlists, whose length is the video's: the master last, and each only
// while the lease is held. The master ffmpeg wrote in the job's folder
// names no captions; this one takes its place.
func (p *publication) publishPlaylists(ctx context.Context, renditions []video.Rendition) error {
	caps, err := p.w.store.Captions(ctx, p.id)
	if err != nil {
		return fmt.Errorf("captions of %s: %w", p.id, err)
	}
	pls, err := captions.Compose(p.id, renditions, p.src.DurationSeconds, caps)
	if err != nil {
		return fmt.Errorf("playlists of %s: %w", p.id, err)
	}
	master := video.MasterPlaylistKey(p.id)
	for key, body := range pls {
		if key != master {
			if err := p.putShared(ctx, key, body); err != nil {
				return err
			}
		}
	}
	return p.putShared(ctx, master, pls[master])
}

// republishCaptions writes the playlists again from the store once the
// video is ready, for a caption changed while the encode published: that
// change found the video still processing and left the playlists to the
// encode (captions.Publish says how the two never lose a change). The
// video plays either way, so a failure here is logged, not retried.
func (w *Worker) republishCaptions(ctx context.Context, id string) {
	if err := captions.Publish(ctx, w.store, w.objects, id); err != nil {
		slog.WarnContext(ctx, "captions not republished after the encode", "video_id", id, "err", err)
	}
}
