package store

import (
	"context"
	"fmt"

	"github.com/cloudflix/cloudflix/internal/video"
)

// Captions is the part of the store that keeps which captions a video has:
// one row per language, with its label and size. The WebVTT files
// themselves are objects (video.CaptionKey); a row says one is there.
type Captions interface {
	// PutCaption adds a video's captions in c.Language, or replaces the
	// label and size of those it has, and returns them as stored, with the
	// time of the change. A video that has video.MaxCaptions languages
	// already is refused a new one (video.IsInvalid). An absent or deleted
	// video gives ErrNotFound; who may change captions is the caller's
	// business.
	PutCaption(ctx context.Context, videoID string, c video.Caption) (video.Caption, error)
	// DeleteCaption removes a video's captions in language; ErrNotFound
	// when it has none in that language.
	DeleteCaption(ctx context.Context, videoID, language string) error
	// Captions lists the captions of a video that is not deleted, by
	// language; none for an absent or deleted video.
	Captions(ctx context.Context, videoID string) ([]video.Caption, error)
}

// CheckCaption refuses a caption the stores cannot keep: an id that names
// no video (ErrNotFound), a language not in its canonical spelling, a
// label that is not one, or a negative size (video.IsInvalid).
func CheckCaption(videoID string, c video.Caption) error {
	if !ValidID(videoID) {
		return fmt.Errorf("captions of %s: %w", videoID, video.ErrNotFound)
	}
	if lang, err := video.CanonicalLanguage(c.Language); err != nil || lang != c.Language {
		return video.Invalid("captions of %s: language %q is not a canonical BCP 47 tag", videoID, c.Language)
	}
	if label, err := video.CaptionLabel(c.Label, c.Language); err != nil || label != c.Label {
		return video.Invalid("captions of %s: label %q is not one", videoID, c.Label)
	}
	if c.SizeBytes < 0 {
		return video.Invalid("captions of %s: size %d", videoID, c.SizeBytes)
	}
	return nil
}

// TooManyCaptions is the refusal of a language past video.MaxCaptions.
func TooManyCaptions(videoID string) error {
	return video.Invalid("video %s has captions in %d languages, the most it may have: delete one first", videoID, video.MaxCaptions)
}
