package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/cloudflix/cloudflix/internal/video"
)

func titles(hits []video.SearchHit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.Video.Title
	}
	return out
}

func search(t *testing.T, s Store, query string) []video.SearchHit {
	t.Helper()
	hits, err := s.Search(ctxFor(t), query, 20, 0)
	if err != nil {
		t.Fatalf("Search(%q): %v", query, err)
	}
	return hits
}

// wantFound checks that query finds exactly the titles, in any order.
func wantFound(t *testing.T, s Store, query string, want ...string) []video.SearchHit {
	t.Helper()
	hits := search(t, s, query)
	got := slices.Sorted(slices.Values(titles(hits)))
	w := slices.Sorted(slices.Values(want))
	if !slices.Equal(got, w) {
		t.Fatalf("Search(%q) found %q, want %q", query, titles(hits), want)
	}
	for _, h := range hits {
		if h.Video.State != video.StateReady {
			t.Fatalf("Search(%q) found a video in state %s", query, h.Video.State)
		}
	}
	return hits
}

// catalogue is what the search tests search in.
func catalogue(t *testing.T, s Store) {
	t.Helper()
	ready(t, s, draft{title: "Mountain Sunrise", description: "A calm morning over the hills.", tags: []string{"nature", "timelapse"}})
	ready(t, s, draft{title: "City Lights at Night", description: "A drive past the mountain road.", tags: []string{"urban"}})
	ready(t, s, draft{title: "Cooking Pasta", description: "Grandma's recipe, step by step.", tags: []string{"food", "italian"}})
	ready(t, s, draft{title: "Guitar Lesson", description: "Chords for beginners.", tags: []string{"music", "tutorial"}})
}

func testSearchWords(t *testing.T, s Store) {
	catalogue(t, s)
	wantFound(t, s, "sunrise", "Mountain Sunrise")
	wantFound(t, s, "SUNRISE", "Mountain Sunrise")
	wantFound(t, s, "timelapse", "Mountain Sunrise") // a tag
	wantFound(t, s, "recipe", "Cooking Pasta")       // the description
	wantFound(t, s, "grandma", "Cooking Pasta")      // "Grandma's"
	wantFound(t, s, "mountain", "Mountain Sunrise", "City Lights at Night")
	wantFound(t, s, "pasta italian", "Cooking Pasta")   // every word, anywhere
	wantFound(t, s, "pasta guitar")                     // every word must match
	wantFound(t, s, "cooking, pasta!", "Cooking Pasta") // punctuation separates words
	wantFound(t, s, "zzzqqxx")                          // no such word
	wantFound(t, s, "chords beginners", "Guitar Lesson")
}

func testSearchPrefix(t *testing.T, s Store) {
	catalogue(t, s)
	wantFound(t, s, "moun", "Mountain Sunrise", "City Lights at Night")
	wantFound(t, s, "mountain sun", "Mountain Sunrise") // the last word as typed so far
	wantFound(t, s, "moun sunr", "Mountain Sunrise")    // every word as a prefix
	wantFound(t, s, "gui", "Guitar Lesson")
	wantFound(t, s, "tutor", "Guitar Lesson") // a tag's prefix
	wantFound(t, s, "c", "City Lights at Night", "Cooking Pasta", "Mountain Sunrise", "Guitar Lesson")
}

func testSearchTypo(t *testing.T, s Store) {
	catalogue(t, s)
	wantFound(t, s, "mountian", "Mountain Sunrise", "City Lights at Night") // swapped letters
	wantFound(t, s, "mountan", "Mountain Sunrise", "City Lights at Night")  // a missing letter
	wantFound(t, s, "guitat", "Guitar Lesson")                              // a wrong letter
	wantFound(t, s, "pastta", "Cooking Pasta")                              // an extra letter
	wantFound(t, s, "sunrize", "Mountain Sunrise")
	wantFound(t, s, "cookng pasta", "Cooking Pasta") // one word of several
	wantFound(t, s, "lesson guiter", "Guitar Lesson")
	// A typo is corrected to a word of a READY video only.
	ready(t, s, draft{title: "Volcano Eruption"})
	wantFound(t, s, "volcanoe", "Volcano Eruption")
	hidden := uploaded(t, s, draft{title: "Glacier Walk"})
	wantFound(t, s, "glaceir")
	ctx := ctxFor(t)
	if _, err := s.ClaimEncode(ctx, hidden.ID, "w1", longLease); err != nil {
		t.Fatalf("ClaimEncode: %v", err)
	}
	if _, err := s.MarkReady(ctx, hidden.ID, "w1", testEncoded); err != nil {
		t.Fatalf("MarkReady: %v", err)
	}
	wantFound(t, s, "glaceir", "Glacier Walk")
	if _, err := s.DeleteVideo(ctx, hidden.ID); err != nil {
		t.Fatalf("DeleteVideo: %v", err)
	}
	wantFound(t, s, "glaceir")
	wantFound(t, s, "glacier")
}

