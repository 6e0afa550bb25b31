package store

import (
	"context"
	"errors"
	"slices"
	"testing"
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
		word  string
		known bool
		want  Term
	}{
		{"moun", true, Term{Word: "moun", Prefix: true}},
		{"mountian", false, Term{Word: "mountain"}},
		{"zzzzz", false, Term{Word: "zzzzz", Prefix: true}},
		// Too short to be taken for a typo: nearest is not asked.
		{"mou", false, Term{Word: "mou", Prefix: true}},
	} {
		got, err := ResolveWord(tc.word, tc.known, func(w string) (string, error) {
			if len([]rune(w)) < minTypoRunes || tc.known {
				t.Errorf("ResolveWord(%q, %v) asked for the nearest word", tc.word, tc.known)
			}
			return nearest(w)
		})
		if err != nil || got != tc.want {
			t.Errorf("ResolveWord(%q, %v) = %+v, %v; want %+v", tc.word, tc.known, got, err, tc.want)
		}
	}
	boom := errors.New("boom")
	if _, err := ResolveWord("mountian", false, func(string) (string, error) { return "", boom }); !errors.Is(err, boom) {
		t.Errorf("ResolveWord with a failing lookup: %v", err)
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
