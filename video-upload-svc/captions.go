package uploadsvc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/captions"
	"github.com/cloudflix/cloudflix/internal/rpc"
	"github.com/cloudflix/cloudflix/internal/video"
	"github.com/cloudflix/cloudflix/internal/videopb"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// Captions are served by the upload target rather than the host: a change
// of captions writes objects (the WebVTT file, its media playlist and the
// video's master playlist), and this target already holds the object
// storage credentials to write a video's objects, as it does for sources,
// while the host service only reads. Reading the list is rare (the edit
// page); players find the captions in the master playlist.

// CaptionStore is the metadata the caption service reads and writes.
type CaptionStore interface {
	captions.Store
	PutCaption(ctx context.Context, videoID string, c video.Caption) (video.Caption, error)
	DeleteCaption(ctx context.Context, videoID, language string) error
}

// CaptionObjects is where caption files and playlists are stored.
type CaptionObjects interface {
	captions.Objects
	Delete(ctx context.Context, keys []string) error
}

// CaptionService implements the CaptionService gRPC API.
type CaptionService struct {
	pb.UnimplementedCaptionServiceServer
	store   CaptionStore
	objects CaptionObjects
}

// NewCaptionService returns the caption service.
func NewCaptionService(store CaptionStore, objects CaptionObjects) *CaptionService {
	return &CaptionService{store: store, objects: objects}
}

// PutCaption checks and converts the file, stores it as WebVTT, records the
// language and publishes the video's playlists anew.
func (s *CaptionService) PutCaption(ctx context.Context, req *pb.PutCaptionRequest) (*pb.PutCaptionResponse, error) {
	v, lang, err := s.editable(ctx, req.GetVideoId(), req.GetLanguage())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	label, err := video.CaptionLabel(req.GetLabel(), lang)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	vtt, err := captions.Convert(req.GetContent())
	var bad *captions.Error
	if errors.As(err, &bad) {
		return nil, rpc.Error(ctx, video.Invalid("the caption file was refused: %v", bad))
	}
	if err != nil {
		return nil, rpc.Error(ctx, fmt.Errorf("captions of %s: %w", v.ID, err))
	}
	// The file goes first: a row in the store names a file that is there.
	key := video.CaptionKey(v.ID, lang)
	if err := s.objects.Put(ctx, key, bytes.NewReader(vtt), int64(len(vtt)), video.OutputType(key)); err != nil {
		return nil, rpc.Error(ctx, fmt.Errorf("store %s: %w", key, err))
	}
	c, err := s.store.PutCaption(ctx, v.ID, video.Caption{Language: lang, Label: label, SizeBytes: int64(len(vtt))})
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	if err := captions.Publish(ctx, s.store, s.objects, v.ID); err != nil {
		return nil, rpc.Error(ctx, err)
	}
	return &pb.PutCaptionResponse{Caption: captionProto(v.ID, c), Privacy: videopb.Privacy(v.Privacy)}, nil
}

// DeleteCaption forgets the language, publishes the playlists without it
// and then removes its files, which no playlist names any more.
func (s *CaptionService) DeleteCaption(ctx context.Context, req *pb.DeleteCaptionRequest) (*pb.DeleteCaptionResponse, error) {
	v, lang, err := s.editable(ctx, req.GetVideoId(), req.GetLanguage())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	if err := s.store.DeleteCaption(ctx, v.ID, lang); err != nil {
		return nil, rpc.Error(ctx, err)
	}
	if err := captions.Publish(ctx, s.store, s.objects, v.ID); err != nil {
		return nil, rpc.Error(ctx, err)
	}
	// A failure here leaves files nothing names, under the video's prefix,
	// which goes with the video.
	if err := s.objects.Delete(ctx, []string{video.CaptionKey(v.ID, lang), video.CaptionPlaylistKey(v.ID, lang)}); err != nil {
		slog.WarnContext(ctx, "deleted captions' files not removed", "video_id", v.ID, "language", lang, "err", err)
	}
	return &pb.DeleteCaptionResponse{}, nil
}

// ListCaptions lists the captions of a video the caller may see.
func (s *CaptionService) ListCaptions(ctx context.Context, req *pb.ListCaptionsRequest) (*pb.ListCaptionsResponse, error) {
	id := req.GetVideoId()
	if id == "" {
		return nil, rpc.Error(ctx, video.Invalid("video_id is required"))
	}
	v, err := s.store.Video(ctx, id)
	if err != nil {
		return nil, rpc.Error(ctx, fmt.Errorf("video %s: %w", id, err))
	}
	if !video.CanView(auth.FromContext(ctx), v) {
		return nil, rpc.Error(ctx, fmt.Errorf("video %s: %w", id, video.ErrNotFound))
	}
	caps, err := s.store.Captions(ctx, id)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	out := &pb.ListCaptionsResponse{Captions: make([]*pb.Caption, len(caps)), Privacy: videopb.Privacy(v.Privacy)}
	for i, c := range caps {
		out.Captions[i] = captionProto(id, c)
	}
	return out, nil
}

// editable returns the video with id and the language's canonical tag
// when the caller may change the video's captions.
func (s *CaptionService) editable(ctx context.Context, id, language string) (video.Video, string, error) {
	if id == "" {
		return video.Video{}, "", video.Invalid("video_id is required")
	}
	v, err := s.store.Video(ctx, id)
	if err != nil {
		return video.Video{}, "", fmt.Errorf("video %s: %w", id, err)
	}
	if p := auth.FromContext(ctx); !video.CanEditCaptions(p, v) {
		return video.Video{}, "", fmt.Errorf("changing the captions of video %s: %w", id, video.Refusal(p, v))
	}
	lang, err := video.CanonicalLanguage(language)
	if err != nil {
		return video.Video{}, "", err
	}
	return v, lang, nil
}

func captionProto(videoID string, c video.Caption) *pb.Caption {
	return &pb.Caption{
		Language:  c.Language,
		Label:     c.Label,
		SizeBytes: c.SizeBytes,
		UpdatedAt: timestamppb.New(c.UpdatedAt),
		Key:       video.CaptionKey(videoID, c.Language),
	}
}
