package hostsvc

import (
	"context"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	"github.com/cloudflix/cloudflix/internal/store/storetest"
	"github.com/cloudflix/cloudflix/internal/testenv"
	"github.com/cloudflix/cloudflix/internal/video"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

func TestComments(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testComments)
}

func testComments(t *testing.T, p *platform.Process) {
	f := newFixture(t, p)
	svc := NewComments(f.svc, f.store, video.DefaultCommentRate)
	ctx := t.Context()
	owner := storetest.NewUser(t, f.store, testenv.Name("own"), auth.RoleUser)
	fan := storetest.NewUser(t, f.store, testenv.Name("fan"), auth.RoleUser)
	other := storetest.NewUser(t, f.store, testenv.Name("other"), auth.RoleUser)
	mod := storetest.NewUser(t, f.store, testenv.Name("mod"), auth.RoleModerator)
	asOwner, asFan, asOther, asMod := storetest.SignedIn(ctx, owner), storetest.SignedIn(ctx, fan), storetest.SignedIn(ctx, other), storetest.SignedIn(ctx, mod)
	public := storetest.ReadyBy(t, f.store, owner.ID, video.PrivacyPublic, "Public")
	private := storetest.ReadyBy(t, f.store, owner.ID, video.PrivacyPrivate, "Private")
	waiting := storetest.UploadedBy(t, f.store, owner.ID, video.PrivacyPublic, "Waiting")

	// The video's info is cached before the comment; the comment drops
	// it, so the count read next is the new one.
	before, err := f.svc.GetVideo(ctx, &pb.GetVideoRequest{Id: public.ID})
	must(t, err)
	if before.GetComments() != 0 || before.GetCommentsOff() {
		t.Fatalf("a new video: %d comments, off %v", before.GetComments(), before.GetCommentsOff())
	}
	c, err := svc.PostComment(asFan, &pb.PostCommentRequest{VideoId: public.ID, Body: "  Nice <b>video</b>  "})
	must(t, err)
	if c.GetBody() != "Nice <b>video</b>" || c.GetAuthorUsername() != fan.Username || !c.GetCanEdit() || !c.GetCanDelete() {
		t.Fatalf("PostComment = %v", c)
	}
	after, err := f.svc.GetVideo(ctx, &pb.GetVideoRequest{Id: public.ID})
	must(t, err)
	if after.GetComments() != 1 {
		t.Fatalf("after a comment the video reads with %d, want 1", after.GetComments())
	}
	reply, err := svc.PostComment(asOwner, &pb.PostCommentRequest{VideoId: public.ID, Body: "Thanks", ParentId: c.GetId()})
	must(t, err)
	if reply.GetParentId() != c.GetId() {
		t.Fatalf("reply = %v", reply)
	}

	// A visitor reads the comments and may change none of them.
	page, err := svc.ListComments(ctx, &pb.ListCommentsRequest{VideoId: public.ID})
	must(t, err)
	if len(page.GetComments()) != 1 || page.GetTotal() != 2 || page.GetCanPost() || page.GetComments()[0].GetReplies() != 1 ||
		page.GetComments()[0].GetCanEdit() || page.GetComments()[0].GetCanDelete() {
		t.Fatalf("ListComments for a visitor = %v", page)
	}
	page, err = svc.ListComments(asOther, &pb.ListCommentsRequest{VideoId: public.ID})
	must(t, err)
	if !page.GetCanPost() || page.GetComments()[0].GetCanDelete() {
		t.Fatalf("ListComments for another user = %v", page)
	}
	replies, err := svc.ListReplies(asOwner, &pb.ListRepliesRequest{CommentId: c.GetId()})
	must(t, err)
	if len(replies.GetComments()) != 1 || replies.GetComments()[0].GetBody() != "Thanks" || replies.GetTotal() != 1 {
		t.Fatalf("ListReplies = %v", replies)
	}
	_, err = svc.ListReplies(ctx, &pb.ListRepliesRequest{CommentId: reply.GetId()})
	wantCode(t, "replies to a reply", err, codes.InvalidArgument)

	// Who may do what.
	_, err = svc.PostComment(ctx, &pb.PostCommentRequest{VideoId: public.ID, Body: "anon"})
	wantCode(t, "a visitor's comment", err, codes.Unauthenticated)
	_, err = svc.PostComment(asFan, &pb.PostCommentRequest{VideoId: private.ID, Body: "sneaky"})
	wantCode(t, "a comment on someone else's private video", err, codes.NotFound)
	_, err = svc.ListComments(asFan, &pb.ListCommentsRequest{VideoId: private.ID})
	wantCode(t, "the comments of someone else's private video", err, codes.NotFound)
	_, err = svc.PostComment(asOwner, &pb.PostCommentRequest{VideoId: waiting.ID, Body: "soon"})
	wantCode(t, "a comment on a video not ready", err, codes.FailedPrecondition)
	readToken := auth.NewContext(ctx, auth.Principal{UserID: fan.ID, Username: fan.Username, Role: auth.RoleUser, Scopes: []auth.Scope{auth.ScopeRead}})
	_, err = svc.PostComment(readToken, &pb.PostCommentRequest{VideoId: public.ID, Body: "by token"})
	wantCode(t, "a comment through a read token", err, codes.PermissionDenied)
	for _, body := range []string{"", "   ", string(make([]rune, video.MaxCommentRunes+1))} {
		_, err = svc.PostComment(asFan, &pb.PostCommentRequest{VideoId: public.ID, Body: body})
		wantCode(t, "a bad body", err, codes.InvalidArgument)
	}
	_, err = svc.EditComment(asOwner, &pb.EditCommentRequest{Id: c.GetId(), Body: "rewritten"})
	wantCode(t, "the video's owner editing a fan's comment", err, codes.PermissionDenied)
	_, err = svc.EditComment(ctx, &pb.EditCommentRequest{Id: c.GetId(), Body: "rewritten"})
	wantCode(t, "a visitor editing", err, codes.Unauthenticated)
	_, err = svc.DeleteComment(asOther, &pb.DeleteCommentRequest{Id: c.GetId()})
	wantCode(t, "another user removing a comment", err, codes.PermissionDenied)
	edited, err := svc.EditComment(asFan, &pb.EditCommentRequest{Id: c.GetId(), Body: "Nice video, edited"})
	must(t, err)
	if edited.GetBody() != "Nice video, edited" || edited.GetEditedAt() == nil {
		t.Fatalf("EditComment = %v", edited)
	}
	// The video's owner removes the reply, a moderator the fan's thread.
	_, err = svc.DeleteComment(asOwner, &pb.DeleteCommentRequest{Id: reply.GetId()})
	must(t, err)
	mine, err := svc.PostComment(asOther, &pb.PostCommentRequest{VideoId: public.ID, Body: "mine"})
	must(t, err)
	_, err = svc.DeleteComment(asOther, &pb.DeleteCommentRequest{Id: mine.GetId()})
	must(t, err)
	_, err = svc.DeleteComment(asMod, &pb.DeleteCommentRequest{Id: c.GetId()})
	must(t, err)
	_, err = svc.DeleteComment(asMod, &pb.DeleteCommentRequest{Id: c.GetId()})
	wantCode(t, "removing a removed comment", err, codes.NotFound)
	gone, err := f.svc.GetVideo(ctx, &pb.GetVideoRequest{Id: public.ID})
	must(t, err)
	if gone.GetComments() != 0 {
		t.Fatalf("after every comment went the video reads with %d", gone.GetComments())
	}

	// A comment under a video that became private is not found by others.
	secret, err := svc.PostComment(asOwner, &pb.PostCommentRequest{VideoId: private.ID, Body: "note to self"})
	must(t, err)
	_, err = svc.DeleteComment(asFan, &pb.DeleteCommentRequest{Id: secret.GetId()})
	wantCode(t, "removing a comment under someone else's private video", err, codes.NotFound)
	_, err = svc.ListReplies(asFan, &pb.ListRepliesRequest{CommentId: secret.GetId()})
	wantCode(t, "replies under someone else's private video", err, codes.NotFound)
}

