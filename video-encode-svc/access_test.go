package encodesvc

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
	"github.com/cloudflix/cloudflix/internal/videocache"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// Over real gRPC: re-encoding takes a video offline, so only its owner and
// admins may; a caller without a principal or with someone else's is
// refused, a private video is not found by them.
func TestReencodeIsTheOwnersOrAnAdmins(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, func(t *testing.T, p *platform.Process) {
		ctx := t.Context()
		db, err := p.Store(ctx)
		if err != nil {
			t.Fatal(err)
		}
		q, err := p.Queue(ctx, "encode", 1)
		if err != nil {
			t.Fatal(err)
		}
		c, err := p.Cache(ctx)
		if err != nil {
			t.Fatal(err)
		}
		svc := NewService(db, q, videocache.New(c, 0, nil), func() {})
		client := pb.NewEncodeServiceClient(platformtest.Serve(t, func(s *grpc.Server) { pb.RegisterEncodeServiceServer(s, svc) }))
		admin := storetest.NewUser(t, db, testenv.Name("adm"), auth.RoleAdmin)
		owner := storetest.NewUser(t, db, testenv.Name("own"), auth.RoleUser)
		other := storetest.NewUser(t, db, testenv.Name("oth"), auth.RoleUser)
		mod := storetest.NewUser(t, db, testenv.Name("mod"), auth.RoleModerator)
		as := func(u account.User) context.Context { return storetest.SignedIn(ctx, u) }
		reencode := func(c context.Context, id string) error {
			_, err := client.Reencode(c, &pb.ReencodeRequest{Id: id})
			return err
		}

		public := storetest.ReadyBy(t, db, owner.ID, video.PrivacyPublic, "Public")
		private := storetest.ReadyBy(t, db, owner.ID, video.PrivacyPrivate, "Private")
		for _, c := range []struct {
			name string
			ctx  context.Context
			id   string
			want codes.Code
		}{
			{"no principal, public", ctx, public.ID, codes.Unauthenticated},
			{"another user, public", as(other), public.ID, codes.PermissionDenied},
			{"a moderator, public", as(mod), public.ID, codes.PermissionDenied},
			{"no principal, private", ctx, private.ID, codes.NotFound},
			{"another user, private", as(other), private.ID, codes.NotFound},
		} {
			if err := reencode(c.ctx, c.id); status.Code(err) != c.want {
				t.Errorf("%s: %v, want %s", c.name, err, c.want)
			}
		}
		if err := reencode(as(owner), public.ID); err != nil {
			t.Errorf("the owner: %v", err)
		}
		if err := reencode(as(admin), private.ID); err != nil {
			t.Errorf("an admin: %v", err)
		}
	})
}
