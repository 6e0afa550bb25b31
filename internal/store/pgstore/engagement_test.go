package pgstore

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Reading trending videos can be a scan of their index from the top,
// whatever the page, with no sort: with sequential scans priced out, as a
// large table prices them, the planner takes videos_trending_idx.
func TestTrendingReadsItsIndex(t *testing.T) {
	t.Parallel()
	s := open(t, Options{})
	ctx := testCtx(t)
	for _, paged := range []bool{false, true} {
		args := []any{24, 1.0}
		if paged {
			args = append(args, 2.0, "0190a1b2-0000-7000-8000-00000000dead")
		}
		var plan []string
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, "EXPLAIN "+trendingQuery(paged), args...)
			if err != nil {
				return err
			}
			plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		all := strings.Join(plan, "\n")
		if !strings.Contains(all, "Index Scan using videos_trending_idx") || strings.Contains(all, "Sort") {
			t.Errorf("paged %v: the plan is\n%s\nwant a scan of videos_trending_idx and no sort", paged, all)
		}
	}
}