func TestCommentsOffAndRateLimit(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testCommentsOffAndRateLimit)
}

func testCommentsOffAndRateLimit(t *testing.T, p *platform.Process) {
	f := newFixture(t, p)
	rate := video.CommentRate{Burst: 2, Refill: time.Hour}
	svc := NewComments(f.svc, f.store, rate)
	ctx := t.Context()
	owner := storetest.NewUser(t, f.store, testenv.Name("own"), auth.RoleUser)
	fan := storetest.NewUser(t, f.store, testenv.Name("fan"), auth.RoleUser)
	asFan := storetest.SignedIn(ctx, fan)
	v := storetest.ReadyBy(t, f.store, owner.ID, video.PrivacyPublic, "Quiet")
	post := func(ctx context.Context) error {
		_, err := svc.PostComment(ctx, &pb.PostCommentRequest{VideoId: v.ID, Body: "hello"})
		return err
	}
	must(t, post(asFan))
	off := true
	_, err := f.store.UpdateVideo(ctx, v.ID, video.Change{CommentsOff: &off})
	must(t, err)
	must(t, f.cache.Invalidate(ctx, v.ID))
	err = post(asFan)
	wantCode(t, "a comment while comments are off", err, codes.FailedPrecondition)
	if st, _ := status.FromError(err); st.Message() != video.ErrCommentsOff.Error() {
		t.Fatalf("comments off reads %q", st.Message())
	}
	page, err := svc.ListComments(asFan, &pb.ListCommentsRequest{VideoId: v.ID})
	must(t, err)
	if !page.GetCommentsOff() || page.GetCanPost() || len(page.GetComments()) != 1 {
		t.Fatalf("ListComments with comments off = %v", page)
	}
	on := false
	_, err = f.store.UpdateVideo(ctx, v.ID, video.Change{CommentsOff: &on})
	must(t, err)
	must(t, f.cache.Invalidate(ctx, v.ID))
	must(t, post(asFan))
	err = post(asFan)
	wantCode(t, "a comment past the allowance", err, codes.ResourceExhausted)
	st, _ := status.FromError(err)
	var wait time.Duration
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			wait = ri.GetRetryDelay().AsDuration()
		}
	}
	if wait <= 0 || wait > time.Hour {
		t.Fatalf("a refused comment says to wait %v, want up to an hour", wait)
	}
}

func TestCommentCursors(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"x", "eyJ9", encodeCommentCursor(video.Comment{ID: "a"})} {
		if _, err := decodeCommentCursor(bad); !video.IsInvalid(err) {
			t.Errorf("cursor %q: got %v, want invalid input", bad, err)
		}
	}
	c := video.Comment{ID: "0190a1b2-0000-7000-8000-000000000001", CreatedAt: time.Unix(1_700_000_000, 123000).UTC()}
	got, err := decodeCommentCursor(encodeCommentCursor(c))
	if err != nil || got.ID != c.ID || !got.CreatedAt.Equal(c.CreatedAt) {
		t.Fatalf("round trip = %+v, %v", got, err)
	}
}
