package pgstore

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/jackc/pgx/v5"

	"github.com/cloudflix/cloudflix/internal/video"
)

// Limits on what a query may cost: words past maxQueryWords are ignored, and
// so is text past maxQueryRunes.
const (
	maxQueryWords = 16
	maxQueryRunes = 256
	// minTypoRunes is the shortest word that is corrected for typos; shorter
	// words share too few trigrams with anything for similarity to mean much.
	minTypoRunes = 4
)

// queryWords splits a search query into lower-case words of letters and
// digits. Everything else, tsquery operators included, separates words, so
// the words can be written into a tsquery as they are.
func queryWords(query string) []string {
	if r := []rune(query); len(r) > maxQueryRunes {
		query = string(r[:maxQueryRunes])
	}
	fields := strings.FieldsFunc(strings.ToLower(query), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r)
	})
	words := make([]string, 0, len(fields))
	seen := make(map[string]bool, len(fields))
	for _, f := range fields {
		// A combining mark belongs to the letter before it; with none, it
		// is dropped.
		f = strings.TrimLeftFunc(f, unicode.IsMark)
		if f == "" || seen[f] {
			continue
		}
		seen[f] = true
		words = append(words, f)
		if len(words) == maxQueryWords {
			break
		}
	}
	return words
}

// term is one query word as it will be searched for.
type term struct {
	word   string // the lexeme searched for
	prefix bool   // match any lexeme starting with word
}

// resolve turns query words into search terms. A word that some word of a
// READY video starts with is searched as a prefix (search-as-you-type, for
// every word, not only the last). Any other word of minTypoRunes or more is
// taken for a typo and replaced by the READY word nearest to it by trigram
// similarity, above pg_trgm's similarity_threshold (0.3 by default, which a
// one-letter typo in a word of five letters or more clears). A word that is
// neither stays as a prefix and simply matches nothing.
func (s *Store) resolve(ctx context.Context, words []string) ([]term, error) {
	if len(words) == 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `
		SELECT q.w,
			EXISTS (SELECT 1 FROM search_words s
			        WHERE s.word >= q.w COLLATE "C" AND s.word < (q.w || chr(1114111)) COLLATE "C"),
			(SELECT s.word FROM search_words s WHERE s.word % q.w
			 ORDER BY similarity(s.word, q.w) DESC, s.word LIMIT 1)
		FROM unnest($1::text[]) WITH ORDINALITY AS q (w, n)
		ORDER BY q.n`, words)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (term, error) {
		var (
			w       string
			known   bool
			nearest *string
		)
		if err := r.Scan(&w, &known, &nearest); err != nil {
			return term{}, err
		}
		if !known && nearest != nil && len([]rune(w)) >= minTypoRunes {
			return term{word: *nearest}, nil
		}
		return term{word: w, prefix: true}, nil
	})
}

// tsquery writes terms as to_tsquery text, every term required. weight, when
// not empty, restricts matches to lexemes of that weight ("A": the title).
// Terms are letters and digits only (queryWords, and search_words keeps only
// such words), so nothing in them is a tsquery operator.
func tsquery(terms []term, weight string) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		label := weight
		if t.prefix {
			label = "*" + weight
		}
		if label != "" {
			parts[i] = t.word + ":" + label
		} else {
			parts[i] = t.word
		}
	}
	return strings.Join(parts, " & ")
}

// anyExact is a tsquery that matches a document containing any term as a
// whole word; its rank is added so that an exact word beats a longer word it
// merely begins.
func anyExact(terms []term) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = t.word
	}
	return strings.Join(parts, " | ")
}

// Search finds READY videos matching every word of query: whole words,
// prefixes of words, and words with a typo, in titles, tags and descriptions.
// Hits come best first; a title match ranks above a tag match above a
// description match. An empty query finds nothing.
func (s *Store) Search(ctx context.Context, query string, limit, offset int) ([]video.SearchHit, error) {
	words := queryWords(query)
	if len(words) == 0 || limit <= 0 {
		return nil, nil
	}
	terms, err := s.resolve(ctx, words)
	if err != nil {
		return nil, fmt.Errorf("search %q: %w", query, err)
	}
	rows, err := s.pool.Query(ctx, `
		SELECT `+videoColumns+`, ts_rank(search, q) + ts_rank(search, e) AS score
		FROM videos, to_tsquery('simple', $1) AS q, to_tsquery('simple', $2) AS e
		WHERE state = 'ready' AND search @@ q
		ORDER BY score DESC, views DESC, created_at DESC, id DESC
		LIMIT $3 OFFSET $4`, tsquery(terms, ""), anyExact(terms), limit, max(offset, 0))
	if err != nil {
		return nil, fmt.Errorf("search %q: %w", query, err)
	}
	defer rows.Close()
	var hits []video.SearchHit
	for rows.Next() {
		var (
			h     video.SearchHit
			score float32
		)
		if h.Video, err = scanVideo(rows, &score); err != nil {
			return nil, fmt.Errorf("search %q: %w", query, err)
		}
		h.Score = float64(score)
		hits = append(hits, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search %q: %w", query, err)
	}
	return hits, nil
}

// Suggest completes what a person is typing: up to limit distinct titles of
// READY videos whose title has every word of prefix (each as a prefix, or
// corrected for a typo), best match first, then most viewed.
func (s *Store) Suggest(ctx context.Context, prefix string, limit int) ([]string, error) {
	words := queryWords(prefix)
	if len(words) == 0 || limit <= 0 {
		return nil, nil
	}
	terms, err := s.resolve(ctx, words)
	if err != nil {
		return nil, fmt.Errorf("suggest %q: %w", prefix, err)
	}
	rows, err := s.pool.Query(ctx, `
		SELECT title FROM videos, to_tsquery('simple', $1) AS q
		WHERE state = 'ready' AND search @@ q
		GROUP BY title
		ORDER BY max(ts_rank(search, q)) DESC, max(views) DESC, title
		LIMIT $2`, tsquery(terms, "A"), limit)
	if err != nil {
		return nil, fmt.Errorf("suggest %q: %w", prefix, err)
	}
	titles, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("suggest %q: %w", prefix, err)
	}
	return titles, nil
}
