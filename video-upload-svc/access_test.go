package uploadsvc

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/cloudflix/cloudflix/internal/account"
	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	"github.com/cloudflix/cloudflix/internal/store/storetest"
	"github.com/cloudflix/cloudflix/internal/testenv"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// The service decides who may do what, whoever calls it: over real gRPC,
// a call without a principal, or with someone else's, is refused.
func TestUploadsAndEditsAreTheirOwners(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testUploadsAndEditsAreTheirOwners)
}

func testUploadsAndEditsAreTheirOwners(t *testing.T, p *platform.Process) {
	r := newRig(t, p)
	conn := platformtest.Serve(t, func(s *grpc.Server) { pb.RegisterUploadServiceServer(s, r.svc) })
	client := pb.NewUploadServiceClient(conn)
	db := r.store
	other := storetest.NewUser(t, db, testenv.Name("other"), auth.RoleUser)
	mod := storetest.NewUser(t, db, testenv.Name("mod"), auth.RoleModerator)
	admin := storetest.NewUser(t, db, testenv.Name("admin"), auth.RoleAdmin)
	ctx := t.Context()
	as := func(u account.User) context.Context { return storetest.SignedIn(ctx, u) }
	readToken := auth.NewContext(ctx, auth.Principal{UserID: r.owner.ID, Username: r.owner.Username, Role: auth.RoleUser, Scopes: []auth.Scope{auth.ScopeRead}})

	create := &pb.CreateUploadRequest{Title: "Mine", ContentType: "video/mp4", SizeBytes: 10, Privacy: pb.VideoPrivacy_VIDEO_PRIVACY_PRIVATE}
	if _, err := client.CreateUpload(ctx, create); status.Code(err) != codes.Unauthenticated {
		t.Errorf("an anonymous upload: %v, want Unauthenticated", err)
	}
	if _, err := client.CreateUpload(readToken, create); status.Code(err) != codes.PermissionDenied {
		t.Errorf("an upload with a read-only token: %v, want PermissionDenied", err)
	}
	sess, err := client.CreateUpload(as(r.owner), create)
	if err != nil {
		t.Fatal(err)
	}
	id := sess.GetVideoId()
	if v, _ := db.Video(ctx, id); v.OwnerID != r.owner.ID || v.Privacy != "private" {
		t.Fatalf("the new video is %s's and %s, want the uploader's and private", v.OwnerID, v.Privacy)
	}

	// Someone else's upload is not there for another user; an admin may
	// act on it.
	for name, c := range map[string]context.Context{"anonymous": ctx, "another user": as(other), "a moderator": as(mod)} {
		want := codes.NotFound
		if name == "anonymous" {
			want = codes.Unauthenticated
		}
		if _, err := client.GetUpload(c, &pb.GetUploadRequest{VideoId: id}); status.Code(err) != want {
			t.Errorf("%s gets the upload: %v, want %s", name, err, want)
		}
		if _, err := client.SignParts(c, &pb.SignPartsRequest{VideoId: id, PartNumbers: []int32{1}}); status.Code(err) != want {
			t.Errorf("%s signs a part: %v, want %s", name, err, want)
		}
		if _, err := client.CompleteUpload(c, &pb.CompleteUploadRequest{VideoId: id}); status.Code(err) != want {
			t.Errorf("%s completes the upload: %v, want %s", name, err, want)
		}
		if _, err := client.AbortUpload(c, &pb.AbortUploadRequest{VideoId: id}); status.Code(err) != want {
			t.Errorf("%s aborts the upload: %v, want %s", name, err, want)
		}
	}
	if _, err := client.GetUpload(as(admin), &pb.GetUploadRequest{VideoId: id}); err != nil {
		t.Errorf("an admin gets the upload: %v", err)
	}

	// Edits: the owner, moderators, admins; a private video is not found
	// by others, a public one is forbidden to them.
	title := func(s string) *pb.UpdateVideoRequest { return &pb.UpdateVideoRequest{Id: id, Title: proto.String(s)} }
	if _, err := client.UpdateVideo(as(other), title("Theirs now")); status.Code(err) != codes.NotFound {
		t.Errorf("another user edits a private video: %v, want NotFound", err)
	}
	if v, err := client.UpdateVideo(as(r.owner), &pb.UpdateVideoRequest{Id: id, Privacy: pb.VideoPrivacy_VIDEO_PRIVACY_PUBLIC}); err != nil || v.GetPrivacy() != pb.VideoPrivacy_VIDEO_PRIVACY_PUBLIC {
		t.Fatalf("the owner makes it public: %v, %v", v, err)
	}
	if _, err := client.UpdateVideo(as(other), title("Theirs now")); status.Code(err) != codes.PermissionDenied {
		t.Errorf("another user edits a public video: %v, want PermissionDenied", err)
	}
	if _, err := client.UpdateVideo(ctx, title("Anyone's")); status.Code(err) != codes.Unauthenticated {
		t.Errorf("an anonymous edit: %v, want Unauthenticated", err)
	}
	if _, err := client.UpdateVideo(readToken, title("Read only")); status.Code(err) != codes.PermissionDenied {
		t.Errorf("an edit with a read-only token: %v, want PermissionDenied", err)
	}
	if v, err := client.UpdateVideo(as(mod), title("  Moderated  ")); err != nil || v.GetTitle() != "Moderated" {
		t.Errorf("a moderator edits: %v, %v", v, err)
	}
	if _, err := client.UpdateVideo(as(r.owner), title("")); status.Code(err) != codes.InvalidArgument {
		t.Errorf("an empty title: %v, want InvalidArgument", err)
	}
	if _, err := client.DeleteVideo(as(other), &pb.DeleteVideoRequest{Id: id}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("another user deletes: %v, want PermissionDenied", err)
	}
	if _, err := client.DeleteVideo(as(r.owner), &pb.DeleteVideoRequest{Id: id}); err != nil {
		t.Fatalf("the owner deletes: %v", err)
	}
	if _, err := client.DeleteVideo(as(r.owner), &pb.DeleteVideoRequest{Id: id}); status.Code(err) != codes.NotFound {
		t.Errorf("deleting again: %v, want NotFound", err)
	}
}

