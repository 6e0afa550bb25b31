package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/video"
)

// resolve turns query words into search terms (store.ResolveWord), in one
// query for all of them. A word's completions are the search_words it
// begins, itself first, then the most used, with how many videos use them.
// A typo is corrected by nearestWord.
func (s *Store) resolve(ctx context.Context, words []string) ([]store.Term, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT c.completions, c.videos
		FROM unnest($1::text[]) WITH ORDINALITY AS q (w, n)
		CROSS JOIN LATERAL (
			SELECT coalesce(array_agg(p.word ORDER BY p.n), '{}') AS completions, coalesce(sum(p.videos), 0)::bigint AS videos
			FROM (SELECT s.word, s.videos, row_number() OVER (ORDER BY s.word = q.w DESC, s.videos DESC, s.word) AS n
			      FROM search_words s
			      WHERE s.word >= q.w COLLATE "C" AND s.word < (q.w || chr(1114111)) COLLATE "C"
			      ORDER BY s.word = q.w DESC, s.videos DESC, s.word LIMIT $2) AS p) AS c
		ORDER BY q.n`, words, store.MaxPrefixWords)
	if err != nil {
		return nil, err
	}
	type found struct {
		completions []string
		videos      int64
	}
	completions, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (found, error) {
		var f found
		err := r.Scan(&f.completions, &f.videos)
		return f, err
	})
	if err != nil {
		return nil, err
	}
	terms := make([]store.Term, len(words))
	for i, w := range words {
		videos := completions[i].videos
		t, err := store.ResolveWord(w, completions[i].completions, func(typo string) (string, error) {
			n, uses, err := s.nearestWord(ctx, typo)
			videos = uses
			return n, err
		})
		if err != nil {
			return nil, err
		}
		t.Videos = videos
		terms[i] = t
	}
	return terms, nil
}

// nearestWord returns the word of search_words most similar to w by
// trigrams above pg_trgm's similarity_threshold (0.3 by default, which a
// one-letter typo in a word of five letters or more clears), ties going to
// the first in order, with how many videos use it; "" when there is none.
// The planner cannot tell how many words are that similar, and would read
// them all: it is told to use the trigram index (search_words_trgm_idx).
func (s *Store) nearestWord(ctx context.Context, w string) (nearest string, videos int64, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `
			SELECT s.word, s.videos FROM search_words s WHERE s.word % $1
			ORDER BY similarity(s.word, $1) DESC, s.word LIMIT 1`, w).Scan(&nearest, &videos)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	return nearest, videos, err
}

// tsquery writes terms as to_tsquery text, every term required as any of
// its words. weight, when not empty, restricts matches to lexemes of that
// weight ("A": the title). Terms are store.Matchable, and their words are
// search_words', letters and digits only, so nothing in them is a tsquery
// operator.
func tsquery(terms []store.Term, weight string) string {
	if weight != "" {
		weight = ":" + weight
	}
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = "(" + strings.Join(t.Words, weight+" | ") + weight + ")"
	}
	return strings.Join(parts, " & ")
}

// How the newest matches of a query are found. A query whose words few
// videos use (by search_words' counts, at most directMatches) is looked up
// in the full-text index (videos_search_idx), and its matches are sorted by
// age. Any other is matched against the videos newest first
// (videos_public_idx), at most walkWindow of them: its words are common, so
// the newest of those hold matches enough, and no query reads more rows
// than that, however its words are spread. The planner cannot tell the two
// kinds apart (a weight, for title matches, hides how common a word is from
// it), so the query says which.
const (
	directMatches = 1000
	walkWindow    = 1000
)

// newestMatches is the query of the ids of the newest READY public videos
// matching the tsquery text of parameter $q, at most the parameter $limit
// of them, for terms.
func newestMatches(terms []store.Term, q, limit int) string {
	fewest := terms[0].Videos
	for _, t := range terms[1:] {
		fewest = min(fewest, t.Videos)
	}
	if fewest <= directMatches {
		return fmt.Sprintf(`
		SELECT id FROM (
			SELECT id, created_at FROM videos
			WHERE %s AND search @@ to_tsquery('simple', $%d)
			OFFSET 0) AS m
		ORDER BY created_at DESC, id DESC LIMIT $%d`, store.ListedSQL, q, limit)
	}
	return fmt.Sprintf(`
		SELECT id FROM (
			SELECT id, search FROM videos
			WHERE %s
			ORDER BY created_at DESC, id DESC LIMIT %d) AS w
		WHERE search @@ to_tsquery('simple', $%d) LIMIT $%d`, store.ListedSQL, walkWindow, q, limit)
}

// Search implements [store.Store.Search] with store.Rank on the candidates
// store.MaxCandidates and store.MaxTitleCandidates bound.
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
	rows, err := s.pool.Query(ctx, `
		WITH found AS (
			(`+newestMatches(terms, 1, 2)+`)
			UNION
			(`+newestMatches(terms, 3, 4)+`)
		)
		SELECT v.id::text, v.title, v.tags, v.views, v.created_at
		FROM found JOIN videos v USING (id)`,
		tsquery(terms, ""), store.MaxCandidates, tsquery(terms, "A"), store.MaxTitleCandidates)
	if err != nil {
		return nil, err
	}
	candidates, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Candidate, error) {
		var c store.Candidate
		err := r.Scan(&c.ID, &c.Title, &c.Tags, &c.Views, &c.CreatedAt)
		c.Key = c.ID
		return c, err
	})
	if err != nil {
		return nil, err
	}
	page := store.Rank(terms, candidates, limit, offset)
	if len(page) == 0 {
		return nil, nil
	}
	ids := make([]string, len(page))
	for i, r := range page {
		ids[i] = r.ID
	}
	rows, err = s.pool.Query(ctx, `
		SELECT `+videoColumns+` FROM videos WHERE id = ANY ($1::uuid[])`, ids)
	if err != nil {
		return nil, err
	}
	vs, err := collectVideos(rows)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]video.Video, len(vs))
	for _, v := range vs {
		byID[v.ID] = v
	}
	hits := make([]video.SearchHit, 0, len(page))
	for _, r := range page {
		if v, ok := byID[r.ID]; ok {
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
	rows, err := s.pool.Query(ctx, `
		SELECT v.title, v.views FROM (`+newestMatches(terms, 1, 2)+`) found JOIN videos v USING (id)`,
		tsquery(terms, "A"), store.MaxSuggestCandidates)
	if err != nil {
		return nil, err
	}
	candidates, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Candidate, error) {
		var c store.Candidate
		err := r.Scan(&c.Title, &c.Views)
		return c, err
	})
	if err != nil {
		return nil, err
	}
	return store.RankTitles(terms, candidates, limit), nil
}
