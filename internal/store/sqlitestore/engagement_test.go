package sqlitestore

import (
	"strings"
	"testing"
)

// Reading trending videos is a scan of their index from the top, whatever
// the page: never a scan of every video and a sort.
func TestTrendingReadsItsIndex(t *testing.T) {
	t.Parallel()
	s := open(t)
	for _, paged := range []bool{false, true} {
		rows, err := s.r.QueryContext(testCtx(t), "EXPLAIN QUERY PLAN "+trendingQuery(paged), 24, 1.0, 2.0, "id")
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		all := strings.Join(plan, "; ")
		if !strings.Contains(all, "SEARCH videos USING INDEX videos_trending_idx") || strings.Contains(all, "TEMP B-TREE") {
			t.Errorf("paged %v: the plan is %q, want a search of videos_trending_idx and no sort", paged, all)
		}
	}
}
