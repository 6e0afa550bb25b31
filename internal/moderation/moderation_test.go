package moderation

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/video"
)

func TestNewReport(t *testing.T) {
	target := Target{Kind: KindVideo, ID: "v"}
	r, err := NewReport(target, "u", "spam", "  see the links  ")
	if err != nil || r.Reason != ReasonSpam || r.Note != "see the links" {
		t.Fatalf("NewReport = %+v, %v", r, err)
	}
	if _, err := NewReport(target, "u", "other", strings.Repeat("é", MaxNoteRunes)); err != nil {
		t.Fatalf("a note of %d characters: %v", MaxNoteRunes, err)
	}
	for name, bad := range map[string]func() error{
		"unknown reason": func() error { _, err := NewReport(target, "u", "boring", ""); return err },
		"no reason":      func() error { _, err := NewReport(target, "u", "", ""); return err },
		"long note": func() error {
			_, err := NewReport(target, "u", "spam", strings.Repeat("a", MaxNoteRunes+1))
			return err
		},
		"bad UTF-8":    func() error { _, err := NewReport(target, "u", "spam", "\xff"); return err },
		"unknown kind": func() error { _, err := NewReport(Target{Kind: "user", ID: "x"}, "u", "spam", ""); return err },
	} {
		if err := bad(); !video.IsInvalid(err) {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
}

func TestNewDecision(t *testing.T) {
	target := Target{Kind: KindVideo, ID: "v"}
	if _, err := NewDecision(ActionHide, target, "m", " "); !video.IsInvalid(err) {
		t.Errorf("hiding without a reason: %v, want invalid", err)
	}
	if _, err := NewDecision(ActionRestore, target, "m", ""); !video.IsInvalid(err) {
		t.Errorf("restoring without a reason: %v, want invalid", err)
	}
	if d, err := NewDecision(ActionDismiss, target, "m", ""); err != nil || d.Why != "" {
		t.Errorf("dismissing without a reason: %+v, %v", d, err)
	}
	if _, err := NewDecision(ActionHide, target, "m", strings.Repeat("a", MaxWhyRunes+1)); !video.IsInvalid(err) {
		t.Errorf("a long reason: %v, want invalid", err)
	}
	if d, err := NewDecision(ActionHide, target, "m", " spam links "); err != nil || d.Why != "spam links" {
		t.Errorf("NewDecision = %+v, %v", d, err)
	}
}

func TestRules(t *testing.T) {
	var (
		anon      = auth.Principal{}
		user      = auth.Principal{UserID: "u", Role: auth.RoleUser}
		readToken = auth.Principal{UserID: "u", Role: auth.RoleUser, Scopes: []auth.Scope{auth.ScopeRead}}
		mod       = auth.Principal{UserID: "m", Role: auth.RoleModerator}
		modToken  = auth.Principal{UserID: "m", Role: auth.RoleModerator, Scopes: []auth.Scope{auth.ScopeRead}}
		admin     = auth.Principal{UserID: "a", Role: auth.RoleAdmin}
	)
	cases := []struct {
		name      string
		got, want bool
	}{
		{"anonymous does not report", CanReport(anon), false},
		{"a user reports", CanReport(user), true},
		{"with a read token too", CanReport(readToken), true},
		{"a user does not moderate", CanModerate(user), false},
		{"a moderator moderates", CanModerate(mod), true},
		{"not with a read token", CanModerate(modToken), false},
		{"an admin moderates", CanModerate(admin), true},
		{"a moderator does not read the audit log", CanReadAudit(mod), false},
		{"an admin reads it", CanReadAudit(admin), true},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: got %v", c.name, c.got)
		}
	}
}

func TestReportRateRefuse(t *testing.T) {
	rate := ReportRate{Reports: 20, Per: time.Hour}
	at := time.Date(2026, 1, 2, 15, 0, 0, 0, time.UTC)
	err := error(rate.Refuse(at.Add(-45*time.Minute), at))
	if rl := AsRateLimited(fmt.Errorf("report: %w", err)); rl == nil || rl.RetryAfter != 15*time.Minute {
		t.Fatalf("refused with %v; want a wait of 15m, until the filling report is an hour old", err)
	}
	if !errors.Is(err, ErrTooManyReports) {
		t.Errorf("%v is not ErrTooManyReports", err)
	}
	if got := rate.Refuse(at.Add(-time.Hour), at).RetryAfter; got != time.Second {
		t.Errorf("a window leaving right now waits %v, want a second", got)
	}
	if msg := err.Error(); !strings.Contains(msg, "at most 20 reports in 1h0m0s") || !strings.Contains(msg, "15m0s") {
		t.Errorf("message %q says neither the rate nor the wait", msg)
	}
}