func testSearchRanking(t *testing.T, s Store) {
	// Created in the order least to most relevant, so that ranking, not
	// recency, has to put them right.
	ready(t, s, draft{title: "Sunset Drive", description: "We passed a river, then another river, and a river again."})
	ready(t, s, draft{title: "Fishing Trip", tags: []string{"river", "outdoors"}})
	ready(t, s, draft{title: "River Rapids", description: "White water."})
	hits := search(t, s, "river")
	want := []string{"River Rapids", "Fishing Trip", "Sunset Drive"}
	if !slices.Equal(titles(hits), want) {
		t.Fatalf("Search(river) = %q, want title > tag > description: %q", titles(hits), want)
	}
	for i := 1; i < len(hits); i++ {
		if hits[i].Score >= hits[i-1].Score || hits[i].Score <= 0 {
			t.Fatalf("scores %v and %v are not positive and decreasing", hits[i-1].Score, hits[i].Score)
		}
	}
	// A prefix match still ranks a title above a description.
	hits = search(t, s, "riv")
	if len(hits) != 3 || hits[0].Video.Title != "River Rapids" {
		t.Fatalf("Search(riv) = %q, want River Rapids first", titles(hits))
	}
	// A whole word ranks above a longer word it merely begins.
	ready(t, s, draft{title: "Cat Videos"})
	ready(t, s, draft{title: "Category Theory"})
	hits = search(t, s, "cat")
	if len(hits) != 2 || hits[0].Video.Title != "Cat Videos" {
		t.Fatalf("Search(cat) = %q, want Cat Videos first", titles(hits))
	}
}

func testSearchReadyOnly(t *testing.T, s Store) {
	ctx := ctxFor(t)
	d := draft{title: "Aurora Borealis", description: "northern lights", tags: []string{"sky"}}
	create(t, s, d)
	uploaded(t, s, d)
	busy := uploaded(t, s, d)
	if _, err := s.ClaimEncode(ctx, busy.ID, "w1", longLease); err != nil {
		t.Fatalf("ClaimEncode: %v", err)
	}
	broken := uploaded(t, s, d)
	if _, err := s.ClaimEncode(ctx, broken.ID, "w1", longLease); err != nil {
		t.Fatalf("ClaimEncode: %v", err)
	}
	if _, err := s.MarkFailed(ctx, broken.ID, "w1", "corrupt"); err != nil {
		t.Fatalf("MarkFailed: %v", err)
	}
	for _, q := range []string{"aurora", "auro", "aurorra", "northern", "sky"} {
		wantFound(t, s, q)
	}
	if sug, err := s.Suggest(ctx, "aur", 10); err != nil || len(sug) != 0 {
		t.Fatalf("Suggest(aur) = %q, %v; want none", sug, err)
	}
	r := ready(t, s, d)
	wantFound(t, s, "aurora", "Aurora Borealis")
	// Back to uploaded for a re-encode: out of search until ready again.
	if _, err := s.Reencode(ctx, r.ID); err != nil {
		t.Fatalf("Reencode: %v", err)
	}
	wantFound(t, s, "aurora")
}

