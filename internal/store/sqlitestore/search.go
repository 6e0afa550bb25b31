package sqlitestore

import (
	"context"
	"database/sql"
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
// typo's nearest word is nearestWord's.
func (s *Store) resolve(ctx context.Context, words []string) ([]store.Term, error) {
	terms := make([]store.Term, len(words))
	for i, w := range words {
		var known bool
		if err := s.r.QueryRowContext(ctx, `
			SELECT EXISTS (SELECT 1 FROM search_words WHERE word >= ?1 AND word < ?2)`,
			w, w+lastRune).Scan(&known); err != nil {
			return nil, err
		}
		t, err := store.ResolveWord(w, known, func(typo string) (string, error) { return s.nearestWord(ctx, typo) })
		if err != nil {
			return nil, err
		}
		terms[i] = t
	}
	return terms, nil
}

// nearestWord returns the word of search_words most similar to w, ties going
// to the first in order, or "" when none reaches similarityThreshold. Only
// words sharing a trigram with w can; search_words_trgm finds them.
func (s *Store) nearestWord(ctx context.Context, w string) (string, error) {
	var phrases []string
	for t := range trigrams(w) {
		phrases = append(phrases, quote(t))
	}
	slices.Sort(phrases)
	rows, err := s.r.QueryContext(ctx, `
		SELECT w.word FROM search_words_trgm t JOIN search_words w ON w.id = t.rowid
		WHERE search_words_trgm MATCH ?1
		ORDER BY t.rank LIMIT ?2`, strings.Join(phrases, " OR "), maxTypoCandidates)
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

// match writes terms as an FTS5 query that every term must match, each a
// quoted phrase (a prefix phrase for a prefix term), within column when it
// is not empty.
func match(terms []store.Term, column string) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		p := quote(t.Word)
		if t.Prefix {
			p += "*"
		}
		if column != "" {
			p = column + " : " + p
		}
		parts[i] = p
	}
	return strings.Join(parts, " AND ")
}

// anyExact is an FTS5 query that matches a document containing any term as a
// whole word; its score is added so that an exact word beats a longer word
// it merely begins.
func anyExact(terms []store.Term) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = quote(t.Word)
	}
	return strings.Join(parts, " OR ")
}

// Search implements [store.Store.Search].
//
// The score is FTS5's BM25 with columns weighted title 10, tags 4,
// description 1 (negated, so that higher is better), plus the same for the
// whole words alone. The CTEs are MATERIALIZED because bm25() only works in
// the query that runs the MATCH.
func (s *Store) Search(ctx context.Context, query string, limit, offset int) ([]video.SearchHit, error) {
	terms, err := store.SearchTerms(ctx, query, limit, s.resolve)
	if err != nil {
		return nil, fmt.Errorf("search %q: %w", query, err)
	}
	if terms == nil {
		return nil, nil
	}
	rows, err := s.r.QueryContext(ctx, `
		WITH hit AS MATERIALIZED (
			SELECT rowid AS seq, -bm25(video_search, 10.0, 4.0, 1.0) AS score
			FROM video_search WHERE video_search MATCH ?1
		), exact AS MATERIALIZED (
			SELECT rowid AS seq, -bm25(video_search, 10.0, 4.0, 1.0) AS score
			FROM video_search WHERE video_search MATCH ?2
		)
		SELECT `+videoColumns+`, hit.score + coalesce(exact.score, 0) AS score
		FROM hit JOIN videos USING (seq) LEFT JOIN exact USING (seq)
		WHERE state = 'ready' AND privacy = 'public'
		ORDER BY score DESC, views DESC, created_at DESC, id DESC
		LIMIT ?3 OFFSET ?4`, match(terms, ""), anyExact(terms), limit, max(offset, 0))
	if err != nil {
		return nil, fmt.Errorf("search %q: %w", query, err)
	}
	defer rows.Close()
	var hits []video.SearchHit
	for rows.Next() {
		var h video.SearchHit
		if h.Video, err = scanVideo(rows, &h.Score); err != nil {
			return nil, fmt.Errorf("search %q: %w", query, err)
		}
		hits = append(hits, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search %q: %w", query, err)
	}
	return hits, nil
}

// Suggest implements [store.Store.Suggest].
func (s *Store) Suggest(ctx context.Context, prefix string, limit int) ([]string, error) {
	terms, err := store.SearchTerms(ctx, prefix, limit, s.resolve)
	if err != nil {
		return nil, fmt.Errorf("suggest %q: %w", prefix, err)
	}
	if terms == nil {
		return nil, nil
	}
	rows, err := s.r.QueryContext(ctx, `
		WITH hit AS MATERIALIZED (
			SELECT rowid AS seq, -bm25(video_search, 1.0, 0.0, 0.0) AS score
			FROM video_search WHERE video_search MATCH ?1
		)
		SELECT title FROM hit JOIN videos USING (seq)
		WHERE state = 'ready' AND privacy = 'public'
		GROUP BY title
		ORDER BY max(score) DESC, max(views) DESC, title
		LIMIT ?2`, match(terms, "title"), limit)
	if err != nil {
		return nil, fmt.Errorf("suggest %q: %w", prefix, err)
	}
	titles, err := collectStrings(rows)
	if err != nil {
		return nil, fmt.Errorf("suggest %q: %w", prefix, err)
	}
	return titles, nil
}

func collectStrings(rows *sql.Rows) ([]string, error) {
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
