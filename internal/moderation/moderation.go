// Package moderation is CloudFlix's domain model of reports and of what
// moderators do about them: what a report says, the queue of reported
// content, the actions that hide, restore or dismiss, and the audit log
// that keeps each action. It decides who may report, moderate and read the
// log; it must never import a transport or a backend.
package moderation

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/video"
)

// Kind is what sort of content a report is about.
type Kind string

const (
	KindVideo   Kind = "video"
	KindComment Kind = "comment"
)

// ParseKind reads a kind's name.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(s); k {
	case KindVideo, KindComment:
		return k, nil
	}
	return "", video.Invalid("kind %q: choose video or comment", s)
}

// Target is the piece of content a report is about.
type Target struct {
	Kind Kind
	ID   string
}

// Reason is the category a reporter files a report under.
type Reason string

const (
	ReasonSpam      Reason = "spam"
	ReasonAbuse     Reason = "abuse"
	ReasonSexual    Reason = "sexual"
	ReasonViolence  Reason = "violence"
	ReasonCopyright Reason = "copyright"
	ReasonOther     Reason = "other"
)

// Reasons are the categories in the order a form offers them.
var Reasons = []Reason{ReasonSpam, ReasonAbuse, ReasonSexual, ReasonViolence, ReasonCopyright, ReasonOther}

// ParseReason reads a reason's name.
func ParseReason(s string) (Reason, error) {
	for _, r := range Reasons {
		if string(r) == s {
			return r, nil
		}
	}
	return "", video.Invalid("reason %q: choose spam, abuse, sexual, violence, copyright or other", s)
}

// Bounds of what people write.
const (
	// MaxNoteRunes bounds a reporter's note: room for a few sentences and
	// a link, not an essay a moderator must scroll through.
	MaxNoteRunes = 1000
	// MaxWhyRunes bounds a moderator's reason for an action, which the
	// owner of a hidden video reads.
	MaxWhyRunes = 500
)

// ReportRate bounds how many reports one user files (or changes) within a
// window: enough for someone who meets a wave of spam, too few to flood
// the queue.
type ReportRate struct {
	Reports int
	Per     time.Duration
}

// DefaultReportRate is 20 reports an hour.
var DefaultReportRate = ReportRate{Reports: 20, Per: time.Hour}

// ErrTooManyReports: the reporter is over their ReportRate. The store
// refuses with a *RateLimitedError, which is it.
var ErrTooManyReports = errors.New("too many reports")

// RateLimitedError refuses a report filed faster than the reporter's
// ReportRate allows; RetryAfter says when one more is: when the oldest of
// the reports that fill the window leaves it.
type RateLimitedError struct {
	Rate       ReportRate
	RetryAfter time.Duration
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("at most %d reports in %v; try again in %v", e.Rate.Reports, e.Rate.Per, e.RetryAfter.Round(time.Second))
}

// Is makes a *RateLimitedError ErrTooManyReports to errors.Is.
func (e *RateLimitedError) Is(target error) bool { return target == ErrTooManyReports }

// Refuse is the refusal of a report at at by a reporter whose window is
// full, where filling is the time of the newest report that, once it
// leaves the window, lets one more in (the rate.Reports-th newest). The
// wait is at least a second, the finest a Retry-After says.
func (rate ReportRate) Refuse(filling, at time.Time) *RateLimitedError {
	return &RateLimitedError{Rate: rate, RetryAfter: max(filling.Add(rate.Per).Sub(at), time.Second)}
}

// AsRateLimited returns the *RateLimitedError err is or wraps, or nil.
func AsRateLimited(err error) *RateLimitedError {
	var rl *RateLimitedError
	if errors.As(err, &rl) {
		return rl
	}
	return nil
}

// Report is one user's report of a piece of content. A user has at most
// one open report per target: reporting again changes it.
type Report struct {
	Target     Target
	ReporterID string
	Reporter   string // the reporter's username, read with the report
	Reason     Reason
	Note       string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// NewReport checks a report as a user files it: a known reason and a note
// within its bound, trimmed.
func NewReport(t Target, reporterID, reason, note string) (Report, error) {
	if _, err := ParseKind(string(t.Kind)); err != nil {
		return Report{}, err
	}
	r, err := ParseReason(reason)
	if err != nil {
		return Report{}, err
	}
	note = strings.TrimSpace(note)
	if !utf8.ValidString(note) {
		return Report{}, video.Invalid("note is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(note); n > MaxNoteRunes {
		return Report{}, video.Invalid("note is %d characters long; at most %d", n, MaxNoteRunes)
	}
	return Report{Target: t, ReporterID: reporterID, Reason: r, Note: note}, nil
}

// Case is a target in the moderation queue: its open reports, counted as
// they are filed, with how many give each reason and when the newest came.
type Case struct {
	Target  Target
	Reports int
	Reasons map[Reason]int
	Latest  time.Time
	// Recent are the newest of its open reports, at most the store's
	// CaseReports of them.
	Recent []Report
}

// CasePosition is a keyset position in the queue, newest report first;
// the zero value is the start.
type CasePosition struct {
	Latest time.Time
	Target Target
}

// Action is what a moderator did.
type Action string

const (
	// ActionHide takes a target out of sight of everyone but its owner
	// (a comment's author) and moderators, and resolves its open reports.
	ActionHide Action = "hide"
	// ActionRestore shows a hidden target again.
	ActionRestore Action = "restore"
	// ActionDismiss resolves a target's open reports without acting on it.
	ActionDismiss Action = "dismiss"
)

// Decision is a moderator's action on a target, as the audit log keeps it.
type Decision struct {
	Action  Action
	Target  Target
	ActorID string
	Why     string
	At      time.Time // when the store logged it, by the database's clock
}

// NewDecision checks a moderator's action: a reason within its bound,
// required to hide (the owner is shown it) and to restore.
func NewDecision(a Action, t Target, actorID, why string) (Decision, error) {
	why = strings.TrimSpace(why)
	if !utf8.ValidString(why) {
		return Decision{}, video.Invalid("reason is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(why); n > MaxWhyRunes {
		return Decision{}, video.Invalid("reason is %d characters long; at most %d", n, MaxWhyRunes)
	}
	if why == "" && a != ActionDismiss {
		return Decision{}, video.Invalid("a reason is required to %s", a)
	}
	return Decision{Action: a, Target: t, ActorID: actorID, Why: why}, nil
}

// Entry is one line of the audit log: a decision, who made it (their
// username as it was), and how many open reports it resolved.
type Entry struct {
	ID       int64
	Decision Decision
	Actor    string
	Resolved int
}

// CanReport reports whether p may report content: any signed-in user. A
// report is the user's own act, so any credential of theirs may file it.
func CanReport(p auth.Principal) bool { return !p.Anonymous() }

// CanModerate reports whether p may read the queue, hide, restore and
// dismiss: moderators and admins.
func CanModerate(p auth.Principal) bool { return p.Moderates() }

// CanReadAudit reports whether p may read the audit log: admins only, who
// watch over the moderators too.
func CanReadAudit(p auth.Principal) bool { return p.Administers() }