func testSearchSanitisesQuery(t *testing.T, s Store) {
	catalogue(t, s)
	ctx := ctxFor(t)
	for _, q := range []string{
		"", "   ", "a & | ! ( ':*", "&", "!!!", "'", ":*", "()", `\`, "<->", "mountain & !", "moun:*A | x",
		"mountain' | 'sunrise", "((((", "--", "; DROP TABLE videos; --", "\x00", "🎸",
	} {
		if _, err := s.Search(ctx, q, 10, 0); err != nil {
			t.Fatalf("Search(%q): %v", q, err)
		}
		if _, err := s.Suggest(ctx, q, 10); err != nil {
			t.Fatalf("Suggest(%q): %v", q, err)
		}
	}
	for _, q := range []string{"", "   ", "&|!", "()"} {
		if hits := search(t, s, q); len(hits) != 0 {
			t.Fatalf("Search(%q) = %q, want no hits", q, titles(hits))
		}
	}
	// Operators in a query are just separators between its words.
	wantFound(t, s, "mountain & !sunrise", "Mountain Sunrise")
	wantFound(t, s, "(guitar|lesson)", "Guitar Lesson")
	wantFound(t, s, "moun:*", "Mountain Sunrise", "City Lights at Night")
}

func testSearchPaging(t *testing.T, s Store) {
	ctx := ctxFor(t)
	for i := range 7 {
		ready(t, s, draft{title: fmt.Sprintf("Episode %d", i+1), tags: []string{"series"}})
	}
	ready(t, s, draft{title: "Unrelated"})
	seen := map[string]bool{}
	for offset := 0; offset < 9; offset += 3 {
		hits, err := s.Search(ctx, "series", 3, offset)
		if err != nil {
			t.Fatalf("Search offset %d: %v", offset, err)
		}
		wantLen := min(3, 7-offset)
		if len(hits) != wantLen {
			t.Fatalf("Search offset %d returned %d hits, want %d", offset, len(hits), wantLen)
		}
		for _, h := range hits {
			if seen[h.Video.ID] {
				t.Fatalf("video %q on two pages", h.Video.Title)
			}
			seen[h.Video.ID] = true
		}
	}
	if len(seen) != 7 {
		t.Fatalf("pages held %d videos, want 7", len(seen))
	}
	if hits, err := s.Search(ctx, "series", 3, 7); err != nil || len(hits) != 0 {
		t.Fatalf("Search past the end = %v, %v", titles(hits), err)
	}
	if hits, err := s.Search(ctx, "series", 0, 0); err != nil || len(hits) != 0 {
		t.Fatalf("Search with limit 0 = %v, %v", titles(hits), err)
	}
}

func testSuggest(t *testing.T, s Store) {
	catalogue(t, s)
	ctx := ctxFor(t)
	// Two ready videos with one title: suggested once.
	ready(t, s, draft{title: "Cooking Pasta", description: "Second take."})
	ready(t, s, draft{title: "Cooking Rice"})
	suggest := func(prefix string, limit int) []string {
		t.Helper()
		got, err := s.Suggest(ctx, prefix, limit)
		if err != nil {
			t.Fatalf("Suggest(%q): %v", prefix, err)
		}
		return got
	}
	// Titles only: "mountain" is also in a description, which is not suggested.
	if got := suggest("moun", 10); !slices.Equal(got, []string{"Mountain Sunrise"}) {
		t.Fatalf("Suggest(moun) = %q", got)
	}
	if got := suggest("city li", 10); !slices.Equal(got, []string{"City Lights at Night"}) {
		t.Fatalf("Suggest(city li) = %q", got)
	}
	got := suggest("cook", 10)
	if !slices.Equal(slices.Sorted(slices.Values(got)), []string{"Cooking Pasta", "Cooking Rice"}) {
		t.Fatalf("Suggest(cook) = %q, want each title once", got)
	}
	if got := suggest("cook", 1); len(got) != 1 {
		t.Fatalf("Suggest(cook, 1) = %q, want one title", got)
	}
	if got := suggest("cooking r", 10); !slices.Equal(got, []string{"Cooking Rice"}) {
		t.Fatalf("Suggest(cooking r) = %q", got)
	}
	if got := suggest("", 10); len(got) != 0 {
		t.Fatalf("Suggest(\"\") = %q, want none", got)
	}
	if got := suggest("xyzzyq", 10); len(got) != 0 {
		t.Fatalf("Suggest(xyzzyq) = %q, want none", got)
	}
}
