package sqlitestore

import (
	"slices"
	"testing"

	"github.com/cloudflix/cloudflix/internal/video"
)

func TestDocumentWords(t *testing.T) {
	t.Parallel()
	got := documentWords("Blue Lake", []string{"tag-one", "Blue"}, "example.com at 1.5x speed")
	want := []string{"1", "5x", "at", "blue", "com", "example", "lake", "one", "speed", "tag"}
	if !slices.Equal(got, want) {
		t.Fatalf("documentWords = %q, want %q", got, want)
	}
}

// The expected values are what PostgreSQL's pg_trgm answers for
// similarity(a, b).
func TestSimilarityIsPgTrgms(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want float64
	}{
		{"mountain", "mountian", 0.3846154},
		{"mountain", "mountan", 0.54545456},
		{"guitar", "guitat", 0.5555556},
		{"pasta", "pastta", 0.625},
		{"sunrise", "sunrize", 0.45454547},
		{"ab", "abxy", 0.33333334},
		{"glacier", "glaceir", 0.33333334},
		{"volcano", "volcanoe", 0.7},
		{"cat", "category", 0.3},
		{"aaaa", "aaaaaaa", 1},
		{"café", "cafe", 0.42857143},
		{"ayz", "abyz", 0.2857143},
		{"lesson", "guiter", 0},
	} {
		got := similarity(tc.a, tc.b)
		if float32(got) != float32(tc.want) {
			t.Errorf("similarity(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
		if (got >= similarityThreshold) != (tc.want >= 0.3) {
			t.Errorf("similarity(%q, %q) = %v falls on the wrong side of the threshold", tc.a, tc.b, got)
		}
	}
}

// search_words is the vocabulary of READY videos, counted, whatever moves a
// video into or out of ready.
func TestSearchWordsFollowReadyVideos(t *testing.T) {
	t.Parallel()
	s := open(t)
	ctx := testCtx(t)
	words := func() map[string]int {
		t.Helper()
		rows, err := s.r.QueryContext(ctx, "SELECT word, videos FROM search_words")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		got := map[string]int{}
		for rows.Next() {
			var w string
			var n int
			if err := rows.Scan(&w, &n); err != nil {
				t.Fatal(err)
			}
			got[w] = n
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return got
	}
	newVideo(t, s, "Blue Whale", "not ready, not counted")
	a := readyVideo(t, s, "Blue Lake", "at speed", "tag-one")
	b := readyVideo(t, s, "Blue Sky", "", "tag-one")
	want := map[string]int{"blue": 2, "lake": 1, "sky": 1, "tag": 2, "one": 2, "at": 1, "speed": 1}
	if got := words(); !mapsEqual(got, want) {
		t.Fatalf("search_words = %v, want %v", got, want)
	}
	// A video that is not public leaves the vocabulary, and comes back with
	// its privacy.
	for _, p := range []video.Privacy{video.PrivacyUnlisted, video.PrivacyPrivate, video.PrivacyPublic} {
		if _, err := s.UpdateVideo(ctx, b, video.Change{Privacy: &p}); err != nil {
			t.Fatal(err)
		}
		w := map[string]int{"blue": 1, "lake": 1, "tag": 1, "one": 1, "at": 1, "speed": 1}
		if p == video.PrivacyPublic {
			w = want
		}
		if got := words(); !mapsEqual(got, w) {
			t.Fatalf("search_words with %q %s = %v, want %v", "Blue Sky", p, got, w)
		}
	}
	if _, err := s.DeleteVideo(ctx, a); err != nil {
		t.Fatal(err)
	}
	want = map[string]int{"blue": 1, "sky": 1, "tag": 1, "one": 1}
	if got := words(); !mapsEqual(got, want) {
		t.Fatalf("search_words after deleting %q = %v, want %v", "Blue Lake", got, want)
	}
	if _, err := s.Reencode(ctx, b); err != nil {
		t.Fatal(err)
	}
	if got := words(); len(got) != 0 {
		t.Fatalf("search_words with no ready video = %v, want empty", got)
	}
	// The trigram index follows the vocabulary: a typo of a word gone finds
	// nothing, and a word that comes back is found again.
	if w, err := s.nearestWord(ctx, "lakke"); err != nil || w != "" {
		t.Fatalf("nearestWord(lakke) with no ready video = %q, %v", w, err)
	}
	readyVideo(t, s, "Lake Shore", "")
	if w, err := s.nearestWord(ctx, "lakke"); err != nil || w != "lake" {
		t.Fatalf("nearestWord(lakke) = %q, %v; want lake", w, err)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// A word that shares with a typo only the padded trigrams at its start, as
// pg_trgm pads them, is still a candidate: "ab" is 0.33 similar to "abxy".
func TestTypoCandidatesShareOnlyPaddedTrigrams(t *testing.T) {
	t.Parallel()
	s := open(t)
	readyVideo(t, s, "AB testing", "")
	if w, err := s.nearestWord(testCtx(t), "abxy"); err != nil || w != "ab" {
		t.Fatalf("nearestWord(abxy) = %q, %v; want ab", w, err)
	}
	hits, err := s.Search(testCtx(t), "abxy", 10, 0)
	if err != nil || len(hits) != 1 {
		t.Fatalf("Search(abxy) = %v, %v; want AB testing", hits, err)
	}
}

// FTS5 query syntax in a search is nothing but words: no operator, column
// filter or phrase reaches the index.
func TestSearchFTSSyntaxIsWords(t *testing.T) {
	t.Parallel()
	s := open(t)
	ctx := testCtx(t)
	readyVideo(t, s, "Mountain Sunrise", "A calm morning over the hills.")
	readyVideo(t, s, "Guitar Lesson", "Chords for beginners.")
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"mountain OR guitar", nil},  // "or" is a word no video has
		{"guitar AND lesson", nil},   // so is "and"
		{"title:guitar", nil},        // and "title"
		{"NEAR(guitar lesson)", nil}, // and "near"
		{`"guitar"`, []string{"Guitar Lesson"}},
		{"gui*", []string{"Guitar Lesson"}},
		{"^guitar {lesson}", []string{"Guitar Lesson"}},
		{`mountain" OR "guitar`, nil},
		{"-mountain", []string{"Mountain Sunrise"}},
	} {
		hits, err := s.Search(ctx, tc.query, 10, 0)
		if err != nil {
			t.Fatalf("Search(%q): %v", tc.query, err)
		}
		var got []string
		for _, h := range hits {
			got = append(got, h.Video.Title)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Search(%q) = %q, want %q", tc.query, got, tc.want)
		}
		if _, err := s.Suggest(ctx, tc.query, 10); err != nil {
			t.Fatalf("Suggest(%q): %v", tc.query, err)
		}
	}
}
