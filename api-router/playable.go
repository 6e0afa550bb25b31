package router

import (
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
