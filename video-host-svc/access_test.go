package hostsvc

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cloudflix/cloudflix/internal/account"
	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	"github.com/cloudflix/cloudflix/internal/store/storetest"
	"github.com/cloudflix/cloudflix/internal/testenv"
	"github.com/cloudflix/cloudflix/internal/video"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// Over real gRPC, whoever calls: a private video is not there for a caller
// without a principal or with someone else's; its owner and moderators see
// it; a channel shows others only its ready public videos.
func TestPrivateVideosAreTheirOwners(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, func(t *testing.T, p *platform.Process) {
		f := newFixture(t, p)
		client := pb.NewHostServiceClient(platformtest.Serve(t, func(s *grpc.Server) { pb.RegisterHostServiceServer(s, f.svc) }))
		ctx := t.Context()
		owner := storetest.NewUser(t, f.store, testenv.Name("own"), auth.RoleUser)
		other := storetest.NewUser(t, f.store, testenv.Name("oth"), auth.RoleUser)
		mod := storetest.NewUser(t, f.store, testenv.Name("mod"), auth.RoleModerator)
		as := func(u account.User) context.Context { return storetest.SignedIn(ctx, u) }
		private := storetest.ReadyBy(t, f.store, owner.ID, video.PrivacyPrivate, "Private")
		unlisted := storetest.ReadyBy(t, f.store, owner.ID, video.PrivacyUnlisted, "Unlisted")
		public := storetest.ReadyBy(t, f.store, owner.ID, video.PrivacyPublic, "Public")
		storetest.UploadedBy(t, f.store, owner.ID, video.PrivacyPublic, "Waiting")

		for name, c := range map[string]context.Context{"no principal": ctx, "another user": as(other)} {
			if _, err := client.GetVideo(c, &pb.GetVideoRequest{Id: private.ID}); status.Code(err) != codes.NotFound {
				t.Errorf("%s reads a private video: %v, want NotFound", name, err)
			}
			if _, err := client.RecordView(c, &pb.RecordViewRequest{Id: private.ID}); status.Code(err) != codes.NotFound {
				t.Errorf("%s counts a view of a private video: %v, want NotFound", name, err)
			}
			if _, err := client.GetVideo(c, &pb.GetVideoRequest{Id: unlisted.ID}); err != nil {
				t.Errorf("%s reads an unlisted video by its id: %v", name, err)
			}
			got := channel(t, client, c, owner.Username)
			if len(got) != 1 || got[0] != public.ID {
				t.Errorf("%s sees the channel as %v, want only the public ready video", name, got)
			}
		}
		for name, c := range map[string]context.Context{"the owner": as(owner), "a moderator": as(mod)} {
			if _, err := client.GetVideo(c, &pb.GetVideoRequest{Id: private.ID}); err != nil {
				t.Errorf("%s reads the private video: %v", name, err)
			}
			if got := channel(t, client, c, owner.Username); len(got) != 4 {
				t.Errorf("%s sees %d of the owner's 4 videos", name, len(got))
			}
		}
		if _, err := client.ListVideos(ctx, &pb.ListVideosRequest{Channel: "nobody-here"}); status.Code(err) != codes.NotFound {
			t.Errorf("the channel of nobody: %v, want NotFound", err)
		}
	})
}

func channel(t *testing.T, client pb.HostServiceClient, ctx context.Context, username string) []string {
	t.Helper()
	resp, err := client.ListVideos(ctx, &pb.ListVideosRequest{Channel: username})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, v := range resp.GetVideos() {
		ids = append(ids, v.GetId())
	}
	return ids
}
