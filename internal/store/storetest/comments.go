package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/testenv"
	"github.com/cloudflix/cloudflix/internal/video"
)

// noCommentLimit lets a test post as many comments as it likes: what it
// tests is not the allowance.
var noCommentLimit = video.CommentRate{}

// AddComment posts body as the user with id author on videoID (a reply
// to parent when it is not ""), at at, for the tests of what stands on a
// store.
func AddComment(t testing.TB, s Store, videoID, author, parent, body string, at time.Time) video.Comment {
	t.Helper()
	c, err := s.AddComment(ctxFor(t), video.Comment{
		VideoID: videoID, AuthorID: author, ParentID: parent, Body: body, CreatedAt: at,
	}, noCommentLimit)
	if err != nil {
		t.Fatalf("AddComment %q: %v", body, err)
	}
	return c
}

func commentBodies(cs []video.Comment) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Body
	}
	return out
}

func wantBodies(t *testing.T, what string, cs []video.Comment, err error, want ...string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if got := strings.Join(commentBodies(cs), "|"); got != strings.Join(want, "|") {
		t.Fatalf("%s = %q, want %q", what, commentBodies(cs), want)
	}
}

func testComments(t *testing.T, s Store) {
	ctx := ctxFor(t)
	v := Ready(t, s, "Talked about")
	ada := NewUser(t, s, testenv.Name("ada"), auth.RoleUser)
	bob := NewUser(t, s, testenv.Name("bob"), auth.RoleUser)
	at := time.Now().Add(-time.Hour)

	first := AddComment(t, s, v.ID, ada.ID, "", "  First!\r\n ", at)
	if first.Body != "First!" || first.AuthorName != ada.Username || first.VideoID != v.ID ||
		!first.TopLevel() || !first.CreatedAt.Equal(at.Truncate(time.Microsecond)) || !first.EditedAt.IsZero() {
		t.Fatalf("AddComment = %+v", first)
	}
	got, err := s.Comment(ctx, first.ID)
	if err != nil || got != first {
		t.Fatalf("Comment = %+v, %v; want %+v", got, err, first)
	}
	second := AddComment(t, s, v.ID, bob.ID, "", "Second", at.Add(time.Second))
	reply := AddComment(t, s, v.ID, bob.ID, first.ID, "A reply", at.Add(2*time.Second))
	if reply.ParentID != first.ID || reply.TopLevel() {
		t.Fatalf("reply = %+v, want a reply to %s", reply, first.ID)
	}
	// A reply to the reply joins the same thread, one level deep.
	deeper := AddComment(t, s, v.ID, ada.ID, reply.ID, "A reply to the reply", at.Add(3*time.Second))
	if deeper.ParentID != first.ID {
		t.Fatalf("a reply to a reply has parent %s, want the thread's %s", deeper.ParentID, first.ID)
	}

	if n := get(t, s, v.ID).Comments; n != 4 {
		t.Fatalf("the video reads with %d comments, want 4", n)
	}
	top, err := s.VideoComments(ctx, v.ID, 10, video.CommentPosition{})
	wantBodies(t, "VideoComments", top, err, "Second", "First!")
	if top[1].Replies != 2 || top[0].Replies != 0 {
		t.Fatalf("reply counts %d, %d; want 0, 2", top[0].Replies, top[1].Replies)
	}
	replies, err := s.CommentReplies(ctx, first.ID, 10, video.CommentPosition{})
	wantBodies(t, "CommentReplies", replies, err, "A reply", "A reply to the reply")

	edited, err := s.EditComment(ctx, second.ID, " Second, edited ", at.Add(time.Minute))
	if err != nil || edited.Body != "Second, edited" || !edited.EditedAt.Equal(at.Add(time.Minute).Truncate(time.Microsecond)) ||
		!edited.CreatedAt.Equal(second.CreatedAt) || edited.AuthorName != bob.Username {
		t.Fatalf("EditComment = %+v, %v", edited, err)
	}
	_, err = s.EditComment(ctx, second.ID, "   ", at)
	if !video.IsInvalid(err) {
		t.Fatalf("an edit to nothing: got %v, want invalid input", err)
	}

	// Removing a reply takes it off both counts; removing a thread takes
	// its replies with it.
	gone, err := s.DeleteComment(ctx, reply.ID)
	if err != nil || gone.ID != reply.ID {
		t.Fatalf("DeleteComment(reply) = %+v, %v", gone, err)
	}
	if c, err := s.Comment(ctx, first.ID); err != nil || c.Replies != 1 {
		t.Fatalf("the thread after a reply went: %+v, %v; want 1 reply", c, err)
	}
	if n := get(t, s, v.ID).Comments; n != 3 {
		t.Fatalf("the video reads with %d comments after a reply went, want 3", n)
	}
	if _, err := s.DeleteComment(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.Comment(ctx, deeper.ID)
	wantErr(t, "a reply in a removed thread", err, video.ErrNotFound)
	_, err = s.DeleteComment(ctx, first.ID)
	wantErr(t, "removing a comment twice", err, video.ErrNotFound)
	if n := get(t, s, v.ID).Comments; n != 1 {
		t.Fatalf("the video reads with %d comments after a thread went, want 1", n)
	}
	top, err = s.VideoComments(ctx, v.ID, 10, video.CommentPosition{})
	wantBodies(t, "VideoComments after removals", top, err, "Second, edited")
	// Each list reads the count with the video.
	latest, err := s.LatestVideos(ctx, 10, video.ListPosition{})
	if err != nil || len(latest) != 1 || latest[0].Comments != 1 {
		t.Fatalf("LatestVideos = %+v, %v; want the video with 1 comment", latest, err)
	}
}

// Comments come newest first, replies oldest first, each page strictly
// after the last one's position, comments at one time ordered by id.
func testCommentsPaging(t *testing.T, s Store) {
	ctx := ctxFor(t)
	v := Ready(t, s, "Many comments")
	ada := NewUser(t, s, testenv.Name("ada"), auth.RoleUser)
	at := time.Now().Add(-time.Hour)
	var want []string
	for i := range 7 {
		// Pairs share a time, so that the id breaks the tie.
		AddComment(t, s, v.ID, ada.ID, "", fmt.Sprintf("c%d", i), at.Add(time.Duration(i/2)*time.Second))
	}
	thread := AddComment(t, s, v.ID, ada.ID, "", "thread", at.Add(time.Minute))
	var wantReplies []string
	for i := range 5 {
		AddComment(t, s, v.ID, ada.ID, thread.ID, fmt.Sprintf("r%d", i), at.Add(time.Duration(i/2)*time.Second))
	}
	all, err := s.VideoComments(ctx, v.ID, 100, video.CommentPosition{})
	if err != nil || len(all) != 8 {
		t.Fatalf("VideoComments = %q, %v; want 8", commentBodies(all), err)
	}
	want = commentBodies(all)
	allReplies, err := s.CommentReplies(ctx, thread.ID, 100, video.CommentPosition{})
	if err != nil || len(allReplies) != 5 {
		t.Fatalf("CommentReplies = %q, %v; want 5", commentBodies(allReplies), err)
	}
	wantReplies = commentBodies(allReplies)
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		if a.CreatedAt.Before(b.CreatedAt) || (a.CreatedAt.Equal(b.CreatedAt) && a.ID < b.ID) {
			t.Fatalf("comments out of order: %q", want)
		}
	}
	for i := 1; i < len(allReplies); i++ {
		a, b := allReplies[i-1], allReplies[i]
		if a.CreatedAt.After(b.CreatedAt) || (a.CreatedAt.Equal(b.CreatedAt) && a.ID > b.ID) {
			t.Fatalf("replies out of order: %q", wantReplies)
		}
	}

	var paged []string
	for after := (video.CommentPosition{}); ; {
		page, err := s.VideoComments(ctx, v.ID, 3, after)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, commentBodies(page)...)
		if len(page) < 3 {
			break
		}
		last := page[len(page)-1]
		after = video.CommentPosition{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	if strings.Join(paged, "|") != strings.Join(want, "|") {
		t.Fatalf("pages of comments %q, want %q", paged, want)
	}
	paged = nil
	for after := (video.CommentPosition{}); ; {
		page, err := s.CommentReplies(ctx, thread.ID, 2, after)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, commentBodies(page)...)
		if len(page) < 2 {
			break
		}
		last := page[len(page)-1]
		after = video.CommentPosition{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	if strings.Join(paged, "|") != strings.Join(wantReplies, "|") {
		t.Fatalf("pages of replies %q, want %q", paged, wantReplies)
	}

	_, err = s.VideoComments(ctx, v.ID, 3, video.CommentPosition{ID: "nope"})
	if !video.IsInvalid(err) {
		t.Fatalf("a position with a bad id: got %v, want invalid input", err)
	}
	_, err = s.CommentReplies(ctx, thread.ID, 3, video.CommentPosition{ID: "nope"})
	if !video.IsInvalid(err) {
		t.Fatalf("a reply position with a bad id: got %v, want invalid input", err)
	}
}

func testCommentsOfWhatIsGone(t *testing.T, s Store) {
	ctx := ctxFor(t)
	v := Ready(t, s, "Gone soon")
	other := Ready(t, s, "Elsewhere")
	ada := NewUser(t, s, testenv.Name("ada"), auth.RoleUser)
	c := AddComment(t, s, v.ID, ada.ID, "", "Here", time.Now())
	post := func(videoID, author, parent string) error {
		_, err := s.AddComment(ctx, video.Comment{VideoID: videoID, AuthorID: author, ParentID: parent, Body: "x"}, noCommentLimit)
		return err
	}
	wantErr(t, "a comment by a user who does not exist", post(v.ID, uuid.NewString(), ""), video.ErrNotFound)
	wantErr(t, "a comment on a video that does not exist", post(uuid.NewString(), ada.ID, ""), video.ErrNotFound)
	wantErr(t, "a reply to a comment that does not exist", post(v.ID, ada.ID, uuid.NewString()), video.ErrNotFound)
	wantErr(t, "a reply to a comment of another video", post(other.ID, ada.ID, c.ID), video.ErrNotFound)
	for _, bad := range []string{"", "not-a-uuid", "0190A1B2-0000-7000-8000-00000000DEAD"} {
		wantErr(t, fmt.Sprintf("a comment on video %q", bad), post(bad, ada.ID, ""), video.ErrNotFound)
		wantErr(t, fmt.Sprintf("a comment by user %q", bad), post(v.ID, bad, ""), video.ErrNotFound)
		_, err := s.Comment(ctx, bad)
		wantErr(t, fmt.Sprintf("comment %q", bad), err, video.ErrNotFound)
		_, err = s.VideoComments(ctx, bad, 10, video.CommentPosition{})
		wantErr(t, fmt.Sprintf("comments of video %q", bad), err, video.ErrNotFound)
		_, err = s.CommentReplies(ctx, bad, 10, video.CommentPosition{})
		wantErr(t, fmt.Sprintf("replies to %q", bad), err, video.ErrNotFound)
		_, err = s.EditComment(ctx, bad, "x", time.Now())
		wantErr(t, fmt.Sprintf("an edit of %q", bad), err, video.ErrNotFound)
		_, err = s.DeleteComment(ctx, bad)
		wantErr(t, fmt.Sprintf("removing %q", bad), err, video.ErrNotFound)
	}
	for _, body := range []string{"", " \n\t ", strings.Repeat("é", video.MaxCommentRunes+1), "bell\a", "\xff"} {
		_, err := s.AddComment(ctx, video.Comment{VideoID: v.ID, AuthorID: ada.ID, Body: body}, noCommentLimit)
		if !video.IsInvalid(err) {
			t.Fatalf("a comment of %q: got %v, want invalid input", body, err)
		}
	}
	AddComment(t, s, v.ID, ada.ID, "", strings.Repeat("é", video.MaxCommentRunes), time.Now())
	if n := get(t, s, v.ID).Comments; n != 2 {
		t.Fatalf("after refused comments the video has %d, want 2", n)
	}
	_, err := s.CommentReplies(ctx, uuid.NewString(), 10, video.CommentPosition{})
	wantErr(t, "replies to a comment that does not exist", err, video.ErrNotFound)

	if _, err := s.DeleteVideo(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "a comment on a deleted video", post(v.ID, ada.ID, ""), video.ErrNotFound)
	_, err = s.VideoComments(ctx, v.ID, 10, video.CommentPosition{})
	wantErr(t, "comments of a deleted video", err, video.ErrNotFound)
}

// Turning comments off refuses new ones and keeps the old readable;
// turning them on again takes them.
func testCommentsOff(t *testing.T, s Store) {
	ctx := ctxFor(t)
	owner := NewUser(t, s, testenv.Name("own"), auth.RoleUser)
	v := ReadyBy(t, s, owner.ID, video.PrivacyPublic, "Quiet")
	if v.CommentsOff {
		t.Fatal("a new video has comments off")
	}
	c := AddComment(t, s, v.ID, owner.ID, "", "Before", time.Now())
	off, on := true, false
	changed, err := s.UpdateVideo(ctx, v.ID, video.Change{CommentsOff: &off})
	if err != nil || !changed.CommentsOff || changed.Title != "Quiet" {
		t.Fatalf("UpdateVideo(comments off) = %+v, %v", changed, err)
	}
	if !get(t, s, v.ID).CommentsOff {
		t.Fatal("the video reads with comments on after they were turned off")
	}
	for _, parent := range []string{"", c.ID} {
		_, err = s.AddComment(ctx, video.Comment{VideoID: v.ID, AuthorID: owner.ID, ParentID: parent, Body: "After"}, noCommentLimit)
		wantErr(t, "a comment while comments are off", err, video.ErrCommentsOff)
	}
	top, err := s.VideoComments(ctx, v.ID, 10, video.CommentPosition{})
	wantBodies(t, "comments while they are off", top, err, "Before")
	// Other changes leave the switch as it is.
	title := "Still quiet"
	if changed, err := s.UpdateVideo(ctx, v.ID, video.Change{Title: &title}); err != nil || !changed.CommentsOff {
		t.Fatalf("UpdateVideo(title) = %+v, %v; want comments still off", changed, err)
	}
	if _, err := s.UpdateVideo(ctx, v.ID, video.Change{CommentsOff: &on}); err != nil {
		t.Fatal(err)
	}
	AddComment(t, s, v.ID, owner.ID, "", "Again", time.Now())
}

// A user's comments spend an allowance that refills with time, shared by
// every video; a refused comment stores nothing, and removing one gives
// nothing back.
func testCommentAllowance(t *testing.T, s Store) {
	ctx := ctxFor(t)
	v := Ready(t, s, "Busy")
	ada := NewUser(t, s, testenv.Name("ada"), auth.RoleUser)
	bob := NewUser(t, s, testenv.Name("bob"), auth.RoleUser)
	rate := video.CommentRate{Burst: 3, Refill: time.Minute}
	at := time.Now()
	post := func(author string, at time.Time) (video.Comment, error) {
		return s.AddComment(ctx, video.Comment{VideoID: v.ID, AuthorID: author, Body: "hi", CreatedAt: at}, rate)
	}
	for i := range rate.Burst {
		c, err := post(ada.ID, at)
		if err != nil {
			t.Fatalf("comment %d of the burst: %v", i+1, err)
		}
		if i == 0 {
			if _, err := s.DeleteComment(ctx, c.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	_, err := post(ada.ID, at.Add(time.Second))
	rl := video.AsRateLimited(err)
	if rl == nil || rl.RetryAfter <= 0 || rl.RetryAfter > time.Minute {
		t.Fatalf("a comment past the burst: got %v, want rate limited within a minute", err)
	}
	if n := get(t, s, v.ID).Comments; n != 2 {
		t.Fatalf("after a refused comment the video has %d, want 2", n)
	}
	if _, err := post(bob.ID, at.Add(time.Second)); err != nil {
		t.Fatalf("another user's comment: %v", err)
	}
	if _, err := post(ada.ID, at.Add(time.Minute+time.Second)); err != nil {
		t.Fatalf("a comment after the refill: %v", err)
	}
	_, err = post(ada.ID, at.Add(time.Minute+2*time.Second))
	if video.AsRateLimited(err) == nil {
		t.Fatalf("a second comment after one refill: got %v, want rate limited", err)
	}
}

// Many users post and remove comments and replies on one video at once:
// the video's count equals the comments it has, and each thread's count
// its replies.
func testConcurrentComments(t *testing.T, s Store) {
	ctx := ctxFor(t)
	v := Ready(t, s, "Raced comments")
	const users, rounds = 12, 6
	ids := make([]string, users)
	for i := range ids {
		ids[i] = NewUser(t, s, testenv.Name(fmt.Sprintf("talker%d", i)), auth.RoleUser).ID
	}
	thread := AddComment(t, s, v.ID, ids[0], "", "The thread", time.Now())
	errs := concurrently(users, func(i int) error {
		for r := range rounds {
			parent := ""
			if r%2 == 1 {
				parent = thread.ID
			}
			c, err := s.AddComment(ctx, video.Comment{
				VideoID: v.ID, AuthorID: ids[i], ParentID: parent, Body: fmt.Sprintf("%d/%d", i, r),
			}, noCommentLimit)
			if err != nil {
				return err
			}
			// Each user removes every third comment of theirs, and the
			// even ones a comment with a reply of theirs under it.
			if r%3 == 2 {
				if _, err := s.DeleteComment(ctx, c.ID); err != nil {
					return err
				}
			}
			if r == rounds-1 && i%2 == 0 {
				top, err := s.AddComment(ctx, video.Comment{VideoID: v.ID, AuthorID: ids[i], Body: "short-lived"}, noCommentLimit)
				if err != nil {
					return err
				}
				if _, err := s.AddComment(ctx, video.Comment{VideoID: v.ID, AuthorID: ids[i], ParentID: top.ID, Body: "under it"}, noCommentLimit); err != nil {
					return err
				}
				if _, err := s.DeleteComment(ctx, top.ID); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent comments: %v", err)
	}
	top, err := s.VideoComments(ctx, v.ID, 1000, video.CommentPosition{})
	if err != nil {
		t.Fatal(err)
	}
	var rows int64
	for _, c := range top {
		replies, err := s.CommentReplies(ctx, c.ID, 1000, video.CommentPosition{})
		if err != nil {
			t.Fatal(err)
		}
		if c.Replies != int64(len(replies)) {
			t.Fatalf("thread %q counts %d replies and has %d", c.Body, c.Replies, len(replies))
		}
		rows += 1 + int64(len(replies))
	}
	// Per user: rounds 0, 2, 4 top-level, 1, 3, 5 replies; 2 and 5 removed.
	const want = 1 + users*(rounds-2)
	if rows != want {
		t.Fatalf("the video has %d comments, want %d", rows, want)
	}
	if n := get(t, s, v.ID).Comments; n != rows {
		t.Fatalf("the video counts %d comments and has %d", n, rows)
	}
}

// One user posting from many places at once spends one allowance: no more
// than the burst gets through.
func testConcurrentCommentAllowance(t *testing.T, s Store) {
	ctx := ctxFor(t)
	v := Ready(t, s, "Flooded")
	ada := NewUser(t, s, testenv.Name("ada"), auth.RoleUser)
	rate := video.CommentRate{Burst: 4, Refill: time.Hour}
	const posts = 12
	errs := concurrently(posts, func(int) error {
		_, err := s.AddComment(ctx, video.Comment{VideoID: v.ID, AuthorID: ada.ID, Body: "spam"}, rate)
		return err
	})
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case video.AsRateLimited(err) == nil:
			t.Fatalf("concurrent posts: unexpected error %v", err)
		}
	}
	if ok != rate.Burst {
		t.Fatalf("%d of %d concurrent posts got through, want the burst of %d", ok, posts, rate.Burst)
	}
	if n := get(t, s, v.ID).Comments; n != int64(rate.Burst) {
		t.Fatalf("the video counts %d comments, want %d", n, rate.Burst)
	}
}
