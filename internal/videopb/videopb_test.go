package videopb

import (
	"reflect"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/video"
)

func TestRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	v := video.Video{
		ID: "0b9e6a34-6c1c-4a53-9d59-1d1a1f6f2a11", Title: "Sunrise", Description: "over the hills",
		OwnerID: "5f0c3d34-1a2b-4c3d-8e9f-0a1b2c3d4e5f", OwnerName: "ada", Privacy: video.PrivacyUnlisted,
		Tags: []string{"nature", "timelapse"}, State: video.StateReady, Progress: 1,
		DurationSeconds: 10.5, Width: 1280, Height: 720, Views: 42, Likes: 7, Comments: 3, CommentsOff: true, SizeBytes: 1 << 20, ContentType: "video/mp4",
		Renditions: []video.Rendition{{Name: "720p", Width: 1280, Height: 720, Bandwidth: 3_000_000, AverageBandwidth: 2_000_000, Codecs: "avc1.64001f,mp4a.40.2", FrameRate: 30}},
		CreatedAt:  now, UpdatedAt: now.Add(time.Minute), HiddenAt: now.Add(time.Hour), HiddenReason: "spam",
	}
	if got := FromProto(ToProto(v)); !reflect.DeepEqual(got, v) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, v)
	}
	for _, s := range []video.State{video.StateUploading, video.StateUploaded, video.StateProcessing, video.StateReady, video.StateFailed, video.StateDeleted} {
		if DomainState(State(s)) != s {
			t.Errorf("state %q does not round-trip", s)
		}
	}
	for _, p := range []video.Privacy{video.PrivacyPublic, video.PrivacyUnlisted, video.PrivacyPrivate} {
		if DomainPrivacy(Privacy(p)) != p {
			t.Errorf("privacy %q does not round-trip", p)
		}
	}
}
