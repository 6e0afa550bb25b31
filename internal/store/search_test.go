package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestQueryWords(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", []string{}},
		{"a & | ! ( ':*", []string{"a"}},
		{"Mountain  SUNRISE", []string{"mountain", "sunrise"}},
		{"moun:*A | x<->y", []string{"moun", "a", "x", "y"}},
		{`"quoted" NEAR(a b) title:x ^y {z}`, []string{"quoted", "near", "a", "b", "title", "x", "y", "z"}},
		{"Grandma's h264 recipe, 2024!", []string{"grandma", "s", "h264", "recipe", "2024"}},
		{"café naïve", []string{"café", "naïve"}},
		{"dup dup Dup", []string{"dup"}},
		{"\u0301abc", []string{"abc"}},
		{"one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen",
			[]string{"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen"}},
	} {
		if got := QueryWords(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("QueryWords(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestResolveWord(t *testing.T) {
	t.Parallel()
	nearest := func(w string) (string, error) {
		if w == "mountian" {
			return "mountain", nil
		}
		return "", nil
	}
	for _, tc := range []struct {
		word        string
		completions []string
		want        Term
	}{
		{"moun", []string{"mountain", "mount"}, Term{Word: "moun", Prefix: true, Words: []string{"mountain", "mount"}}},
		{"mountian", nil, Term{Word: "mountain", Words: []string{"mountain"}}},
		{"zzzzz", nil, Term{Word: "zzzzz", Prefix: true}},
		// Too short to be taken for a typo: nearest is not asked.
		{"mou", nil, Term{Word: "mou", Prefix: true}},
	} {
		got, err := ResolveWord(tc.word, tc.completions, func(w string) (string, error) {
			if len([]rune(w)) < minTypoRunes || len(tc.completions) > 0 {
				t.Errorf("ResolveWord(%q, %q) asked for the nearest word", tc.word, tc.completions)
			}
			return nearest(w)
		})
		if err != nil || got.Word != tc.want.Word || got.Prefix != tc.want.Prefix || !slices.Equal(got.Words, tc.want.Words) {
			t.Errorf("ResolveWord(%q, %q) = %+v, %v; want %+v", tc.word, tc.completions, got, err, tc.want)
		}
	}
	boom := errors.New("boom")
	if _, err := ResolveWord("mountian", nil, func(string) (string, error) { return "", boom }); !errors.Is(err, boom) {
		t.Errorf("ResolveWord with a failing lookup: %v", err)
	}
	if Matchable([]Term{{Word: "a", Words: []string{"a"}}, {Word: "zzzzz", Prefix: true}}) || Matchable(nil) {
		t.Error("Matchable holds of terms one of which matches nothing")
	}
}

// Rank weighs where each term is found, title > tags > description, whole
// words above the beginnings of longer ones, then views and recency.
func TestRank(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	river := []Term{{Word: "river", Prefix: true, Words: []string{"river", "rivers"}}}
	candidates := []Candidate{
		{ID: "desc", Title: "Sunset Drive", CreatedAt: day},
		{ID: "tag", Title: "Fishing Trip", Tags: []string{"river", "outdoors"}, CreatedAt: day},
		{ID: "title", Title: "River Rapids", CreatedAt: day},
		{ID: "plural", Title: "Rivers of Ice", CreatedAt: day},
		{ID: "plural-viewed", Title: "Rivers at Dawn", Views: 9, CreatedAt: day},
		{ID: "plural-newer", Title: "Rivers at Dusk", CreatedAt: day.Add(time.Hour)},
		{ID: "plural-title-whole-tag", Title: "Rivers Again", Tags: []string{"River"}, CreatedAt: day},
	}
	var got []string
	var scores []float64
	for _, r := range Rank(river, candidates, 10, 0) {
		got = append(got, r.ID)
		scores = append(scores, r.Score)
	}
	want := []string{"title", "plural-title-whole-tag", "plural-viewed", "plural-newer", "plural", "tag", "desc"}
	if !slices.Equal(got, want) {
		t.Fatalf("Rank = %q (scores %v), want %q", got, scores, want)
	}
	if page := Rank(river, candidates, 2, 5); len(page) != 2 || page[0].ID != "tag" || page[1].ID != "desc" {
		t.Fatalf("Rank's page at 5 = %+v", page)
	}
	if page := Rank(river, candidates, 2, 50); len(page) != 0 {
		t.Fatalf("Rank past the end = %+v", page)
	}
	// Two terms add up: both in the title beat one in the title.
	two := append(river, Term{Word: "ice", Words: []string{"ice"}})
	if r := Rank(two, []Candidate{{ID: "one", Title: "River"}, {ID: "both", Title: "River Ice"}}, 2, 0); r[0].ID != "both" {
		t.Fatalf("Rank of two terms put %q first", r[0].ID)
	}
}

func TestRankTitles(t *testing.T) {
	t.Parallel()
	cook := []Term{{Word: "cook", Prefix: true, Words: []string{"cook", "cooking"}}}
	got := RankTitles(cook, []Candidate{
		{Title: "Cooking Pasta", Views: 3},
		{Title: "Cooking Rice", Views: 1},
		{Title: "Cooking Pasta", Views: 8},
		{Title: "Cook Along", Views: 0},
	}, 10)
	if want := []string{"Cook Along", "Cooking Pasta", "Cooking Rice"}; !slices.Equal(got, want) {
		t.Fatalf("RankTitles = %q, want %q", got, want)
	}
	if got := RankTitles(cook, []Candidate{{Title: "Cook Along"}, {Title: "Cooking"}}, 1); len(got) != 1 {
		t.Fatalf("RankTitles with limit 1 = %q", got)
	}
}

func TestSearchTermsOfNothing(t *testing.T) {
	t.Parallel()
	resolve := func(_ context.Context, words []string) ([]Term, error) {
		t.Errorf("resolve(%q) called for nothing to search", words)
		return nil, nil
	}
	for _, tc := range []struct {
		query string
		limit int
	}{{"", 10}, {" ?! ", 10}, {"mountain", 0}, {"mountain", -1}} {
		if terms, err := SearchTerms(context.Background(), tc.query, tc.limit, resolve); terms != nil || err != nil {
			t.Errorf("SearchTerms(%q, %d) = %v, %v; want nothing", tc.query, tc.limit, terms, err)
		}
	}
}
