package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/video"
)

const (
	// similarityThreshold is pg_trgm's default similarity_threshold: a word
	// this similar to a typo or more may replace it.
	similarityThreshold = 0.3
	// maxTypoCandidates bounds the words compared with one typo: those
	// sharing the most (and rarest) trigrams with it come first.
	maxTypoCandidates = 1000
	// lastRune sorts after every other character: w <= x < w+lastRune holds
	// for exactly the words x that start with w.
	lastRune = "\U0010FFFF"
)

// documentWords is the sorted, distinct words of a video's searchable text:
// what its row's words column holds, and so what search_words counts while
// the video is ready.
func documentWords(title string, tags []string, description string) []string {
	words := store.SplitWords(title)
	for _, t := range tags {
		words = append(words, store.SplitWords(t)...)
	}
	words = append(words, store.SplitWords(description)...)
	slices.Sort(words)
	return slices.Compact(words)
}

// trigrams is the set of pg_trgm trigrams of one word: every three
// consecutive characters of the word padded with two spaces before and one
// after.
func trigrams(word string) map[string]bool {
	r := []rune("  " + word + " ")
	set := make(map[string]bool, len(r))
	for i := 0; i+3 <= len(r); i++ {
		set[string(r[i:i+3])] = true
	}
	return set
}

// similarity is pg_trgm's similarity of two words: the trigrams they share
// over all the trigrams of either.
func similarity(a, b string) float64 {
	ta, tb := trigrams(a), trigrams(b)
	shared := 0
	for t := range ta {
		if tb[t] {
			shared++
		}
	}
	union := len(ta) + len(tb) - shared
	if union == 0 {
		return 0
	}
	// pg_trgm computes in single precision; so does this, so that a pair
	// right at the threshold falls on the same side of it.
	return float64(float32(shared) / float32(union))
}

// quote writes s as an FTS5 string: between double quotes, a double quote
// doubled. Whatever s holds, it is then a phrase, never query syntax.
func quote(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// resolve turns query words into search terms (store.ResolveWord). A
// word's completions are the search_words it begins, itself first, then the
// most used; a typo's nearest word is nearestWord's.
func (s *Store) resolve(ctx context.Context, words []string) ([]store.Term, error) {
	terms := make([]store.Term, len(words))
	for i, w := range words {
		rows, err := s.query(ctx, `
			SELECT word FROM search_words WHERE word >= ?1 AND word < ?2
			ORDER BY word = ?1 DESC, videos DESC, word LIMIT ?3`,
			w, w+lastRune, store.MaxPrefixWords)
		if err != nil {
			return nil, err
		}
		completions, err := collectStrings(rows)
		if err != nil {
			return nil, err
		}
		t, err := store.ResolveWord(w, completions, func(typo string) (string, error) { return s.nearestWord(ctx, typo) })
		if err != nil {
			return nil, err
		}
		terms[i] = t
	}
	return terms, nil
}

// nearestWord returns the word of search_words most similar to w, ties going
// to the first in order, or "" when none reaches similarityThreshold. Only
// words sharing a trigram with w can; search_words_trgm finds them. It
// looks for words sharing one of w's trigrams that start inside it: the two
// that start with padding ("  s", " sk") each begin a great part of the
// vocabulary. Of the words that share only those two, none is as similar
// as similarityThreshold to a word of minTypoRunes letters or more, but
// one of two letters, w's first two, which is looked up as well: "ab" is
// 0.33 similar to "abxy".
func (s *Store) nearestWord(ctx context.Context, w string) (string, error) {
	var phrases []string
	for t := range trigrams(w) {
		if t[0] != ' ' {
			phrases = append(phrases, quote(t))
		}
	}
	slices.Sort(phrases)
	rows, err := s.query(ctx, `
		SELECT word FROM (
			SELECT w.word FROM search_words_trgm t JOIN search_words w ON w.id = t.rowid
			WHERE search_words_trgm MATCH ?1
			ORDER BY t.rank LIMIT ?2)
		UNION ALL
		SELECT word FROM search_words WHERE word = ?3`,
		strings.Join(phrases, " OR "), maxTypoCandidates, string([]rune(w)[:2]))
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var (
		best      string
		bestScore float64
	)
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return "", err
		}
		sim := similarity(w, c)
		if sim < similarityThreshold {
			continue
		}
		if sim > bestScore || (sim == bestScore && c < best) {
			best, bestScore = c, sim
		}
	}
	return best, rows.Err()
}

// match writes terms as an FTS5 query that every term must match, each as
// any of its words, within column when it is not empty. Terms are
// store.Matchable.
func match(terms []store.Term, column string) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		words := make([]string, len(t.Words))
		for j, w := range t.Words {
			words[j] = quote(w)
		}
		parts[i] = "(" + strings.Join(words, " OR ") + ")"
	}
	q := strings.Join(parts, " AND ")
	if column != "" {
		q = column + " : (" + q + ")"
	}
	return q
}

