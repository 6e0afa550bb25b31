package store

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what a search may cost: words past maxQueryWords are ignored,
// and so is text past maxQueryRunes.
const (
	maxQueryWords = 16
	maxQueryRunes = 256
	// minTypoRunes is the shortest word that is corrected for typos; shorter
	// words share too few trigrams with anything for similarity to mean much.
	minTypoRunes = 4
)

// SplitWords splits text into lower-case words of letters, digits and
// marks: the words both stores index. Everything else, the query syntax of
// either store included, separates words, so a word can be written into a
// store's query as it is.
func SplitWords(text string) []string {
	fields := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r)
	})
	words := fields[:0]
	for _, f := range fields {
		// A combining mark belongs to the letter before it; with none, it
		// is dropped.
		if f = strings.TrimLeftFunc(f, unicode.IsMark); f != "" {
			words = append(words, f)
		}
	}
	return words
}

// QueryWords is the distinct words of a search query, in order, within the
// limits on a search's cost.
func QueryWords(query string) []string {
	if r := []rune(query); len(r) > maxQueryRunes {
		query = string(r[:maxQueryRunes])
	}
	words := make([]string, 0, maxQueryWords)
	seen := map[string]bool{}
	for _, w := range SplitWords(query) {
		if seen[w] {
			continue
		}
		seen[w] = true
		words = append(words, w)
		if len(words) == maxQueryWords {
			break
		}
	}
	return words
}

// Term is one query word as a store searches for it.
type Term struct {
	Word   string // the word searched for
	Prefix bool   // match any word starting with Word
}

// SearchTerms is what Search and Suggest look for: the words of query, which
// resolve turns into terms (ResolveWord says how). It is nil, and a store
// then searches nothing, when query has no word or limit asks for no hit.
func SearchTerms(ctx context.Context, query string, limit int, resolve func(ctx context.Context, words []string) ([]Term, error)) ([]Term, error) {
	words := QueryWords(query)
	if len(words) == 0 || limit <= 0 {
		return nil, nil
	}
	return resolve(ctx, words)
}

// ResolveWord turns a query word into a search term. A word that some word
// of a READY public video starts with (known) is searched as a prefix:
// search-as-you-type, for every word, not only the last. Any other word of
// minTypoRunes or more is taken for a typo and replaced by the word of such
// a video nearest to it by trigram similarity, which nearest finds ("" when none is
// near enough); nearest is asked about no other word. A word that is neither
// stays a prefix and simply matches nothing.
func ResolveWord(word string, known bool, nearest func(word string) (string, error)) (Term, error) {
	if known || utf8.RuneCountInString(word) < minTypoRunes {
		return Term{Word: word, Prefix: true}, nil
	}
	n, err := nearest(word)
	if err != nil {
		return Term{}, err
	}
	if n == "" {
		return Term{Word: word, Prefix: true}, nil
	}
	return Term{Word: n}, nil
}
