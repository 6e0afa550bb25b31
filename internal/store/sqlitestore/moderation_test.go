package sqlitestore

import (
	"strings"
	"testing"

	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/moderation"
	"github.com/cloudflix/cloudflix/internal/store/storetest"
)

// The audit log is append-only in the schema itself: no statement, from
// the store or from anyone with the database file, changes or removes an
// entry.
func TestAuditLogIsAppendOnly(t *testing.T) {
	t.Parallel()
	s := open(t)
	ctx := testCtx(t)
	mod := storetest.NewUser(t, s, "mod", auth.RoleModerator)
	v := storetest.Ready(t, s, "Hidden")
	d := moderation.Decision{Action: moderation.ActionHide, Target: moderation.Target{Kind: moderation.KindVideo, ID: v.ID}, ActorID: mod.ID, Why: "spam"}
	if _, err := s.HideVideo(ctx, d); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{"UPDATE moderation_log SET why = 'nothing'", "DELETE FROM moderation_log"} {
		_, err := s.w.ExecContext(ctx, stmt)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want a refusal", stmt, err)
		}
	}
	entries, err := s.AuditLog(ctx, 10, 0)
	if err != nil || len(entries) != 1 || entries[0].Decision.Why != "spam" {
		t.Fatalf("AuditLog = %+v, %v; want the entry unchanged", entries, err)
	}
}
