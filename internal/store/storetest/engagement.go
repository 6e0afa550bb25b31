package storetest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/testenv"
	"github.com/cloudflix/cloudflix/internal/video"
)

func wantLikes(t *testing.T, what string, got video.Likes, err error, want video.Likes) {
	t.Helper()
	if err != nil || got != want {
		t.Fatalf("%s = %+v, %v; want %+v", what, got, err, want)
	}
}

func testLikes(t *testing.T, s Store) {
	ctx := ctxFor(t)
	v := Ready(t, s, "Liked")
	ada := NewUser(t, s, testenv.Name("ada"), auth.RoleUser)
	bob := NewUser(t, s, testenv.Name("bob"), auth.RoleUser)
	now := time.Now()

	got, err := s.Like(ctx, v.ID, ada.ID, now)
	wantLikes(t, "first like", got, err, video.Likes{Count: 1, Liked: true})
	got, err = s.Like(ctx, v.ID, ada.ID, now)
	wantLikes(t, "the same like again", got, err, video.Likes{Count: 1, Liked: true})
	got, err = s.Like(ctx, v.ID, bob.ID, now)
	wantLikes(t, "another user's like", got, err, video.Likes{Count: 2, Liked: true})
	if n := get(t, s, v.ID).Likes; n != 2 {
		t.Fatalf("the video reads with %d likes, want 2", n)
	}
	for _, u := range []string{ada.ID, bob.ID} {
		if liked, err := s.Liked(ctx, v.ID, u); err != nil || !liked {
			t.Fatalf("Liked by %s = %v, %v; want true", u, liked, err)
		}
	}

	got, err = s.Unlike(ctx, v.ID, ada.ID)
	wantLikes(t, "unlike", got, err, video.Likes{Count: 1})
	got, err = s.Unlike(ctx, v.ID, ada.ID)
	wantLikes(t, "the same unlike again", got, err, video.Likes{Count: 1})
	if liked, err := s.Liked(ctx, v.ID, ada.ID); err != nil || liked {
		t.Fatalf("Liked after unlike = %v, %v; want false", liked, err)
	}
	if n := get(t, s, v.ID).Likes; n != 1 {
		t.Fatalf("the video reads with %d likes after an unlike, want 1", n)
	}
	// Each list reads the count with the video.
	latest, err := s.LatestVideos(ctx, 10, video.ListPosition{})
	if err != nil || len(latest) != 1 || latest[0].Likes != 1 {
		t.Fatalf("LatestVideos = %+v, %v; want the video with 1 like", latest, err)
	}
}

