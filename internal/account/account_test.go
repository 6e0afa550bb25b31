package account

import (
	"errors"
	"strings"
	"testing"

	"github.com/cloudflix/cloudflix/internal/video"
)

func TestUsernames(t *testing.T) {
	for in, want := range map[string]string{"Ada": "ada", " grace.hopper ": "grace.hopper", "x_1-2": "x_1-2"} {
		if got, err := NormalizeUsername(in); got != want || err != nil {
			t.Errorf("NormalizeUsername(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "ab", strings.Repeat("a", 31), "-ada", "ada.", "a da", "ädä", "admin", "API"} {
		if _, err := NormalizeUsername(bad); !video.IsInvalid(err) {
			t.Errorf("NormalizeUsername(%q) = %v, want invalid", bad, err)
		}
	}
}

func TestEmails(t *testing.T) {
	if got, err := NormalizeEmail(" Ada@Example.ORG "); got != "ada@example.org" || err != nil {
		t.Errorf("NormalizeEmail = %q, %v", got, err)
	}
	for _, bad := range []string{"", "ada", "ada@", "Ada <ada@example.org>", "ada@localhost", "a b@example.org"} {
		if _, err := NormalizeEmail(bad); !video.IsInvalid(err) {
			t.Errorf("NormalizeEmail(%q) = %v, want invalid", bad, err)
		}
	}
}

func TestPasswords(t *testing.T) {
	if err := CheckPassword("seven77"); !video.IsInvalid(err) {
		t.Errorf("a 7-character password: %v", err)
	}
	if err := CheckPassword("eight888"); err != nil {
		t.Errorf("an 8-character password: %v", err)
	}
	if err := CheckPassword(strings.Repeat("x", 1025)); !video.IsInvalid(err) {
		t.Errorf("a 1025-byte password: %v", err)
	}
}

func TestQuota(t *testing.T) {
	q := Quota{Storage: 100, Daily: 50, Stored: 60, UploadedToday: 20}
	if err := q.Allows(30); err != nil {
		t.Errorf("an upload within both quotas: %v", err)
	}
	if err := q.Allows(41); !errors.Is(err, ErrQuotaExceeded) || !strings.Contains(err.Error(), "storage quota") {
		t.Errorf("over the storage quota: %v", err)
	}
	if err := q.Allows(31); !errors.Is(err, ErrQuotaExceeded) || !strings.Contains(err.Error(), "daily upload quota") {
		t.Errorf("over the daily quota: %v", err)
	}
	if err := (Quota{Storage: Unlimited, Daily: Unlimited, Stored: 1 << 50}).Allows(1 << 50); err != nil {
		t.Errorf("unlimited: %v", err)
	}
	s, d := User{DailyQuota: Unlimited}.Effective(10, 20)
	if s != 10 || d != Unlimited {
		t.Errorf("Effective = %d, %d", s, d)
	}
}