// Quotas hold at create and again at complete, per user, with the
// operator's defaults where an admin set none.
func TestQuotas(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, func(t *testing.T, p *platform.Process) {
		r := newRig(t, p)
		r.svc.limits.StorageQuota, r.svc.limits.DailyQuota = 100, 1000
		ctx := storetest.SignedIn(t.Context(), r.owner)
		up := func(size int64) (*pb.UploadSession, error) {
			return r.svc.CreateUpload(ctx, &pb.CreateUploadRequest{Title: "q", ContentType: "video/mp4", SizeBytes: size})
		}
		if _, err := up(101); status.Code(err) != codes.ResourceExhausted {
			t.Fatalf("an upload over the storage quota: %v, want ResourceExhausted", err)
		}
		first, err := up(60)
		if err != nil {
			t.Fatal(err)
		}
		second, err := up(40)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := up(1); status.Code(err) != codes.ResourceExhausted {
			t.Fatalf("an upload with the quota used up: %v", err)
		}
		// An admin lowers the quota meanwhile: complete checks again.
		low := int64(80)
		if _, err := r.store.UpdateUser(t.Context(), r.owner.ID, account.Change{StorageQuota: &low}); err != nil {
			t.Fatal(err)
		}
		r.put(t, first, make([]byte, 60))
		if _, err := r.svc.CompleteUpload(ctx, &pb.CompleteUploadRequest{VideoId: first.GetVideoId()}); status.Code(err) != codes.ResourceExhausted {
			t.Fatalf("completing over a lowered quota: %v, want ResourceExhausted", err)
		}
		if _, err := r.svc.AbortUpload(ctx, &pb.AbortUploadRequest{VideoId: second.GetVideoId()}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.svc.CompleteUpload(ctx, &pb.CompleteUploadRequest{VideoId: first.GetVideoId()}); err != nil {
			t.Fatalf("completing once the other upload is gone: %v", err)
		}
		// An aborted upload gives back storage but not the day's uploads:
		// 60 + 40 bytes were opened today.
		unlimited, daily := account.Unlimited, int64(150)
		if _, err := r.store.UpdateUser(t.Context(), r.owner.ID, account.Change{StorageQuota: &unlimited, DailyQuota: &daily}); err != nil {
			t.Fatal(err)
		}
		if _, err := up(51); status.Code(err) != codes.ResourceExhausted {
			t.Fatalf("an upload over the daily quota: %v, want ResourceExhausted", err)
		}
		if _, err := up(50); err != nil {
			t.Fatalf("an upload that fills the daily quota: %v", err)
		}
	})
}