func testLikesOfWhatIsGone(t *testing.T, s Store) {
	ctx := ctxFor(t)
	v := Ready(t, s, "Gone soon")
	ada := NewUser(t, s, testenv.Name("ada"), auth.RoleUser)
	if _, err := s.Like(ctx, v.ID, ada.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	_, err := s.Like(ctx, v.ID, uuid.NewString(), time.Now())
	wantErr(t, "a like by a user who does not exist", err, video.ErrNotFound)
	_, err = s.Like(ctx, uuid.NewString(), ada.ID, time.Now())
	wantErr(t, "a like of a video that does not exist", err, video.ErrNotFound)
	for _, bad := range []string{"", "not-a-uuid", "0190A1B2-0000-7000-8000-00000000DEAD"} {
		_, err = s.Like(ctx, bad, ada.ID, time.Now())
		wantErr(t, fmt.Sprintf("a like of video %q", bad), err, video.ErrNotFound)
		_, err = s.Like(ctx, v.ID, bad, time.Now())
		wantErr(t, fmt.Sprintf("a like by user %q", bad), err, video.ErrNotFound)
		_, err = s.Unlike(ctx, bad, ada.ID)
		wantErr(t, fmt.Sprintf("an unlike of video %q", bad), err, video.ErrNotFound)
		if liked, err := s.Liked(ctx, bad, ada.ID); err != nil || liked {
			t.Fatalf("Liked of video %q = %v, %v; want false", bad, liked, err)
		}
	}
	if _, err := s.DeleteVideo(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.Like(ctx, v.ID, ada.ID, time.Now())
	wantErr(t, "a like of a deleted video", err, video.ErrNotFound)
	_, err = s.Unlike(ctx, v.ID, ada.ID)
	wantErr(t, "an unlike of a deleted video", err, video.ErrNotFound)
}

// Many users like and unlike one video at once, each ending liked or not:
// the count is exactly the users who like it, and the trending score is
// exactly what their likes add, as if the others had never liked it.
func testConcurrentLikes(t *testing.T, s Store) {
	ctx := ctxFor(t)
	v := Ready(t, s, "Raced likes")
	const users, moves = 12, 8
	ids := make([]string, users)
	for i := range ids {
		ids[i] = NewUser(t, s, testenv.Name(fmt.Sprintf("fan%d", i)), auth.RoleUser).ID
	}
	at := time.Now()
	errs := concurrently(users, func(i int) error {
		r := rand.New(rand.NewPCG(uint64(i), 7))
		for m := range moves {
			var err error
			// Every user's last move is a like for even users, an unlike
			// for odd ones; the moves before are random.
			like := r.IntN(2) == 0
			if m == moves-1 {
				like = i%2 == 0
			}
			if like {
				_, err = s.Like(ctx, v.ID, ids[i], at)
			} else {
				_, err = s.Unlike(ctx, v.ID, ids[i])
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent likes: %v", err)
		}
	}
	const want = users / 2
	if n := get(t, s, v.ID).Likes; n != want {
		t.Fatalf("after concurrent likes the video has %d, want %d", n, want)
	}
	for i, id := range ids {
		if liked, err := s.Liked(ctx, v.ID, id); err != nil || liked != (i%2 == 0) {
			t.Fatalf("user %d likes it: %v, %v", i, liked, err)
		}
	}
	top, err := s.TrendingVideos(ctx, 10, video.TrendPosition{}, at)
	if err != nil || len(top) != 1 {
		t.Fatalf("TrendingVideos = %+v, %v; want the video", top, err)
	}
	if got := video.TrendScore(top[0].Score, at); math.Abs(got-want*video.LikeWeight) > 1e-6 {
		t.Fatalf("trending score %v, want %v from %d likes", got, want*video.LikeWeight, want)
	}
}

// Trending videos come by their decayed score: views (counted by AddViews
// now) and likes (at the time they were made) add to it, old activity
// counts for less, and only ready public videos with activity since the
// floor are listed.
func testTrending(t *testing.T, s Store) {
	ctx := ctxFor(t)
	owner := NewUser(t, s, testenv.Name("own"), auth.RoleUser)
	fans := make([]string, 4)
	for i := range fans {
		fans[i] = NewUser(t, s, testenv.Name(fmt.Sprintf("fan%d", i)), auth.RoleUser).ID
	}
	viewed := ReadyBy(t, s, owner.ID, video.PrivacyPublic, "Viewed")   // 5 views: 5
	liked := ReadyBy(t, s, owner.ID, video.PrivacyPublic, "Liked")     // 2 likes, 1 view: 7
	faded := ReadyBy(t, s, owner.ID, video.PrivacyPublic, "Faded")     // 4 likes two days ago: 3
	gone := ReadyBy(t, s, owner.ID, video.PrivacyPublic, "Long ago")   // a like ten days ago
	private := ReadyBy(t, s, owner.ID, video.PrivacyPrivate, "Hidden") // 50 views
	unlisted := ReadyBy(t, s, owner.ID, video.PrivacyUnlisted, "By link")
	waiting := UploadedBy(t, s, owner.ID, video.PrivacyPublic, "Waiting")
	ReadyBy(t, s, owner.ID, video.PrivacyPublic, "Unwatched")

	now := time.Now()
	if err := s.AddViews(ctx, map[string]int64{viewed.ID: 5, liked.ID: 1, private.ID: 50, unlisted.ID: 50, waiting.ID: 50}); err != nil {
		t.Fatal(err)
	}
	for _, fan := range fans[:2] {
		if _, err := s.Like(ctx, liked.ID, fan, now); err != nil {
			t.Fatal(err)
		}
	}
	for _, fan := range fans {
		if _, err := s.Like(ctx, faded.ID, fan, now.Add(-2*video.TrendHalfLife)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Like(ctx, gone.ID, fans[0], now.Add(-10*video.TrendHalfLife)); err != nil {
		t.Fatal(err)
	}

	top, err := s.TrendingVideos(ctx, 10, video.TrendPosition{}, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		id    string
		score float64
	}{{liked.ID, 7}, {viewed.ID, 5}, {faded.ID, 3}}
	if len(top) != len(want) {
		t.Fatalf("trending = %v, want %d videos", trendTitles(top), len(want))
	}
	for i, w := range want {
		got := top[i]
		// Views are scored when AddViews ran, a moment after now.
		if score := video.TrendScore(got.Score, now); got.Video.ID != w.id || math.Abs(score-w.score) > 0.01 {
			t.Fatalf("trending #%d = %q scoring %v, want %s scoring %v (all: %v)", i+1, got.Video.Title, score, w.id, w.score, trendTitles(top))
		}
	}
	if top[0].Video.Likes != 2 || top[1].Video.Views != 5 {
		t.Fatalf("trending videos read without their counts: %+v", top[:2])
	}

	// Unliking takes a like's share away, so the order follows.
	for _, fan := range fans[:2] {
		if _, err := s.Unlike(ctx, liked.ID, fan); err != nil {
			t.Fatal(err)
		}
	}
	top, err = s.TrendingVideos(ctx, 10, video.TrendPosition{}, now)
	if err != nil || len(top) != 3 || top[0].Video.ID != viewed.ID || top[2].Video.ID != liked.ID {
		t.Fatalf("after the unlikes trending = %v, %v; want Viewed, Faded, Liked", trendTitles(top), err)
	}
	if score := video.TrendScore(top[2].Score, now); math.Abs(score-1) > 0.01 {
		t.Fatalf("after its likes were undone the video scores %v, want its one view", score)
	}
	// Four days on, views count for a sixteenth: the single view of
	// Liked (1/16) is below the floor, Faded's likes (12/64) not yet.
	later, err := s.TrendingVideos(ctx, 10, video.TrendPosition{}, now.Add(4*video.TrendHalfLife))
	if err != nil || len(later) != 2 || later[0].Video.ID != viewed.ID || later[1].Video.ID != faded.ID {
		t.Fatalf("four days on trending = %v, %v; want Viewed, Faded", trendTitles(later), err)
	}
}

func testTrendingPaging(t *testing.T, s Store) {
	ctx := ctxFor(t)
	counts := map[string]int64{}
	var want []string
	for i := range 5 {
		v := Ready(t, s, fmt.Sprintf("Paged %d", i))
		counts[v.ID] = int64(10 - i)
		want = append(want, v.ID)
	}
	// Two with the same score are ordered by id, descending.
	tie := Ready(t, s, "Tied")
	counts[tie.ID] = 8
	if tie.ID > want[2] {
		want = append(want[:2], append([]string{tie.ID}, want[2:]...)...)
	} else {
		want = append(want[:3], append([]string{tie.ID}, want[3:]...)...)
	}
	if err := s.AddViews(ctx, counts); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var got []string
	var after video.TrendPosition
	for {
		page, err := s.TrendingVideos(ctx, 4, after, now)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page {
			got = append(got, p.Video.ID)
		}
		if len(page) < 4 {
			break
		}
		last := page[len(page)-1]
		after = video.TrendPosition{Score: last.Score, ID: last.Video.ID}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("pages = %v, want %v", got, want)
	}
	_, err := s.TrendingVideos(ctx, 4, video.TrendPosition{Score: 1, ID: "nope"}, now)
	if !video.IsInvalid(err) {
		t.Fatalf("a position with a malformed id: %v, want invalid input", err)
	}
	_, err = s.TrendingVideos(ctx, 4, video.TrendPosition{Score: math.NaN(), ID: tie.ID}, now)
	if !video.IsInvalid(err) {
		t.Fatalf("a position with no score: %v, want invalid input", err)
	}
}

func trendTitles(ts []video.Trending) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Video.Title
	}
	return out
}

var _ store.Engagement = Store(nil)
