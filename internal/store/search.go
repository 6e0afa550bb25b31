package store

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"
	"time"
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

// Bounds on the work of one search or suggestion, however many videos
// match it. A query word typed as a prefix stands for at most
// MaxPrefixWords words of the vocabulary; and of the videos that match
// every term, only candidates are ranked: the MaxCandidates most recently
// added anywhere, and the MaxTitleCandidates most recently added with every
// term in the title, so that an older title match still ranks above a
// newer video that only mentions the words. Both come from the full-text
// index in the order it keeps, so a store reads no more of it than that,
// however common the words. Pages past the candidates are empty.
const (
	// MaxPrefixWords is how many words of the vocabulary a query word
	// typed as a prefix stands for: the word itself when it is one, then
	// those it begins that the most videos use.
	MaxPrefixWords = 8
	// MaxCandidates is how many of the most recently added videos
	// matching a search are ranked.
	MaxCandidates = 100
	// MaxTitleCandidates is how many of the most recently added videos with
	// every word of a search in their title are ranked as well.
	MaxTitleCandidates = 50
	// MaxSuggestCandidates is how many of the most recently added titles
	// matching a suggestion are ranked.
	MaxSuggestCandidates = 50
)

// Term is one query word as a store searches for it: a video matches it
// when its text has any of Words.
type Term struct {
	Word   string   // the word searched for, or the word a typo was corrected to
	Prefix bool     // Word was taken as the beginning of words
	Words  []string // the vocabulary's words that match; none: nothing matches
	// Videos is how many videos use one of Words, or more (each word's
	// count added up), when the store tells ResolveWord; a store may choose
	// how to look by it.
	Videos int64
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

// Matchable reports whether every term matches some word: a store need not
// look for videos otherwise.
func Matchable(terms []Term) bool {
	for _, t := range terms {
		if len(t.Words) == 0 {
			return false
		}
	}
	return len(terms) > 0
}

// ResolveWord turns a query word into a search term. completions are the
// words of READY public videos that start with word, at most
// MaxPrefixWords of them, word itself first when it is one and then the most
// used: with any, word is searched as a prefix (search-as-you-type, for
// every word, not only the last) standing for them. Any other word of
// minTypoRunes or more is taken for a typo and replaced by the word of such a
// video nearest to it by trigram similarity, which nearest finds ("" when
// none is near enough); nearest is asked about no other word. A word that is
// neither matches nothing.
func ResolveWord(word string, completions []string, nearest func(word string) (string, error)) (Term, error) {
	if len(completions) > 0 || utf8.RuneCountInString(word) < minTypoRunes {
		return Term{Word: word, Prefix: true, Words: completions}, nil
	}
	n, err := nearest(word)
	if err != nil {
		return Term{}, err
	}
	if n == "" {
		return Term{Word: word, Prefix: true}, nil
	}
	return Term{Word: n, Words: []string{n}}, nil
}

// The weights of the places a term is found in, for Rank.
const (
	titleWeight       = 10
	tagsWeight        = 4
	descriptionWeight = 1
)

// Candidate is a video a store found for a search, with what Rank reads of
// it. Key is the store's own handle on it, for fetching the page.
type Candidate struct {
	Key       any
	ID        string
	Title     string
	Tags      []string
	Views     int64
	CreatedAt time.Time
}

// Ranked is a candidate with its score.
type Ranked struct {
	Candidate
	Score float64
}

// Rank scores candidates, which each match every term, and returns those of
// the page at offset, best first: title > tags > description, each term
// scoring the weight of the first place it is found in, title and tags
// looked at before the description, and as much again when it is there as
// a whole word rather than the beginning of a longer one. The description
// is not read: a term found in neither title nor tags is in it, since the
// candidate matches every term. Ties go to the most viewed, then the newest.
func Rank(terms []Term, candidates []Candidate, limit, offset int) []Ranked {
	ranked := make([]Ranked, len(candidates))
	for i, c := range candidates {
		ranked[i] = Ranked{Candidate: c, Score: score(terms, c.Title, c.Tags)}
	}
	slices.SortFunc(ranked, func(a, b Ranked) int {
		return cmp.Or(
			cmp.Compare(b.Score, a.Score),
			cmp.Compare(b.Views, a.Views),
			b.CreatedAt.Compare(a.CreatedAt),
			strings.Compare(b.ID, a.ID))
	})
	offset = min(max(offset, 0), len(ranked))
	return ranked[offset:min(offset+max(limit, 0), len(ranked))]
}

// score is how well a video with title and tags, which matches every term,
// matches them, as Rank says.
func score(terms []Term, title string, tags []string) float64 {
	total := 0.0
	for _, t := range terms {
		var found, whole float64
		if m, w := findTerm(t, title); m {
			found = titleWeight
			if w {
				whole = titleWeight
			}
		}
		for i := 0; i < len(tags) && whole == 0; i++ {
			m, w := findTerm(t, tags[i])
			if m && found == 0 {
				found = tagsWeight
			}
			if w {
				whole = tagsWeight
			}
		}
		if found == 0 {
			found = descriptionWeight
		}
		total += found + whole
	}
	return total
}

// findTerm reports whether one of the words of text is one of t's words
// (matched), and whether one is t's word itself (whole). Words are split
// as SplitWords splits them and compared without regard to case, without
// copying text.
func findTerm(t Term, text string) (matched, whole bool) {
	start := -1
	check := func(w string) {
		if strings.EqualFold(w, t.Word) {
			matched, whole = true, true
			return
		}
		if !matched {
			for _, x := range t.Words {
				if strings.EqualFold(w, x) {
					matched = true
					return
				}
			}
		}
	}
	for i, r := range text {
		if isWordRune(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			check(text[start:i])
			start = -1
			if whole {
				return
			}
		}
	}
	if start >= 0 {
		check(text[start:])
	}
	return matched, whole
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// RankTitles ranks the titles of candidates for a suggestion and returns
// up to limit distinct ones, best first: scored as Rank scores a title,
// then the most viewed.
func RankTitles(terms []Term, candidates []Candidate, limit int) []string {
	best := map[string]Ranked{}
	for _, c := range candidates {
		r := Ranked{Candidate: Candidate{Title: c.Title, Views: c.Views}, Score: score(terms, c.Title, nil)}
		if b, ok := best[c.Title]; !ok || r.Score > b.Score || r.Score == b.Score && r.Views > b.Views {
			best[c.Title] = r
		}
	}
	ranked := slices.SortedFunc(maps.Values(best), func(a, b Ranked) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(b.Views, a.Views), strings.Compare(a.Title, b.Title))
	})
	titles := make([]string, 0, min(limit, len(ranked)))
	for _, r := range ranked[:min(max(limit, 0), len(ranked))] {
		titles = append(titles, r.Title)
	}
	return titles
}
