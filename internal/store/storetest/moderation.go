package storetest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/moderation"
	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/testenv"
	"github.com/cloudflix/cloudflix/internal/video"
)

// generous is a report rate no test here reaches unless it means to.
var generous = moderation.ReportRate{Reports: 1000, Per: time.Hour}

func videoTarget(id string) moderation.Target {
	return moderation.Target{Kind: moderation.KindVideo, ID: id}
}

func report(t *testing.T, s Store, target moderation.Target, reporter string, reason moderation.Reason, note string, at time.Time) moderation.Report {
	t.Helper()
	r, err := s.Report(ctxFor(t), moderation.Report{Target: target, ReporterID: reporter, Reason: reason, Note: note}, generous, at)
	if err != nil {
		t.Fatalf("report %s by %s: %v", target.ID, reporter, err)
	}
	return r
}

func decision(a moderation.Action, target moderation.Target, actor, why string) moderation.Decision {
	return moderation.Decision{Action: a, Target: target, ActorID: actor, Why: why}
}

func queue(t *testing.T, s Store) []moderation.Case {
	t.Helper()
	cases, err := s.Cases(ctxFor(t), 100, moderation.CasePosition{})
	if err != nil {
		t.Fatalf("Cases: %v", err)
	}
	return cases
}

func testReportsQueue(t *testing.T, s Store) {
	ctx := ctxFor(t)
	ada := NewUser(t, s, testenv.Name("ada"), auth.RoleUser)
	bob := NewUser(t, s, testenv.Name("bob"), auth.RoleUser)
	first, second := Ready(t, s, "Reported twice"), Ready(t, s, "Reported once")
	base := time.Now().Add(-time.Hour)

	report(t, s, videoTarget(first.ID), ada.ID, moderation.ReasonSpam, "", base)
	report(t, s, videoTarget(first.ID), bob.ID, moderation.ReasonAbuse, "rude", base.Add(time.Minute))
	report(t, s, videoTarget(second.ID), ada.ID, moderation.ReasonOther, "", base.Add(2*time.Minute))
	cases := queue(t, s)
	if len(cases) != 2 || cases[0].Target.ID != second.ID || cases[1].Target.ID != first.ID {
		t.Fatalf("queue = %+v; want the video reported last first", cases)
	}

	// Reporting again changes the one open report: the reason's counts
	// follow, and the case moves up with its newest report.
	again := report(t, s, videoTarget(first.ID), ada.ID, moderation.ReasonAbuse, "on second thought", base.Add(3*time.Minute))
	if !again.CreatedAt.Equal(base.Truncate(time.Microsecond)) || again.Reporter != ada.Username {
		t.Fatalf("the changed report = %+v; want it created at first with its reporter's name", again)
	}
	cases = queue(t, s)
	if len(cases) != 2 || cases[0].Target.ID != first.ID {
		t.Fatalf("queue after a changed report = %+v; want the changed one's target first", cases)
	}
	c := cases[0]
	if c.Reports != 2 || !maps.Equal(c.Reasons, map[moderation.Reason]int{moderation.ReasonAbuse: 2}) {
		t.Fatalf("case = %d reports %v; want 2, both abuse", c.Reports, c.Reasons)
	}
	if !c.Latest.Equal(base.Add(3 * time.Minute).Truncate(time.Microsecond)) {
		t.Fatalf("case's latest report at %v, want %v", c.Latest, base.Add(3*time.Minute))
	}
	if len(c.Recent) != 2 || c.Recent[0].ReporterID != ada.ID || c.Recent[0].Note != "on second thought" ||
		c.Recent[1].Reporter != bob.Username || c.Recent[1].Reason != moderation.ReasonAbuse {
		t.Fatalf("case's reports = %+v; want ada's changed one, then bob's", c.Recent)
	}

	// Pages follow on from a position.
	page, err := s.Cases(ctx, 1, moderation.CasePosition{})
	if err != nil || len(page) != 1 || page[0].Target.ID != first.ID {
		t.Fatalf("first page = %+v, %v", page, err)
	}
	page, err = s.Cases(ctx, 1, moderation.CasePosition{Latest: page[0].Latest, Target: page[0].Target})
	if err != nil || len(page) != 1 || page[0].Target.ID != second.ID || page[0].Reports != 1 {
		t.Fatalf("second page = %+v, %v", page, err)
	}
	page, err = s.Cases(ctx, 1, moderation.CasePosition{Latest: page[0].Latest, Target: page[0].Target})
	if err != nil || len(page) != 0 {
		t.Fatalf("third page = %+v, %v; want none", page, err)
	}
	_, err = s.Cases(ctx, 1, moderation.CasePosition{Latest: base, Target: videoTarget("nope")})
	if !video.IsInvalid(err) {
		t.Fatalf("a position naming no content: %v, want invalid", err)
	}

	// The queue shows a case's newest reports only, however many it has.
	many := Ready(t, s, "Reported by many")
	for i := range store.CaseReports + 2 {
		u := NewUser(t, s, testenv.Name(fmt.Sprintf("u%d", i)), auth.RoleUser)
		report(t, s, videoTarget(many.ID), u.ID, moderation.ReasonSpam, "", base.Add(time.Duration(10+i)*time.Minute))
	}
	c = queue(t, s)[0]
	if c.Target.ID != many.ID || c.Reports != store.CaseReports+2 || len(c.Recent) != store.CaseReports {
		t.Fatalf("case of many = %d reports, %d shown; want %d, %d shown", c.Reports, len(c.Recent), store.CaseReports+2, store.CaseReports)
	}
	for i := 1; i < len(c.Recent); i++ {
		if c.Recent[i].UpdatedAt.After(c.Recent[i-1].UpdatedAt) {
			t.Fatalf("case's reports are not newest first: %+v", c.Recent)
		}
	}
}

