package storetest

import (
	"slices"
	"strings"
	"testing"

	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/video"
)

// FuzzSearch searches s, a store of the fuzz test's own, with any query.
// Whatever the query holds, Search and Suggest answer without an error,
// find only ready public videos, and depend on the query's words alone:
// the query and its words joined by spaces find the same videos in the
// same order. The same function fuzzes every adapter; the seeds are the
// adapter's testdata/fuzz/FuzzSearch.
func FuzzSearch(f *testing.F, s Store) {
	f.Helper()
	catalogue := map[string]bool{}
	for _, d := range []draft{
		{title: "Mountain Sunrise", description: "A calm morning over the hills.", tags: []string{"nature", "timelapse"}},
		{title: "Cooking Pasta", description: "Grandma's recipe, step by step.", tags: []string{"food", "italian"}},
		{title: "Café Naïve: ΣΊΣΥΦΟΣ", description: "日本語の動画", tags: []string{"ünïcode"}},
	} {
		catalogue[ready(f, s, d).ID] = true
	}
	owner := NewUser(f, s, "fuzzer", auth.RoleUser)
	ready(f, s, draft{title: "Mountain Secret", privacy: video.PrivacyPrivate, owner: owner.ID})
	uploaded(f, s, draft{title: "Mountain Unfinished"})

	f.Fuzz(func(t *testing.T, query string) {
		ctx := t.Context()
		hits, err := s.Search(ctx, query, 10, 0)
		if err != nil {
			t.Fatalf("Search(%q): %v", query, err)
		}
		for _, h := range hits {
			if !catalogue[h.Video.ID] {
				t.Fatalf("Search(%q) found %q, which is not a ready public video", query, h.Video.Title)
			}
		}
		words := strings.Join(store.QueryWords(query), " ")
		again, err := s.Search(ctx, words, 10, 0)
		if err != nil {
			t.Fatalf("Search(%q): %v", words, err)
		}
		if !slices.Equal(hitIDs(hits), hitIDs(again)) {
			t.Fatalf("Search(%q) found %q, but its words %q found %q", query, titles(hits), words, titles(again))
		}
		if _, err := s.Suggest(ctx, query, 10); err != nil {
			t.Fatalf("Suggest(%q): %v", query, err)
		}
	})
}

func hitIDs(hits []video.SearchHit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.Video.ID
	}
	return out
}
