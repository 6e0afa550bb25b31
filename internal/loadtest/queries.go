package loadtest

import (
	"math/rand/v2"
	"slices"
	"strings"
	"unicode"
)

// titleWords are the distinct lower-case words of titles that search can
// match: letters and digits, three characters or more.
func titleWords(titles []string) []string {
	seen := map[string]bool{}
	var words []string
	for _, title := range titles {
		for _, w := range strings.FieldsFunc(strings.ToLower(title), func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r)
		}) {
			if len([]rune(w)) >= 3 && !seen[w] {
				seen[w] = true
				words = append(words, w)
			}
		}
	}
	slices.Sort(words)
	return words
}

// alphabet is what a typo puts in a word.
const alphabet = "abcdefghijklmnopqrstuvwxyz"

// variant is a word as someone types it into the search box: whole (half
// the time), a prefix of two letters or more, or with one typo (a letter
// dropped, doubled, replaced, or swapped with the next).
func variant(rng *rand.Rand, word string) string {
	w := []rune(word)
	if len(w) < 3 {
		return word
	}
	switch rng.IntN(6) {
	case 0, 1, 2:
		return word
	case 3:
		return string(w[:2+rng.IntN(len(w)-2)])
	}
	i := rng.IntN(len(w))
	typo := slices.Clone(w)
	switch rng.IntN(4) {
	case 0:
		typo = slices.Delete(typo, i, i+1)
	case 1:
		typo = slices.Insert(typo, i, w[i])
	case 2:
		typo[i] = rune(alphabet[rng.IntN(len(alphabet))])
	default:
		if i == len(w)-1 {
			i--
		}
		typo[i], typo[i+1] = typo[i+1], typo[i]
	}
	return string(typo)
}

// searchQueries are up to n distinct queries of one to three words, each
// word a variant of a title word, in a fixed pseudo-random order: a run
// sends each once before any is sent again, so no result cache answers
// for the search service unless the run outlasts the list.
func searchQueries(words []string, n int) []string {
	return distinct(n, func(rng *rand.Rand) string {
		parts := make([]string, 1+rng.IntN(3))
		for i := range parts {
			parts[i] = variant(rng, words[rng.IntN(len(words))])
		}
		return strings.Join(parts, " ")
	}, len(words) > 0)
}

// suggestPrefixes are up to n distinct prefixes as someone types them:
// the start of a word, or a word and the start of the next, sometimes
// with a typo.
func suggestPrefixes(words []string, n int) []string {
	return distinct(n, func(rng *rand.Rand) string {
		w := []rune(variant(rng, words[rng.IntN(len(words))]))
		prefix := string(w[:1+rng.IntN(len(w))])
		if rng.IntN(3) == 0 {
			return variant(rng, words[rng.IntN(len(words))]) + " " + prefix
		}
		return prefix
	}, len(words) > 0)
}

// distinct calls draw until it has n different strings, or until
// many draws in a row bring nothing new (a small vocabulary has fewer).
func distinct(n int, draw func(*rand.Rand) string, possible bool) []string {
	if !possible {
		return nil
	}
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[string]bool{}
	var out []string
	for misses := 0; len(out) < n && misses < 1000; {
		s := draw(rng)
		if seen[s] || strings.TrimSpace(s) == "" {
			misses++
			continue
		}
		seen[s], misses = true, 0
		out = append(out, s)
	}
	return out
}
