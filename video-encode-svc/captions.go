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
// playlists, whose length is the video's. The master the encode wrote in
// its folder names no captions; this one replaces it.
func (w *Worker) publishPlaylists(ctx context.Context, id string, renditions []video.Rendition, durationSeconds float64) error {
	caps, err := w.store.Captions(ctx, id)
	if err != nil {
		return fmt.Errorf("captions of %s: %w", id, err)
	}
	pls, err := captions.Compose(id, renditions, durationSeconds, caps)
	if err != nil {
		return fmt.Errorf("playlists of %s: %w", id, err)
	}
	if err := pls.Write(ctx, w.objects); err != nil {
		return fmt.Errorf("upload playlists of %s: %w", id, err)
	}
	return nil
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
