package hostsvc

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	"github.com/cloudflix/cloudflix/internal/store/storetest"
	"github.com/cloudflix/cloudflix/internal/testenv"
	"github.com/cloudflix/cloudflix/internal/video"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

func TestLikes(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testLikes)
}

func testLikes(t *testing.T, p *platform.Process) {
	f := newFixture(t, p)
	ctx := t.Context()
	owner := storetest.NewUser(t, f.store, testenv.Name("own"), auth.RoleUser)
	fan := storetest.NewUser(t, f.store, testenv.Name("fan"), auth.RoleUser)
	asFan := storetest.SignedIn(ctx, fan)
	public := storetest.ReadyBy(t, f.store, owner.ID, video.PrivacyPublic, "Public")
	private := storetest.ReadyBy(t, f.store, owner.ID, video.PrivacyPrivate, "Private")
	waiting := storetest.UploadedBy(t, f.store, owner.ID, video.PrivacyPublic, "Waiting")

	// The video's info is cached before the like; the like drops it, so
	// the count read next is the new one.
	before, err := f.svc.GetVideo(ctx, &pb.GetVideoRequest{Id: public.ID})
	must(t, err)
	if before.GetLikes() != 0 {
		t.Fatalf("a new video has %d likes", before.GetLikes())
	}
	likes, err := f.svc.LikeVideo(asFan, &pb.LikeVideoRequest{Id: public.ID})
	must(t, err)
	if likes.GetCount() != 1 || !likes.GetLiked() {
		t.Fatalf("LikeVideo = %v, want 1 liked", likes)
	}
	after, err := f.svc.GetVideo(ctx, &pb.GetVideoRequest{Id: public.ID})
	must(t, err)
	if after.GetLikes() != 1 {
		t.Fatalf("after a like the video reads with %d likes, want 1", after.GetLikes())
	}
	got, err := f.svc.GetLikes(asFan, &pb.GetLikesRequest{Id: public.ID})
	must(t, err)
	if got.GetCount() != 1 || !got.GetLiked() {
		t.Fatalf("GetLikes = %v, want 1 liked", got)
	}
	// Liking again changes nothing.
	likes, err = f.svc.LikeVideo(asFan, &pb.LikeVideoRequest{Id: public.ID})
	must(t, err)
	if likes.GetCount() != 1 {
		t.Fatalf("a second like counts %d, want 1", likes.GetCount())
	}
	likes, err = f.svc.UnlikeVideo(asFan, &pb.UnlikeVideoRequest{Id: public.ID})
	must(t, err)
	if likes.GetCount() != 0 || likes.GetLiked() {
		t.Fatalf("UnlikeVideo = %v, want 0 not liked", likes)
	}
	got, err = f.svc.GetLikes(asFan, &pb.GetLikesRequest{Id: public.ID})
	must(t, err)
	if got.GetCount() != 0 || got.GetLiked() {
		t.Fatalf("GetLikes after unlike = %v, want 0 not liked", got)
	}

	// Whether the fan likes it is read from the cache once known: a like
	// written behind the service's back is not seen.
	if _, err := f.store.Like(ctx, public.ID, fan.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	got, err = f.svc.GetLikes(asFan, &pb.GetLikesRequest{Id: public.ID})
	must(t, err)
	if got.GetLiked() {
		t.Fatal("GetLikes went to the database for what the cache held")
	}

	// The owner likes their own private video; nobody else sees it to
	// like it; nobody signed out likes anything.
	if _, err := f.svc.LikeVideo(storetest.SignedIn(ctx, owner), &pb.LikeVideoRequest{Id: private.ID}); err != nil {
		t.Fatalf("the owner likes their private video: %v", err)
	}
	refusals := []struct {
		err  error
		want codes.Code
		what string
	}{
		{likeErr(f, ctx, public.ID), codes.Unauthenticated, "anonymous likes a public video"},
		{getLikesErr(f, ctx, public.ID), codes.Unauthenticated, "anonymous asks about likes"},
		{likeErr(f, asFan, private.ID), codes.NotFound, "another user likes a private video"},
		{getLikesErr(f, asFan, private.ID), codes.NotFound, "another user asks about a private video"},
		{likeErr(f, asFan, waiting.ID), codes.FailedPrecondition, "a like of a video not ready"},
		{likeErr(f, asFan, "0190a1b2-0000-7000-8000-00000000dead"), codes.NotFound, "a like of no video"},
		{likeErr(f, asFan, ""), codes.InvalidArgument, "a like without an id"},
	}
	for _, r := range refusals {
		if got := status.Code(r.err); got != r.want {
			t.Errorf("%s: %v, want %v", r.what, r.err, r.want)
		}
	}
}

func likeErr(f fixture, ctx context.Context, id string) error {
	_, err := f.svc.LikeVideo(ctx, &pb.LikeVideoRequest{Id: id})
	return err
}

func getLikesErr(f fixture, ctx context.Context, id string) error {
	_, err := f.svc.GetLikes(ctx, &pb.GetLikesRequest{Id: id})
	return err
}

// Views (once flushed) and likes rank the trending list, in pages.
func TestTrending(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testTrending)
}