// Search implements [store.Store.Search] with store.Rank on the candidates
// store.MaxCandidates and store.MaxTitleCandidates bound: the full-text
// index gives the newest matches (the highest rowids, which are videos.seq)
// first, and stops there. The index holds READY public videos only.
func (s *Store) Search(ctx context.Context, query string, limit, offset int) ([]video.SearchHit, error) {
	hits, err := s.search(ctx, query, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("search %q: %w", query, err)
	}
	return hits, nil
}

func (s *Store) search(ctx context.Context, query string, limit, offset int) ([]video.SearchHit, error) {
	terms, err := store.SearchTerms(ctx, query, limit, s.resolve)
	if err != nil || !store.Matchable(terms) {
		return nil, err
	}
	rows, err := s.query(ctx, `
		WITH found (seq) AS (
			SELECT rowid FROM (SELECT rowid FROM video_search WHERE video_search MATCH ?1 ORDER BY rowid DESC LIMIT ?2)
			UNION
			SELECT rowid FROM (SELECT rowid FROM video_search WHERE video_search MATCH ?3 ORDER BY rowid DESC LIMIT ?4)
		)
		SELECT seq, id, title, tags, views, created_at FROM videos
		WHERE seq IN found AND `+store.ListedSQL,
		match(terms, ""), store.MaxCandidates, match(terms, "title"), store.MaxTitleCandidates)
	if err != nil {
		return nil, err
	}
	var candidates []store.Candidate
	err = eachRow(rows, func() error {
		var (
			c         store.Candidate
			tags      string
			createdAt int64
		)
		if err := rows.Scan(&c.Key, &c.ID, &c.Title, &tags, &c.Views, &createdAt); err != nil {
			return err
		}
		// The tags' JSON as it is: its punctuation separates words as any
		// other does, and decoding it would cost more than the ranking.
		c.Tags, c.CreatedAt = []string{tags}, fromUnixMicros(createdAt)
		candidates = append(candidates, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	page := store.Rank(terms, candidates, limit, offset)
	if len(page) == 0 {
		return nil, nil
	}
	seqs := make([]int64, len(page))
	for i, r := range page {
		seqs[i] = r.Key.(int64)
	}
	seqsJSON, err := json.Marshal(seqs)
	if err != nil {
		return nil, err
	}
	rows, err = s.query(ctx, `
		SELECT `+videoColumns+`, seq FROM videos WHERE seq IN (SELECT value FROM json_each(?1))`, string(seqsJSON))
	if err != nil {
		return nil, err
	}
	bySeq := make(map[int64]video.Video, len(page))
	err = eachRow(rows, func() error {
		var seq int64
		v, err := scanVideo(rows, &seq)
		bySeq[seq] = v
		return err
	})
	if err != nil {
		return nil, err
	}
	hits := make([]video.SearchHit, 0, len(page))
	for _, r := range page {
		if v, ok := bySeq[r.Key.(int64)]; ok {
			hits = append(hits, video.SearchHit{Video: v, Score: r.Score})
		}
	}
	return hits, nil
}

// Suggest implements [store.Store.Suggest] with store.RankTitles on the
// store.MaxSuggestCandidates newest title matches.
func (s *Store) Suggest(ctx context.Context, prefix string, limit int) ([]string, error) {
	titles, err := s.suggest(ctx, prefix, limit)
	if err != nil {
		return nil, fmt.Errorf("suggest %q: %w", prefix, err)
	}
	return titles, nil
}

func (s *Store) suggest(ctx context.Context, prefix string, limit int) ([]string, error) {
	terms, err := store.SearchTerms(ctx, prefix, limit, s.resolve)
	if err != nil || !store.Matchable(terms) {
		return nil, err
	}
	rows, err := s.query(ctx, `
		SELECT videos.title, videos.views
		FROM (SELECT rowid FROM video_search WHERE video_search MATCH ?1 ORDER BY rowid DESC LIMIT ?2) found
		JOIN videos ON videos.seq = found.rowid
		WHERE `+store.ListedSQL, match(terms, "title"), store.MaxSuggestCandidates)
	if err != nil {
		return nil, err
	}
	var candidates []store.Candidate
	err = eachRow(rows, func() error {
		var c store.Candidate
		err := rows.Scan(&c.Title, &c.Views)
		candidates = append(candidates, c)
		return err
	})
	if err != nil {
		return nil, err
	}
	return store.RankTitles(terms, candidates, limit), nil
}

// eachRow calls fn for each of rows, then closes them.
func eachRow(rows *sql.Rows, fn func() error) error {
	defer rows.Close()
	for rows.Next() {
		if err := fn(); err != nil {
			return err
		}
	}
	return rows.Err()
}

func collectStrings(rows *sql.Rows) ([]string, error) {
	var out []string
	err := eachRow(rows, func() error {
		var s string
		err := rows.Scan(&s)
		out = append(out, s)
		return err
	})
	return out, err
}
