package video

import (
	"strings"
	"testing"
	"time"
)

func TestCommentBody(t *testing.T) {
	for in, want := range map[string]string{
		"hello":                   "hello",
		"  two\r\nlines\n\n ":     "two\nlines",
		"tab\tkept":               "tab\tkept",
		"<b>plain</b> & text":     "<b>plain</b> & text",
		strings.Repeat("é", 5000): strings.Repeat("é", 5000),
	} {
		got, err := CommentBody(in)
		if err != nil || got != want {
			t.Errorf("CommentBody(%.20q) = %.20q, %v; want %.20q", in, got, err, want)
		}
	}
	for _, in := range []string{"", " \n ", strings.Repeat("é", 5001), "nul\x00", "esc\x1b[31m", "\xff\xfe"} {
		if _, err := CommentBody(in); !IsInvalid(err) {
			t.Errorf("CommentBody(%.20q): got %v, want invalid input", in, err)
		}
	}
}

func TestCommentRateSpend(t *testing.T) {
	rate := CommentRate{Burst: 2, Refill: 10 * time.Second}
	t0 := time.Unix(1_000_000, 0)
	a, wait := rate.Spend(Allowance{}, t0)
	if wait != 0 || a.Tokens != 1 || !a.At.Equal(t0) {
		t.Fatalf("first comment: %+v, wait %v", a, wait)
	}
	a, wait = rate.Spend(a, t0)
	if wait != 0 || a.Tokens != 0 {
		t.Fatalf("second comment: %+v, wait %v", a, wait)
	}
	if _, wait = rate.Spend(a, t0.Add(4*time.Second)); wait != 6*time.Second {
		t.Fatalf("third comment after 4s waits %v, want 6s", wait)
	}
	a, wait = rate.Spend(a, t0.Add(10*time.Second))
	if wait != 0 || a.Tokens != 0 {
		t.Fatalf("a comment after a refill: %+v, wait %v", a, wait)
	}
	// A long pause fills the bucket to the burst, no more.
	a, _ = rate.Spend(a, t0.Add(time.Hour))
	if a.Tokens != 1 {
		t.Fatalf("after an hour %v tokens are left, want 1", a.Tokens)
	}
	// A clock behind the last post's refills nothing and never goes back.
	b, wait := rate.Spend(Allowance{Tokens: 1.5, At: t0}, t0.Add(-time.Minute))
	if wait != 0 || b.Tokens != 0.5 || !b.At.Equal(t0) {
		t.Fatalf("a post from a slow clock: %+v, wait %v", b, wait)
	}
	if _, wait := (CommentRate{}).Spend(Allowance{}, t0); wait != 0 {
		t.Fatalf("no rate waits %v", wait)
	}
}