func testTrending(t *testing.T, p *platform.Process) {
	f := newFixture(t, p)
	ctx := t.Context()
	fans := make([]context.Context, 3)
	for i := range fans {
		fans[i] = storetest.SignedIn(ctx, storetest.NewUser(t, f.store, testenv.Name(fmt.Sprintf("fan%d", i)), auth.RoleUser))
	}
	liked := storetest.Ready(t, f.store, "Liked").ID   // 3 likes: 9
	viewed := storetest.Ready(t, f.store, "Viewed").ID // 4 viewers: 4
	once := storetest.Ready(t, f.store, "Once").ID     // 1 viewer, 5 times: 1
	storetest.Ready(t, f.store, "Unwatched")
	for _, fan := range fans {
		_, err := f.svc.LikeVideo(fan, &pb.LikeVideoRequest{Id: liked})
		must(t, err)
	}
	for i := range 4 {
		_, err := f.svc.RecordView(ctx, &pb.RecordViewRequest{Id: viewed, ClientAddress: fmt.Sprintf("192.0.2.%d", i+1)})
		must(t, err)
	}
	for range 5 {
		_, err := f.svc.RecordView(ctx, &pb.RecordViewRequest{Id: once, ClientAddress: "192.0.2.1"})
		must(t, err)
	}
	must(t, f.svc.FlushViews(ctx))

	var seen []string
	cursor := ""
	for {
		resp, err := f.svc.ListVideos(ctx, &pb.ListVideosRequest{Order: pb.ListOrder_LIST_ORDER_TRENDING, PageSize: proto.Int32(2), Cursor: cursor})
		must(t, err)
		for _, v := range resp.GetVideos() {
			seen = append(seen, v.GetTitle())
		}
		if cursor = resp.GetNextCursor(); cursor == "" {
			break
		}
	}
	if fmt.Sprint(seen) != "[Liked Viewed Once]" {
		t.Fatalf("trending = %v, want [Liked Viewed Once]", seen)
	}

	for _, r := range []*pb.ListVideosRequest{
		{Order: pb.ListOrder_LIST_ORDER_TRENDING, Channel: "someone"},
		{Order: pb.ListOrder_LIST_ORDER_TRENDING, Cursor: "not-ours"},
		{Order: pb.ListOrder(7)},
	} {
		if err := list(f, ctx, r); status.Code(err) != codes.InvalidArgument {
			t.Errorf("ListVideos(%v) = %v, want InvalidArgument", r, err)
		}
	}
	// A cursor of the latest list is not one of the trending list.
	latest, err := f.svc.ListVideos(ctx, &pb.ListVideosRequest{PageSize: proto.Int32(1)})
	must(t, err)
	err = list(f, ctx, &pb.ListVideosRequest{Order: pb.ListOrder_LIST_ORDER_TRENDING, Cursor: latest.GetNextCursor()})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("a latest cursor in the trending list: %v, want InvalidArgument", err)
	}
}
