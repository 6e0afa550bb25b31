package store

import (
	"context"
	"fmt"
	"time"

	"github.com/cloudflix/cloudflix/internal/moderation"
	"github.com/cloudflix/cloudflix/internal/video"
)

// ListedSQL is video.Listed in SQL, over the columns of videos unaliased:
// the predicate of every list, of search and of suggestions, and of the
// partial indexes that serve them (videos_public_idx, videos_trending_idx),
// so each query names it in these very words for its planner to match it
// with its index.
const ListedSQL = "state = 'ready' AND privacy = 'public' AND hidden_at IS NULL"

// Moderation is the part of the store that keeps reports, the queue of
// reported content, moderators' decisions and their audit log. The audit
// log is append-only: the port has no way to change or remove an entry,
// and both schemas refuse an UPDATE or DELETE of one.
type Moderation interface {
	// Report files r (as moderation.NewReport made it) at at, or changes
	// the reporter's open report of the same target to r's reason and
	// note: a user has one open report per target. The target's case in
	// the queue counts it. A reporter who filed or changed rate.Reports
	// reports within rate.Per before at gets a *moderation.RateLimitedError
	// (moderation.ErrTooManyReports) saying how long until the oldest of
	// those leaves the window, and nothing changes; an absent reporter
	// gives ErrNotFound. Whether
	// the target exists and the reporter may see it is the caller's
	// business.
	Report(ctx context.Context, r moderation.Report, rate moderation.ReportRate, at time.Time) (moderation.Report, error)
	// Cases returns up to limit targets with open reports, the one
	// reported last first (then by target), strictly after the position
	// `after`, each with its counts and its newest reports (at most
	// CaseReports).
	Cases(ctx context.Context, limit int, after moderation.CasePosition) ([]moderation.Case, error)
	// HideVideo hides a video that is not deleted with d.Why as the
	// reason, resolves the video's open reports and appends d to the
	// audit log, in one transaction, and returns the video as it now is.
	// A video hidden already gives ErrWrongState; an absent or deleted
	// one ErrNotFound.
	HideVideo(ctx context.Context, d moderation.Decision) (video.Video, error)
	// RestoreVideo shows a hidden video again and appends d to the audit
	// log, in one transaction. A video that is not hidden gives
	// ErrWrongState; an absent or deleted one ErrNotFound.
	RestoreVideo(ctx context.Context, d moderation.Decision) (video.Video, error)
	// HideComment hides a comment under a video that is not deleted with
	// d.Why as the reason, resolves the comment's open reports and appends
	// d to the audit log, in one transaction, and returns the comment as
	// it now is. A comment hidden already gives ErrWrongState; an absent
	// one, or one under a deleted video, ErrNotFound. Its video's and its
	// thread's counts stay: a hidden comment keeps its place.
	HideComment(ctx context.Context, d moderation.Decision) (video.Comment, error)
	// RestoreComment shows a hidden comment again and appends d to the
	// audit log, in one transaction. A comment that is not hidden gives
	// ErrWrongState; an absent one, or one under a deleted video,
	// ErrNotFound.
	RestoreComment(ctx context.Context, d moderation.Decision) (video.Comment, error)
	// DismissReports resolves the open reports of d's target and appends
	// d to the audit log, in one transaction, and returns how many it
	// resolved. A target with no open report gives ErrNotFound.
	DismissReports(ctx context.Context, d moderation.Decision) (int, error)
	// AuditLog returns up to limit entries of the audit log, newest first,
	// of those with an id below before (0 starts from the newest).
	AuditLog(ctx context.Context, limit int, before int64) ([]moderation.Entry, error)
}

// CaseReports is how many of a case's newest reports the queue shows with
// it: enough to judge by, however many pile up on one target.
const CaseReports = 5

// CheckTarget refuses a target whose id cannot name content: it names
// nothing, so there is nothing to report or decide about.
func CheckTarget(t moderation.Target) error {
	if _, err := moderation.ParseKind(string(t.Kind)); err != nil {
		return err
	}
	if !ValidID(t.ID) {
		return fmt.Errorf("%s %q: %w", t.Kind, t.ID, video.ErrNotFound)
	}
	return nil
}

// CheckCasePosition refuses a Cases position whose target cannot name
// content: it is the caller's mistake, not the end of the queue.
func CheckCasePosition(after moderation.CasePosition) error {
	if after.Target.ID == "" {
		return nil
	}
	if _, err := moderation.ParseKind(string(after.Target.Kind)); err != nil || !ValidID(after.Target.ID) {
		return video.Invalid("queue position %s %q names no content", after.Target.Kind, after.Target.ID)
	}
	return nil
}

// WhyNotDecided explains hiding or restoring content of kind that exists
// but was not changed: it was hidden already, or was not hidden.
func WhyNotDecided(kind moderation.Kind, hidden bool) error {
	if hidden {
		return fmt.Errorf("%s is hidden already: %w", kind, video.ErrWrongState)
	}
	return fmt.Errorf("%s is not hidden: %w", kind, video.ErrWrongState)
}

// CheckDecision refuses a decision about content that is not of kind
// (the caller's mistake) or whose id cannot name any (nothing to decide
// about: ErrNotFound).
func CheckDecision(d moderation.Decision, kind moderation.Kind) error {
	if d.Target.Kind != kind {
		return video.Invalid("%s is not a %s", d.Target.Kind, kind)
	}
	if !ValidID(d.Target.ID) {
		return fmt.Errorf("%s %s %s: %w", d.Action, kind, d.Target.ID, video.ErrNotFound)
	}
	return nil
}
