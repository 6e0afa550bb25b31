package store

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzQueryWords holds the words of any query to what both stores rely on
// when they write them into their query languages: at most maxQueryWords
// distinct, non-empty words of letters, digits and marks, none starting
// with a mark, and the same words again when the words themselves are the
// query.
func FuzzQueryWords(f *testing.F) {
	f.Fuzz(func(t *testing.T, query string) {
		words := QueryWords(query)
		if len(words) > maxQueryWords {
			t.Fatalf("%d words, more than %d", len(words), maxQueryWords)
		}
		if runes := utf8.RuneCountInString(strings.Join(words, "")); runes > maxQueryRunes {
			t.Fatalf("%d runes of words, more than %d", runes, maxQueryRunes)
		}
		seen := map[string]bool{}
		for _, w := range words {
			first, _ := utf8.DecodeRuneInString(w)
			if w == "" || seen[w] || unicode.IsMark(first) {
				t.Fatalf("word %q of %q: empty, repeated or starting with a mark", w, words)
			}
			seen[w] = true
			for _, r := range w {
				if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r) {
					t.Fatalf("word %q holds %q, which separates words", w, r)
				}
			}
		}
		if again := QueryWords(strings.Join(words, " ")); !slices.Equal(again, words) {
			t.Fatalf("the words %q, searched for, are %q", words, again)
		}
	})
}
