// Package videopb converts between the domain's video.Video and its wire
// form in proto/. It is the one place that knows both; it never decides.
package videopb

import (
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/cloudflix/cloudflix/internal/video"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

var toState = map[video.State]pb.VideoState{
	video.StateUploading:  pb.VideoState_VIDEO_STATE_UPLOADING,
	video.StateUploaded:   pb.VideoState_VIDEO_STATE_UPLOADED,
	video.StateProcessing: pb.VideoState_VIDEO_STATE_PROCESSING,
	video.StateReady:      pb.VideoState_VIDEO_STATE_READY,
	video.StateFailed:     pb.VideoState_VIDEO_STATE_FAILED,
	video.StateDeleted:    pb.VideoState_VIDEO_STATE_DELETED,
}

// State converts a domain state to its wire form.
func State(s video.State) pb.VideoState { return toState[s] }

// DomainState converts a wire state to the domain's; unknown values give "".
func DomainState(s pb.VideoState) video.State {
	for d, p := range toState {
		if p == s {
			return d
		}
	}
	return ""
}

var toPrivacy = map[video.Privacy]pb.VideoPrivacy{
	video.PrivacyPublic:   pb.VideoPrivacy_VIDEO_PRIVACY_PUBLIC,
	video.PrivacyUnlisted: pb.VideoPrivacy_VIDEO_PRIVACY_UNLISTED,
	video.PrivacyPrivate:  pb.VideoPrivacy_VIDEO_PRIVACY_PRIVATE,
}

// Privacy converts a domain privacy to its wire form.
func Privacy(p video.Privacy) pb.VideoPrivacy { return toPrivacy[p] }

// DomainPrivacy converts a wire privacy to the domain's; unspecified gives
// "", which a request reads as "unchanged" or "the default".
func DomainPrivacy(p pb.VideoPrivacy) video.Privacy {
	for d, w := range toPrivacy {
		if w == p {
			return d
		}
	}
	return ""
}

// ToProto converts a video to its wire form.
func ToProto(v video.Video) *pb.Video {
	out := &pb.Video{
		Id:              v.ID,
		OwnerId:         v.OwnerID,
		OwnerUsername:   v.OwnerName,
		Privacy:         Privacy(v.Privacy),
		Title:           v.Title,
		Description:     v.Description,
		Tags:            v.Tags,
		State:           State(v.State),
		FailureReason:   v.FailureReason,
		Progress:        v.Progress,
		PlayableSeconds: v.PlayableSeconds,
		DurationSeconds: v.DurationSeconds,
		Width:           int32(v.Width),
		Height:          int32(v.Height),
		Views:           v.Views,
		Likes:           v.Likes,
		Comments:        v.Comments,
		CommentsOff:     v.CommentsOff,
		SizeBytes:       v.SizeBytes,
		ContentType:     v.ContentType,
		HiddenReason:    v.HiddenReason,
	}
	if v.Hidden() {
		out.HiddenAt = timestamppb.New(v.HiddenAt)
	}
	if !v.CreatedAt.IsZero() {
		out.CreatedAt = timestamppb.New(v.CreatedAt)
	}
	if !v.UpdatedAt.IsZero() {
		out.UpdatedAt = timestamppb.New(v.UpdatedAt)
	}
	for _, r := range v.Renditions {
		out.Renditions = append(out.Renditions, &pb.Rendition{
			Name:             r.Name,
			Width:            int32(r.Width),
			Height:           int32(r.Height),
			Bandwidth:        r.Bandwidth,
			AverageBandwidth: r.AverageBandwidth,
			Codecs:           r.Codecs,
			FrameRate:        r.FrameRate,
		})
	}
	return out
}

// FromProto converts a wire video back to the domain's.
func FromProto(p *pb.Video) video.Video {
	v := video.Video{
		ID:              p.GetId(),
		OwnerID:         p.GetOwnerId(),
		OwnerName:       p.GetOwnerUsername(),
		Privacy:         DomainPrivacy(p.GetPrivacy()),
		Title:           p.GetTitle(),
		Description:     p.GetDescription(),
		Tags:            p.GetTags(),
		State:           DomainState(p.GetState()),
		FailureReason:   p.GetFailureReason(),
		Progress:        p.GetProgress(),
		PlayableSeconds: p.GetPlayableSeconds(),
		DurationSeconds: p.GetDurationSeconds(),
		Width:           int(p.GetWidth()),
		Height:          int(p.GetHeight()),
		Views:           p.GetViews(),
		Likes:           p.GetLikes(),
		Comments:        p.GetComments(),
		CommentsOff:     p.GetCommentsOff(),
		SizeBytes:       p.GetSizeBytes(),
		ContentType:     p.GetContentType(),
		HiddenReason:    p.GetHiddenReason(),
	}
	if p.GetHiddenAt() != nil {
		v.HiddenAt = p.GetHiddenAt().AsTime()
	}
	if p.GetCreatedAt() != nil {
		v.CreatedAt = p.GetCreatedAt().AsTime()
	}
	if p.GetUpdatedAt() != nil {
		v.UpdatedAt = p.GetUpdatedAt().AsTime()
	}
	for _, r := range p.GetRenditions() {
		v.Renditions = append(v.Renditions, video.Rendition{
			Name:             r.GetName(),
			Width:            int(r.GetWidth()),
			Height:           int(r.GetHeight()),
			Bandwidth:        r.GetBandwidth(),
			AverageBandwidth: r.GetAverageBandwidth(),
			Codecs:           r.GetCodecs(),
			FrameRate:        r.GetFrameRate(),
		})
	}
	return v
}
