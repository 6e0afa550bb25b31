package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cloudflix/cloudflix/internal/video"
)

func ids(vs []video.Video) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.ID
	}
	return out
}

func testLatestVideos(t *testing.T, s Store) {
	ctx := ctxFor(t)
	base := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	// Seven ready videos, two pairs sharing a creation time (the id breaks ties).
	var want []video.Video
	for i, minute := range []int{0, 1, 1, 2, 3, 3, 4} {
		want = append(want, ready(t, s, draft{title: fmt.Sprintf("Ready %d", i), createdAt: base.Add(time.Duration(minute) * time.Minute)}))
	}
	slices.SortFunc(want, func(a, b video.Video) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return compareStrings(b.ID, a.ID)
	})
	// Newer videos that are not ready never appear.
	newer := base.Add(time.Hour)
	create(t, s, draft{title: "Uploading", createdAt: newer})
	uploaded(t, s, draft{title: "Uploaded", createdAt: newer})
	gone := ready(t, s, draft{title: "Deleted", createdAt: newer})
	if _, err := s.DeleteVideo(ctx, gone.ID); err != nil {
		t.Fatalf("DeleteVideo: %v", err)
	}

	all, err := s.LatestVideos(ctx, 100, video.ListPosition{})
	if err != nil {
		t.Fatalf("LatestVideos: %v", err)
	}
	if !slices.Equal(ids(all), ids(want)) {
		t.Fatalf("LatestVideos = %v, want %v", ids(all), ids(want))
	}
	for _, v := range all {
		if v.State != video.StateReady || len(v.Renditions) != 2 {
			t.Fatalf("listed video %+v, want a ready video with its renditions", v)
		}
	}

	var paged []video.Video
	var after video.ListPosition
	for page := 0; ; page++ {
		vs, err := s.LatestVideos(ctx, 3, after)
		if err != nil {
			t.Fatalf("LatestVideos page %d: %v", page, err)
		}
		if len(vs) > 3 || page > 3 {
			t.Fatalf("page %d has %d videos", page, len(vs))
		}
		if len(vs) == 0 {
			break
		}
		paged = append(paged, vs...)
		last := vs[len(vs)-1]
		after = video.ListPosition{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	if !slices.Equal(ids(paged), ids(want)) {
		t.Fatalf("paged LatestVideos = %v, want %v", ids(paged), ids(want))
	}
	// A position taken from a video in the middle of a tie continues within the tie.
	mid := want[1] // created at minute 3, like want[2]
	vs, err := s.LatestVideos(ctx, 1, video.ListPosition{CreatedAt: mid.CreatedAt, ID: mid.ID})
	if err != nil || len(vs) != 1 || vs[0].ID != want[2].ID {
		t.Fatalf("LatestVideos after %s = %v, %v; want %s", mid.ID, ids(vs), err, want[2].ID)
	}
	if vs, err := s.LatestVideos(ctx, 0, video.ListPosition{}); err != nil || len(vs) != 0 {
		t.Fatalf("LatestVideos(0) = %v, %v; want none", vs, err)
	}
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func testAddViews(t *testing.T, s Store) {
	ctx := ctxFor(t)
	a := ready(t, s, draft{title: "Popular"})
	b := ready(t, s, draft{title: "Less popular"})
	c := ready(t, s, draft{title: "Unwatched"})
	if err := s.AddViews(ctx, map[string]int64{a.ID: 10, b.ID: 3}); err != nil {
		t.Fatalf("AddViews: %v", err)
	}
	// Ids that name no video do not spoil the batch.
	if err := s.AddViews(ctx, map[string]int64{a.ID: 5, uuid.NewString(): 7, "not-a-uuid": 1}); err != nil {
		t.Fatalf("AddViews with unknown ids: %v", err)
	}
	if err := s.AddViews(ctx, nil); err != nil {
		t.Fatalf("AddViews(nil): %v", err)
	}
	for _, w := range []struct {
		v    video.Video
		want int64
	}{{a, 15}, {b, 3}, {c, 0}} {
		if got := get(t, s, w.v.ID).Views; got != w.want {
			t.Fatalf("views of %q = %d, want %d", w.v.Title, got, w.want)
		}
	}
}
