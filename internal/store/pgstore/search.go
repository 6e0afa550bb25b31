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
// query for all of them. A word's completions are the search_words it
// begins, itself first, then the most used. A typo's nearest word is the one
// most similar by trigrams above pg_trgm's similarity_threshold (0.3 by
// default, which a one-letter typo in a word of five letters or more
// clears); it is looked for only for a word that begins none.
func (s *Store) resolve(ctx context.Context, words []string) ([]store.Term, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT q.w, c.completions,
			CASE WHEN cardinality(c.completions) = 0 THEN
				coalesce((SELECT s.word FROM search_words s WHERE s.word % q.w
				          ORDER BY similarity(s.word, q.w) DESC, s.word LIMIT 1), '')
			ELSE '' END
		FROM unnest($1::text[]) WITH ORDINALITY AS q (w, n)
		CROSS JOIN LATERAL (SELECT ARRAY(
			SELECT s.word FROM search_words s
			WHERE s.word >= q.w COLLATE "C" AND s.word < (q.w || chr(1114111)) COLLATE "C"
			ORDER BY s.word = q.w DESC, s.videos DESC, s.word LIMIT $2) AS completions) AS c
		ORDER BY q.n`, words, store.MaxPrefixWords)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Term, error) {
		var (
			w, nearest  string
			completions []string
		)
		if err := r.Scan(&w, &completions, &nearest); err != nil {
			return store.Term{}, err
		}
		return store.ResolveWord(w, completions, func(string) (string, error) { return nearest, nil })
	})
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

// newestMatches is the query of the ids of the newest READY public videos
// matching the tsquery text of parameter $q, at most the parameter $limit
// of them. Their order is an index's (videos_public_idx), so however many
// videos match, the server reads no more than those once it has found
// them.
func newestMatches(q, limit int) string {
	return fmt.Sprintf(`
		SELECT id FROM videos
		WHERE state = 'ready' AND privacy = 'public' AND search @@ to_tsquery('simple', $%d)
		ORDER BY created_at DESC, id DESC LIMIT $%d`, q, limit)
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
			(`+newestMatches(1, 2)+`)
			UNION
			(`+newestMatches(3, 4)+`)
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
		SELECT v.title, v.views FROM (`+newestMatches(1, 2)+`) found JOIN videos v USING (id)`,
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
