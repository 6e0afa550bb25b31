package pgstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/video"
)

// resolve turns query words into search terms (store.ResolveWord), in one
// query for all of them. A typo's nearest word is the one most similar by
// trigrams above pg_trgm's similarity_threshold (0.3 by default, which a
// one-letter typo in a word of five letters or more clears).
func (s *Store) resolve(ctx context.Context, words []string) ([]store.Term, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT q.w,
			EXISTS (SELECT 1 FROM search_words s
			        WHERE s.word >= q.w COLLATE "C" AND s.word < (q.w || chr(1114111)) COLLATE "C"),
			coalesce((SELECT s.word FROM search_words s WHERE s.word % q.w
			          ORDER BY similarity(s.word, q.w) DESC, s.word LIMIT 1), '')
		FROM unnest($1::text[]) WITH ORDINALITY AS q (w, n)
		ORDER BY q.n`, words)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Term, error) {
		var (
			w, nearest string
			known      bool
		)
		if err := r.Scan(&w, &known, &nearest); err != nil {
			return store.Term{}, err
		}
		return store.ResolveWord(w, known, func(string) (string, error) { return nearest, nil })
	})
}

// tsquery writes terms as to_tsquery text, every term required. weight, when
// not empty, restricts matches to lexemes of that weight ("A": the title).
// Terms are letters, digits and marks only (store.QueryWords, and
// search_words keeps only such words), so nothing in them is a tsquery
// operator.
func tsquery(terms []store.Term, weight string) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		label := weight
		if t.Prefix {
			label = "*" + weight
		}
		if label != "" {
			parts[i] = t.Word + ":" + label
		} else {
			parts[i] = t.Word
		}
	}
	return strings.Join(parts, " & ")
}

// anyExact is a tsquery that matches a document containing any term as a
// whole word; its rank is added so that an exact word beats a longer word it
// merely begins.
func anyExact(terms []store.Term) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = t.Word
	}
	return strings.Join(parts, " | ")
}

// Search implements [store.Store.Search].
func (s *Store) Search(ctx context.Context, query string, limit, offset int) ([]video.SearchHit, error) {
	terms, err := store.SearchTerms(ctx, query, limit, s.resolve)
	if err != nil {
		return nil, fmt.Errorf("search %q: %w", query, err)
	}
	if terms == nil {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `
		SELECT `+videoColumns+`, ts_rank(search, q) + ts_rank(search, e) AS score
		FROM videos, to_tsquery('simple', $1) AS q, to_tsquery('simple', $2) AS e
		WHERE state = 'ready' AND privacy = 'public' AND search @@ q
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

// Suggest implements [store.Store.Suggest].
func (s *Store) Suggest(ctx context.Context, prefix string, limit int) ([]string, error) {
	terms, err := store.SearchTerms(ctx, prefix, limit, s.resolve)
	if err != nil {
		return nil, fmt.Errorf("suggest %q: %w", prefix, err)
	}
	if terms == nil {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `
		SELECT title FROM videos, to_tsquery('simple', $1) AS q
		WHERE state = 'ready' AND privacy = 'public' AND search @@ q
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