func testReportRules(t *testing.T, s Store) {
	ctx := ctxFor(t)
	ada := NewUser(t, s, testenv.Name("ada"), auth.RoleUser)
	rate := moderation.ReportRate{Reports: 3, Per: time.Hour}
	now := time.Now()
	vs := make([]video.Video, 4)
	for i := range vs {
		vs[i] = Ready(t, s, fmt.Sprintf("Video %d", i))
	}
	file := func(v video.Video, at time.Time) error {
		_, err := s.Report(ctx, moderation.Report{Target: videoTarget(v.ID), ReporterID: ada.ID, Reason: moderation.ReasonSpam}, rate, at)
		return err
	}
	for i, v := range vs[:3] {
		if err := file(v, now.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	// The refusal says how long until the oldest report in the window
	// leaves it: the first, filed at now, an hour after it.
	late := now.Add(3 * time.Minute)
	err := file(vs[3], late)
	wantErr(t, "a report over the rate", err, moderation.ErrTooManyReports)
	if rl := moderation.AsRateLimited(err); rl == nil || rl.RetryAfter != rate.Per-3*time.Minute {
		t.Fatalf("a report over the rate: %v; want it to wait %v", err, rate.Per-3*time.Minute)
	}
	wantErr(t, "changing a report over the rate", file(vs[0], late), moderation.ErrTooManyReports)
	if c := queue(t, s); len(c) != 3 {
		t.Fatalf("queue holds %d cases after a refused report, want 3", len(c))
	}
	// Once the first leaves the window one more is let in, and then the
	// wait is until the second leaves.
	if err := file(vs[3], now.Add(rate.Per+time.Second)); err != nil {
		t.Fatalf("a report once the oldest has left the window: %v", err)
	}
	later := now.Add(rate.Per + 2*time.Second)
	err = file(vs[0], later)
	if rl := moderation.AsRateLimited(err); rl == nil || rl.RetryAfter != time.Minute-2*time.Second {
		t.Fatalf("a report over the rate again: %v; want it to wait until the second report leaves the window", err)
	}

	_, err = s.Report(ctx, moderation.Report{Target: videoTarget(vs[0].ID), ReporterID: uuid.NewString(), Reason: moderation.ReasonSpam}, rate, now)
	wantErr(t, "a report by a user who does not exist", err, video.ErrNotFound)
	for _, bad := range []string{"", "not-a-uuid"} {
		_, err = s.Report(ctx, moderation.Report{Target: videoTarget(bad), ReporterID: ada.ID, Reason: moderation.ReasonSpam}, rate, now)
		wantErr(t, fmt.Sprintf("a report of %q", bad), err, video.ErrNotFound)
	}
	_, err = s.Report(ctx, moderation.Report{Target: moderation.Target{Kind: "channel", ID: vs[0].ID}, ReporterID: ada.ID, Reason: moderation.ReasonSpam}, rate, now)
	if !video.IsInvalid(err) {
		t.Fatalf("a report of an unknown kind: %v, want invalid", err)
	}
}

func testHideAndRestore(t *testing.T, s Store) {
	ctx := ctxFor(t)
	owner := NewUser(t, s, testenv.Name("own"), auth.RoleUser)
	fan := NewUser(t, s, testenv.Name("fan"), auth.RoleUser)
	mod := NewUser(t, s, testenv.Name("mod"), auth.RoleModerator)
	v := ReadyBy(t, s, owner.ID, video.PrivacyPublic, "Marzipan Lighthouse")
	kept := ReadyBy(t, s, owner.ID, video.PrivacyPublic, "Other Lighthouse")
	if _, err := s.Like(ctx, v.ID, fan.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	report(t, s, videoTarget(v.ID), fan.ID, moderation.ReasonSpam, "", time.Now())
	report(t, s, videoTarget(kept.ID), fan.ID, moderation.ReasonOther, "", time.Now())

	hidden, err := s.HideVideo(ctx, decision(moderation.ActionHide, videoTarget(v.ID), mod.ID, "spam links"))
	if err != nil {
		t.Fatal(err)
	}
	if !hidden.Hidden() || hidden.HiddenReason != "spam links" || hidden.Title != v.Title {
		t.Fatalf("HideVideo = %+v; want the video hidden for its reason", hidden)
	}
	if got := get(t, s, v.ID); !got.Hidden() || got.HiddenReason != "spam links" || !got.HiddenAt.Equal(hidden.HiddenAt) {
		t.Fatalf("Video after hiding = hidden at %v for %q", got.HiddenAt, got.HiddenReason)
	}
	wantListed(t, s, owner.ID, kept.ID)
	wantFound(t, s, "lighthouse", "Other Lighthouse")
	wantFound(t, s, "marzipan")
	wantFound(t, s, "marzipn") // no typo is corrected to a hidden video's word
	if got, err := s.Suggest(ctx, "marz", 10); err != nil || len(got) != 0 {
		t.Fatalf("Suggest(marz) = %q, %v; want none", got, err)
	}
	all, err := s.ChannelVideos(ctx, owner.ID, true, 10, video.ListPosition{})
	if err != nil || len(all) != 2 {
		t.Fatalf("the whole channel = %v, %v; want the hidden video too", ids(all), err)
	}
	if cases := queue(t, s); len(cases) != 1 || cases[0].Target.ID != kept.ID {
		t.Fatalf("queue after hiding = %+v; want the hidden video's reports resolved", cases)
	}

	_, err = s.HideVideo(ctx, decision(moderation.ActionHide, videoTarget(v.ID), mod.ID, "again"))
	wantErr(t, "hiding a hidden video", err, video.ErrWrongState)
	_, err = s.RestoreVideo(ctx, decision(moderation.ActionRestore, videoTarget(kept.ID), mod.ID, "fine"))
	wantErr(t, "restoring a video that shows", err, video.ErrWrongState)

	restored, err := s.RestoreVideo(ctx, decision(moderation.ActionRestore, videoTarget(v.ID), mod.ID, "appeal upheld"))
	if err != nil || restored.Hidden() || restored.HiddenReason != "" {
		t.Fatalf("RestoreVideo = %+v, %v; want it shown", restored, err)
	}
	wantListed(t, s, owner.ID, kept.ID, v.ID)
	wantFound(t, s, "marzipn", "Marzipan Lighthouse")
	if got, err := s.Suggest(ctx, "marz", 10); err != nil || !slices.Equal(got, []string{"Marzipan Lighthouse"}) {
		t.Fatalf("Suggest(marz) after restoring = %q, %v", got, err)
	}

	// A video that is gone or was never there is not found; a decision by
	// no user is refused and changes nothing.
	_, err = s.HideVideo(ctx, decision(moderation.ActionHide, videoTarget(uuid.NewString()), mod.ID, "x"))
	wantErr(t, "hiding a video that does not exist", err, video.ErrNotFound)
	_, err = s.HideVideo(ctx, decision(moderation.ActionHide, videoTarget(v.ID), uuid.NewString(), "x"))
	wantErr(t, "hiding by a user who does not exist", err, video.ErrNotFound)
	if got := get(t, s, v.ID); got.Hidden() {
		t.Fatal("a refused hiding hid the video")
	}
	if _, err := s.DeleteVideo(ctx, kept.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.HideVideo(ctx, decision(moderation.ActionHide, videoTarget(kept.ID), mod.ID, "x"))
	wantErr(t, "hiding a deleted video", err, video.ErrNotFound)

	entries, err := s.AuditLog(ctx, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []moderation.Action{moderation.ActionRestore, moderation.ActionHide}
	if got := actions(entries); !slices.Equal(got, want) {
		t.Fatalf("audit log = %v; want %v", got, want)
	}
	hide := entries[1]
	if hide.Actor != mod.Username || hide.Decision.ActorID != mod.ID || hide.Decision.Target != videoTarget(v.ID) ||
		hide.Decision.Why != "spam links" || hide.Resolved != 1 || time.Since(hide.Decision.At) > time.Minute {
		t.Fatalf("the hiding's entry = %+v", hide)
	}
	if entries[0].Resolved != 0 || entries[0].Decision.Why != "appeal upheld" {
		t.Fatalf("the restoring's entry = %+v", entries[0])
	}
}

func commentTarget(id string) moderation.Target {
	return moderation.Target{Kind: moderation.KindComment, ID: id}
}

func testHideAndRestoreComment(t *testing.T, s Store) {
	ctx := ctxFor(t)
	owner := NewUser(t, s, testenv.Name("own"), auth.RoleUser)
	troll := NewUser(t, s, testenv.Name("troll"), auth.RoleUser)
	fan := NewUser(t, s, testenv.Name("fan"), auth.RoleUser)
	mod := NewUser(t, s, testenv.Name("mod"), auth.RoleModerator)
	v := ReadyBy(t, s, owner.ID, video.PrivacyPublic, "Commented on")
	base := time.Now().Add(-time.Hour)
	rude := AddComment(t, s, v.ID, troll.ID, "", "rude words", base)
	reply := AddComment(t, s, v.ID, fan.ID, rude.ID, "please be kind", base.Add(time.Minute))
	kept := AddComment(t, s, v.ID, fan.ID, "", "nice video", base.Add(2*time.Minute))
	report(t, s, commentTarget(rude.ID), fan.ID, moderation.ReasonAbuse, "", time.Now())
	report(t, s, commentTarget(rude.ID), owner.ID, moderation.ReasonSpam, "", time.Now())
	report(t, s, commentTarget(kept.ID), troll.ID, moderation.ReasonOther, "", time.Now())

	hidden, err := s.HideComment(ctx, decision(moderation.ActionHide, commentTarget(rude.ID), mod.ID, "insults"))
	if err != nil {
		t.Fatal(err)
	}
	if !hidden.Hidden() || hidden.HiddenReason != "insults" || hidden.Body != "rude words" ||
		hidden.AuthorName != troll.Username || hidden.Replies != 1 || time.Since(hidden.HiddenAt) > time.Minute {
		t.Fatalf("HideComment = %+v; want the comment whole, hidden for its reason", hidden)
	}
	got, err := s.Comment(ctx, rude.ID)
	if err != nil || !got.Hidden() || !got.HiddenAt.Equal(hidden.HiddenAt) || got.HiddenReason != "insults" {
		t.Fatalf("Comment after hiding = %+v, %v", got, err)
	}
	// It keeps its place in the thread and in the counts: which readers
	// see it whole is the caller's business.
	page, err := s.VideoComments(ctx, v.ID, 10, video.CommentPosition{})
	wantBodies(t, "the video's comments", page, err, "nice video", "rude words")
	if !page[1].Hidden() || page[1].HiddenReason != "insults" || page[0].Hidden() {
		t.Fatalf("the page shows hidden %v, %v; want the rude comment alone hidden", page[0].Hidden(), page[1].Hidden())
	}
	replies, err := s.CommentReplies(ctx, rude.ID, 10, video.CommentPosition{})
	wantBodies(t, "the hidden comment's replies", replies, err, "please be kind")
	if got := get(t, s, v.ID); got.Comments != 3 {
		t.Fatalf("the video counts %d comments after hiding one, want 3", got.Comments)
	}
	if cases := queue(t, s); len(cases) != 1 || cases[0].Target != commentTarget(kept.ID) {
		t.Fatalf("queue after hiding = %+v; want the hidden comment's reports resolved", cases)
	}

	_, err = s.HideComment(ctx, decision(moderation.ActionHide, commentTarget(rude.ID), mod.ID, "again"))
	wantErr(t, "hiding a hidden comment", err, video.ErrWrongState)
	_, err = s.RestoreComment(ctx, decision(moderation.ActionRestore, commentTarget(kept.ID), mod.ID, "fine"))
	wantErr(t, "restoring a comment that shows", err, video.ErrWrongState)

	// A reply is hidden on its own, its thread untouched.
	if r, err := s.HideComment(ctx, decision(moderation.ActionHide, commentTarget(reply.ID), mod.ID, "off topic")); err != nil || !r.Hidden() || r.ParentID != rude.ID {
		t.Fatalf("hiding a reply = %+v, %v", r, err)
	}
	restoredReply, err := s.RestoreComment(ctx, decision(moderation.ActionRestore, commentTarget(reply.ID), mod.ID, "on topic after all"))
	if err != nil || restoredReply.Hidden() {
		t.Fatalf("restoring the reply = %+v, %v", restoredReply, err)
	}

	restored, err := s.RestoreComment(ctx, decision(moderation.ActionRestore, commentTarget(rude.ID), mod.ID, "apologized"))
	if err != nil || restored.Hidden() || restored.HiddenReason != "" || restored.Body != "rude words" {
		t.Fatalf("RestoreComment = %+v, %v; want it shown", restored, err)
	}
	if got, err := s.Comment(ctx, rude.ID); err != nil || got.Hidden() {
		t.Fatalf("Comment after restoring = %+v, %v", got, err)
	}

	// A comment that is gone or never was, or is under a deleted video, is
	// not found; a video's id is not a comment's; a decision by no user
	// is refused and changes nothing.
	_, err = s.HideComment(ctx, decision(moderation.ActionHide, commentTarget(uuid.NewString()), mod.ID, "x"))
	wantErr(t, "hiding a comment that does not exist", err, video.ErrNotFound)
	_, err = s.HideComment(ctx, decision(moderation.ActionHide, commentTarget("not-a-uuid"), mod.ID, "x"))
	wantErr(t, "hiding a comment of a malformed id", err, video.ErrNotFound)
	_, err = s.HideComment(ctx, decision(moderation.ActionHide, videoTarget(rude.ID), mod.ID, "x"))
	if !video.IsInvalid(err) {
		t.Fatalf("hiding a comment named as a video: %v, want invalid", err)
	}
	_, err = s.HideVideo(ctx, decision(moderation.ActionHide, commentTarget(v.ID), mod.ID, "x"))
	if !video.IsInvalid(err) {
		t.Fatalf("hiding a video named as a comment: %v, want invalid", err)
	}
	_, err = s.HideComment(ctx, decision(moderation.ActionHide, commentTarget(rude.ID), uuid.NewString(), "x"))
	wantErr(t, "hiding by a user who does not exist", err, video.ErrNotFound)
	if got, err := s.Comment(ctx, rude.ID); err != nil || got.Hidden() {
		t.Fatalf("a refused hiding: %+v, %v; want the comment shown", got, err)
	}
	removed := AddComment(t, s, v.ID, troll.ID, "", "soon gone", base.Add(3*time.Minute))
	if _, err := s.DeleteComment(ctx, removed.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.HideComment(ctx, decision(moderation.ActionHide, commentTarget(removed.ID), mod.ID, "x"))
	wantErr(t, "hiding a removed comment", err, video.ErrNotFound)
	if _, err := s.DeleteVideo(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.HideComment(ctx, decision(moderation.ActionHide, commentTarget(kept.ID), mod.ID, "x"))
	wantErr(t, "hiding a comment under a deleted video", err, video.ErrNotFound)
	_, err = s.RestoreComment(ctx, decision(moderation.ActionRestore, commentTarget(kept.ID), mod.ID, "x"))
	wantErr(t, "restoring a comment under a deleted video", err, video.ErrNotFound)

	entries, err := s.AuditLog(ctx, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []moderation.Action{moderation.ActionRestore, moderation.ActionRestore, moderation.ActionHide, moderation.ActionHide}
	if got := actions(entries); !slices.Equal(got, want) {
		t.Fatalf("audit log = %v; want %v", got, want)
	}
	hide := entries[3]
	if hide.Actor != mod.Username || hide.Decision.Target != commentTarget(rude.ID) ||
		hide.Decision.Why != "insults" || hide.Resolved != 2 {
		t.Fatalf("the hiding's entry = %+v", hide)
	}
	if e := entries[0]; e.Decision.Target != commentTarget(rude.ID) || e.Decision.Why != "apologized" || e.Resolved != 0 {
		t.Fatalf("the restoring's entry = %+v", e)
	}
	if e := entries[2]; e.Decision.Target != commentTarget(reply.ID) || e.Resolved != 0 {
		t.Fatalf("the reply's hiding's entry = %+v", e)
	}
}

// wantListed holds every list of listed videos to want (any order): the
// latest and trending lists and the owner's channel as others see it.
func wantListed(t *testing.T, s Store, owner string, want ...string) {
	t.Helper()
	ctx := ctxFor(t)
	slices.Sort(want)
	latest, err := s.LatestVideos(ctx, 10, video.ListPosition{})
	if got := slices.Sorted(slices.Values(ids(latest))); err != nil || !slices.Equal(got, want) {
		t.Fatalf("LatestVideos = %v, %v; want %v", got, err, want)
	}
	channel, err := s.ChannelVideos(ctx, owner, false, 10, video.ListPosition{})
	if got := slices.Sorted(slices.Values(ids(channel))); err != nil || !slices.Equal(got, want) {
		t.Fatalf("ChannelVideos = %v, %v; want %v", got, err, want)
	}
	trending, err := s.TrendingVideos(ctx, 10, video.TrendPosition{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, tv := range trending {
		if !slices.Contains(want, tv.Video.ID) {
			t.Fatalf("TrendingVideos lists %s, which is not listed", tv.Video.ID)
		}
	}
}

func actions(entries []moderation.Entry) []moderation.Action {
	out := make([]moderation.Action, len(entries))
	for i, e := range entries {
		out[i] = e.Decision.Action
	}
	return out
}

func testDismissReports(t *testing.T, s Store) {
	ctx := ctxFor(t)
	ada := NewUser(t, s, testenv.Name("ada"), auth.RoleUser)
	bob := NewUser(t, s, testenv.Name("bob"), auth.RoleUser)
	mod := NewUser(t, s, testenv.Name("mod"), auth.RoleModerator)
	v := Ready(t, s, "Harmless")
	comment := moderation.Target{Kind: moderation.KindComment, ID: uuid.NewString()}
	report(t, s, videoTarget(v.ID), ada.ID, moderation.ReasonSpam, "", time.Now())
	report(t, s, videoTarget(v.ID), bob.ID, moderation.ReasonOther, "", time.Now())
	report(t, s, comment, ada.ID, moderation.ReasonAbuse, "", time.Now())

	n, err := s.DismissReports(ctx, decision(moderation.ActionDismiss, videoTarget(v.ID), mod.ID, ""))
	if err != nil || n != 2 {
		t.Fatalf("DismissReports = %d, %v; want 2", n, err)
	}
	if cases := queue(t, s); len(cases) != 1 || cases[0].Target != comment {
		t.Fatalf("queue after dismissing = %+v; want the comment's case alone", cases)
	}
	if got := get(t, s, v.ID); got.Hidden() {
		t.Fatal("dismissing reports hid the video")
	}
	_, err = s.DismissReports(ctx, decision(moderation.ActionDismiss, videoTarget(v.ID), mod.ID, ""))
	wantErr(t, "dismissing with no open report", err, video.ErrNotFound)

	// A dismissed report is closed: its reporter may report again, and the
	// target is back in the queue with that report alone.
	report(t, s, videoTarget(v.ID), ada.ID, moderation.ReasonViolence, "it got worse", time.Now())
	cases := queue(t, s)
	if len(cases) != 2 || cases[0].Target.ID != v.ID || cases[0].Reports != 1 ||
		!maps.Equal(cases[0].Reasons, map[moderation.Reason]int{moderation.ReasonViolence: 1}) {
		t.Fatalf("queue after a new report = %+v", cases)
	}
	if n, err := s.DismissReports(ctx, decision(moderation.ActionDismiss, comment, mod.ID, "not abuse")); err != nil || n != 1 {
		t.Fatalf("dismissing a comment's report = %d, %v", n, err)
	}

	entries, err := s.AuditLog(ctx, 10, 0)
	if err != nil || len(entries) != 2 {
		t.Fatalf("AuditLog = %+v, %v; want two dismissals", entries, err)
	}
	if e := entries[0]; e.Decision.Target != comment || e.Decision.Why != "not abuse" || e.Resolved != 1 {
		t.Fatalf("newest entry = %+v", e)
	}
	if e := entries[1]; e.Decision.Target.ID != v.ID || e.Decision.Action != moderation.ActionDismiss || e.Resolved != 2 {
		t.Fatalf("oldest entry = %+v", e)
	}
	older, err := s.AuditLog(ctx, 10, entries[0].ID)
	if err != nil || len(older) != 1 || older[0].ID != entries[1].ID {
		t.Fatalf("AuditLog before the newest = %+v, %v", older, err)
	}
}

// Reports filed at once by many users, each also changing their reason,
// while a moderator dismisses the target's reports, leave the queue's
// counts equal to the open reports: a case counts exactly the reports
// that a later dismissal resolves.
func testConcurrentReports(t *testing.T, s Store) {
	ctx := ctxFor(t)
	v := Ready(t, s, "Piled on")
	mod := NewUser(t, s, testenv.Name("mod"), auth.RoleModerator)
	const reporters = 12
	users := make([]string, reporters)
	for i := range users {
		users[i] = NewUser(t, s, testenv.Name(fmt.Sprintf("r%d", i)), auth.RoleUser).ID
	}
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		dismissed int
		errs      []error
	)
	for i, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, reason := range []moderation.Reason{moderation.ReasonSpam, moderation.Reasons[i%len(moderation.Reasons)]} {
				_, err := s.Report(ctx, moderation.Report{Target: videoTarget(v.ID), ReporterID: u, Reason: reason}, generous, time.Now())
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		n, err := s.DismissReports(ctx, decision(moderation.ActionDismiss, videoTarget(v.ID), mod.ID, ""))
		mu.Lock()
		defer mu.Unlock()
		if err != nil && !errors.Is(err, video.ErrNotFound) {
			errs = append(errs, err)
		}
		dismissed = n
	}()
	wg.Wait()
	if len(errs) > 0 {
		t.Fatal(errors.Join(errs...))
	}
	cases := queue(t, s)
	open := 0
	if len(cases) == 1 {
		c := cases[0]
		open = c.Reports
		sum := 0
		for _, n := range c.Reasons {
			sum += n
		}
		if sum != c.Reports {
			t.Fatalf("case counts %d reports but %d by reason (%v)", c.Reports, sum, c.Reasons)
		}
	}
	if open+dismissed < reporters || open > reporters {
		t.Fatalf("%d open and %d dismissed of %d reporters' reports", open, dismissed, reporters)
	}
	n, err := s.DismissReports(ctx, decision(moderation.ActionDismiss, videoTarget(v.ID), mod.ID, ""))
	if open == 0 {
		wantErr(t, "dismissing an empty case", err, video.ErrNotFound)
	} else if err != nil || n != open {
		t.Fatalf("the second dismissal resolved %d, %v; the case counted %d", n, err, open)
	}
}
