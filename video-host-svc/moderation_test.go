package hostsvc

import (
	"context"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/moderation"
	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	"github.com/cloudflix/cloudflix/internal/store/storetest"
	"github.com/cloudflix/cloudflix/internal/testenv"
	"github.com/cloudflix/cloudflix/internal/video"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

func wantCode(t *testing.T, what string, err error, want codes.Code) {
	t.Helper()
	if status.Code(err) != want {
		t.Fatalf("%s: %v, want %v", what, err, want)
	}
}

// retryDelay is the RetryInfo of a status error, 0 without one.
func retryDelay(err error) time.Duration {
	for _, d := range status.Convert(err).Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			return ri.GetRetryDelay().AsDuration()
		}
	}
	return 0
}

func videoReport(id, reason string) *pb.FileReportRequest {
	return &pb.FileReportRequest{Target: &pb.ReportTarget{Kind: "video", Id: id}, Reason: reason}
}

func TestModeration(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testModeration)
}

// A report reaches the queue, a moderator hides the video for everyone but
// its owner and moderators (its cached info too), only an admin reads the
// audit log, and restoring shows the video again.
func testModeration(t *testing.T, p *platform.Process) {
	f := newFixture(t, p)
	m := NewModeration(f.store, f.cache, moderation.ReportRate{Reports: 2, Per: time.Hour})
	ctx := t.Context()
	owner := storetest.NewUser(t, f.store, testenv.Name("own"), auth.RoleUser)
	fan := storetest.NewUser(t, f.store, testenv.Name("fan"), auth.RoleUser)
	mod := storetest.NewUser(t, f.store, testenv.Name("mod"), auth.RoleModerator)
	admin := storetest.NewUser(t, f.store, testenv.Name("adm"), auth.RoleAdmin)
	asOwner, asFan, asMod, asAdmin := storetest.SignedIn(ctx, owner), storetest.SignedIn(ctx, fan), storetest.SignedIn(ctx, mod), storetest.SignedIn(ctx, admin)
	public := storetest.ReadyBy(t, f.store, owner.ID, video.PrivacyPublic, "Public")
	private := storetest.ReadyBy(t, f.store, owner.ID, video.PrivacyPrivate, "Private")

	_, err := m.FileReport(ctx, videoReport(public.ID, "spam"))
	wantCode(t, "an anonymous report", err, codes.Unauthenticated)
	_, err = m.FileReport(asFan, videoReport(private.ID, "spam"))
	wantCode(t, "a report of a video the reporter may not see", err, codes.NotFound)
	_, err = m.FileReport(asFan, videoReport(public.ID, "boring"))
	wantCode(t, "a report for an unknown reason", err, codes.InvalidArgument)
	_, err = m.FileReport(asFan, &pb.FileReportRequest{Target: &pb.ReportTarget{Kind: "channel", Id: public.ID}, Reason: "spam"})
	wantCode(t, "a report of an unknown kind", err, codes.InvalidArgument)
	r, err := m.FileReport(asFan, &pb.FileReportRequest{Target: &pb.ReportTarget{Kind: "video", Id: public.ID}, Reason: "spam", Note: "links"})
	must(t, err)
	if r.GetReporterUsername() != fan.Username || r.GetReason() != "spam" || r.GetNote() != "links" {
		t.Fatalf("FileReport = %v", r)
	}
	_, err = m.FileReport(asFan, videoReport(public.ID, "abuse"))
	must(t, err)
	other := storetest.ReadyBy(t, f.store, owner.ID, video.PrivacyUnlisted, "Other")
	_, err = m.FileReport(asFan, videoReport(other.ID, "other"))
	must(t, err)
	_, err = m.FileReport(asFan, videoReport(private.ID, "other"))
	wantCode(t, "a report of a video the reporter may not see", err, codes.NotFound)
	third := storetest.ReadyBy(t, f.store, owner.ID, video.PrivacyPublic, "Third")
	_, err = m.FileReport(asFan, videoReport(third.ID, "other"))
	wantCode(t, "a report over the rate", err, codes.ResourceExhausted)
	// It says when to try again: once the older of the two reports in the
	// window (the changed one, just now) is an hour old.
	if wait := retryDelay(err); wait <= 59*time.Minute || wait > time.Hour {
		t.Fatalf("a report over the rate asks to wait %v, want just under an hour", wait)
	}

	_, err = m.ListCases(asFan, &pb.ListCasesRequest{})
	wantCode(t, "a user reading the queue", err, codes.PermissionDenied)
	_, err = m.ListCases(ctx, &pb.ListCasesRequest{})
	wantCode(t, "anonymous reading the queue", err, codes.Unauthenticated)
	cases, err := m.ListCases(asMod, &pb.ListCasesRequest{})
	must(t, err)
	if len(cases.GetCases()) != 2 || cases.GetCases()[0].GetVideo().GetTitle() != "Other" {
		t.Fatalf("queue = %v; want two cases, the one reported last first", cases)
	}
	c := cases.GetCases()[1]
	if c.GetReports() != 1 || c.GetReasons()["abuse"] != 1 || c.GetVideo().GetTitle() != "Public" || len(c.GetRecent()) != 1 {
		t.Fatalf("case = %v; want the fan's one report, changed to abuse, with the video", c)
	}

	// Everyone reads the video, so it is cached; hiding it drops that.
	_, err = f.svc.GetVideo(ctx, &pb.GetVideoRequest{Id: public.ID})
	must(t, err)
	_, err = m.HideVideo(asFan, &pb.HideVideoRequest{Id: public.ID, Reason: "spam"})
	wantCode(t, "a user hiding a video", err, codes.PermissionDenied)
	_, err = m.HideVideo(asMod, &pb.HideVideoRequest{Id: public.ID})
	wantCode(t, "hiding without a reason", err, codes.InvalidArgument)
	hidden, err := m.HideVideo(asMod, &pb.HideVideoRequest{Id: public.ID, Reason: "spam links"})
	must(t, err)
	if hidden.GetHiddenAt() == nil || hidden.GetHiddenReason() != "spam links" {
		t.Fatalf("HideVideo = %v", hidden)
	}
	_, err = m.HideVideo(asMod, &pb.HideVideoRequest{Id: public.ID, Reason: "again"})
	wantCode(t, "hiding a hidden video", err, codes.FailedPrecondition)
	for name, who := range map[string]context.Context{"anonymous": ctx, "another user": asFan} {
		_, err = f.svc.GetVideo(who, &pb.GetVideoRequest{Id: public.ID})
		wantCode(t, name+" reading a hidden video", err, codes.NotFound)
		_, err = f.svc.RecordView(who, &pb.RecordViewRequest{Id: public.ID})
		wantCode(t, name+" viewing a hidden video", err, codes.NotFound)
	}
	for name, who := range map[string]context.Context{"its owner": asOwner, "a moderator": asMod} {
		v, err := f.svc.GetVideo(who, &pb.GetVideoRequest{Id: public.ID})
		must(t, err)
		if v.GetHiddenReason() != "spam links" {
			t.Fatalf("%s reads the hidden video without its reason: %v", name, v)
		}
	}
	latest, err := f.svc.ListVideos(ctx, &pb.ListVideosRequest{})
	must(t, err)
	if len(latest.GetVideos()) != 1 || latest.GetVideos()[0].GetId() != third.ID {
		t.Fatalf("the latest list = %v; want the third video alone", latest.GetVideos())
	}
	cases, err = m.ListCases(asMod, &pb.ListCasesRequest{})
	must(t, err)
	if len(cases.GetCases()) != 1 || cases.GetCases()[0].GetTarget().GetId() != other.ID {
		t.Fatalf("queue after hiding = %v; want the other video's case alone", cases)
	}

	_, err = m.RestoreVideo(asMod, &pb.RestoreVideoRequest{Id: public.ID, Reason: "appeal"})
	must(t, err)
	if _, err := f.svc.GetVideo(ctx, &pb.GetVideoRequest{Id: public.ID}); err != nil {
		t.Fatalf("anonymous reading a restored video: %v", err)
	}
	_, err = m.DismissReports(asMod, &pb.DismissReportsRequest{Target: &pb.ReportTarget{Kind: "video", Id: public.ID}})
	wantCode(t, "dismissing with no open report", err, codes.NotFound)

	_, err = m.ListAuditLog(asMod, &pb.ListAuditLogRequest{})
	wantCode(t, "a moderator reading the audit log", err, codes.PermissionDenied)
	one := int32(1)
	log, err := m.ListAuditLog(asAdmin, &pb.ListAuditLogRequest{PageSize: &one})
	must(t, err)
	if len(log.GetEntries()) != 1 || log.GetEntries()[0].GetAction() != "restore" || log.GetNextCursor() == "" {
		t.Fatalf("first page of the audit log = %v", log)
	}
	log, err = m.ListAuditLog(asAdmin, &pb.ListAuditLogRequest{PageSize: &one, Cursor: log.GetNextCursor()})
	must(t, err)
	e := log.GetEntries()
	if len(e) != 1 || e[0].GetAction() != "hide" || e[0].GetActorUsername() != mod.Username || e[0].GetReason() != "spam links" ||
		e[0].GetResolved() != 1 || log.GetNextCursor() != "" {
		t.Fatalf("second page of the audit log = %v", log)
	}
	_, err = m.ListAuditLog(asAdmin, &pb.ListAuditLogRequest{Cursor: "x"})
	wantCode(t, "a bad cursor", err, codes.InvalidArgument)
}

func TestCommentReports(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testCommentReports)
}

// A comment is reported by whoever may see its video, and shows in the
// queue with its text until a moderator dismisses its reports.
func testCommentReports(t *testing.T, p *platform.Process) {
	f := newFixture(t, p)
	m := NewModeration(f.store, f.cache, moderation.DefaultReportRate)
	ctx := t.Context()
	owner := storetest.NewUser(t, f.store, testenv.Name("own"), auth.RoleUser)
	fan := storetest.NewUser(t, f.store, testenv.Name("fan"), auth.RoleUser)
	mod := storetest.NewUser(t, f.store, testenv.Name("mod"), auth.RoleModerator)
	asFan, asMod := storetest.SignedIn(ctx, fan), storetest.SignedIn(ctx, mod)
	public := storetest.ReadyBy(t, f.store, owner.ID, video.PrivacyPublic, "Public")
	private := storetest.ReadyBy(t, f.store, owner.ID, video.PrivacyPrivate, "Private")
	rude := storetest.AddComment(t, f.store, public.ID, owner.ID, "", "a rude remark", time.Now())
	hidden := storetest.AddComment(t, f.store, private.ID, owner.ID, "", "a private remark", time.Now())
	commentReport := func(id string) *pb.FileReportRequest {
		return &pb.FileReportRequest{Target: &pb.ReportTarget{Kind: "comment", Id: id}, Reason: "abuse"}
	}

	_, err := m.FileReport(asFan, commentReport(hidden.ID))
	wantCode(t, "a report of a comment under a video the reporter may not see", err, codes.NotFound)
	_, err = m.FileReport(asFan, commentReport("0190a1b2-0000-7000-8000-00000000dead"))
	wantCode(t, "a report of a comment that does not exist", err, codes.NotFound)
	_, err = m.FileReport(asFan, commentReport(rude.ID))
	must(t, err)

	cases, err := m.ListCases(asMod, &pb.ListCasesRequest{})
	must(t, err)
	if len(cases.GetCases()) != 1 {
		t.Fatalf("queue = %v; want the comment's case", cases)
	}
	c := cases.GetCases()[0]
	if c.GetComment().GetBody() != "a rude remark" || c.GetComment().GetVideoId() != public.ID || c.GetVideo() != nil ||
		c.GetComment().GetAuthorUsername() != owner.Username {
		t.Fatalf("comment's case = %v", c)
	}
	resp, err := m.DismissReports(asMod, &pb.DismissReportsRequest{Target: &pb.ReportTarget{Kind: "comment", Id: rude.ID}, Reason: "fair comment"})
	must(t, err)
	if resp.GetResolved() != 1 {
		t.Fatalf("DismissReports resolved %d, want 1", resp.GetResolved())
	}
}

func TestHideComments(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testHideComments)
}

// A moderator hides a reported comment: its author and moderators still
// read it, with why; everyone else, the video's owner too, reads a
// placeholder in its place, and the thread under it and the counts stay.
// Restoring shows it again.
func testHideComments(t *testing.T, p *platform.Process) {
	f := newFixture(t, p)
	m := NewModeration(f.store, f.cache, moderation.DefaultReportRate)
	comments := NewComments(f.svc, f.store, video.DefaultCommentRate)
	ctx := t.Context()
	owner := storetest.NewUser(t, f.store, testenv.Name("own"), auth.RoleUser)
	troll := storetest.NewUser(t, f.store, testenv.Name("troll"), auth.RoleUser)
	fan := storetest.NewUser(t, f.store, testenv.Name("fan"), auth.RoleUser)
	mod := storetest.NewUser(t, f.store, testenv.Name("mod"), auth.RoleModerator)
	admin := storetest.NewUser(t, f.store, testenv.Name("adm"), auth.RoleAdmin)
	asOwner, asTroll, asFan := storetest.SignedIn(ctx, owner), storetest.SignedIn(ctx, troll), storetest.SignedIn(ctx, fan)
	asMod, asAdmin := storetest.SignedIn(ctx, mod), storetest.SignedIn(ctx, admin)
	v := storetest.ReadyBy(t, f.store, owner.ID, video.PrivacyPublic, "Commented")
	rude := storetest.AddComment(t, f.store, v.ID, troll.ID, "", "rude words", time.Now().Add(-time.Minute))
	storetest.AddComment(t, f.store, v.ID, fan.ID, rude.ID, "please be kind", time.Now())
	_, err := m.FileReport(asFan, &pb.FileReportRequest{Target: &pb.ReportTarget{Kind: "comment", Id: rude.ID}, Reason: "abuse"})
	must(t, err)

	_, err = m.HideComment(ctx, &pb.HideCommentRequest{Id: rude.ID, Reason: "insults"})
	wantCode(t, "anonymous hiding a comment", err, codes.Unauthenticated)
	for name, who := range map[string]context.Context{"its author": asTroll, "the video's owner": asOwner, "another user": asFan} {
		_, err = m.HideComment(who, &pb.HideCommentRequest{Id: rude.ID, Reason: "insults"})
		wantCode(t, name+" hiding a comment", err, codes.PermissionDenied)
	}
	_, err = m.HideComment(asMod, &pb.HideCommentRequest{Id: rude.ID})
	wantCode(t, "hiding without a reason", err, codes.InvalidArgument)
	_, err = m.HideComment(asMod, &pb.HideCommentRequest{Reason: "x"})
	wantCode(t, "hiding no comment", err, codes.InvalidArgument)
	_, err = m.HideComment(asMod, &pb.HideCommentRequest{Id: "0190a1b2-0000-7000-8000-00000000dead", Reason: "x"})
	wantCode(t, "hiding a comment that does not exist", err, codes.NotFound)
	hidden, err := m.HideComment(asMod, &pb.HideCommentRequest{Id: rude.ID, Reason: "insults"})
	must(t, err)
	if !hidden.GetHidden() || hidden.GetHiddenReason() != "insults" || hidden.GetBody() != "rude words" || !hidden.GetCanDelete() {
		t.Fatalf("HideComment = %v; want it whole, hidden for its reason, to the moderator", hidden)
	}
	_, err = m.HideComment(asAdmin, &pb.HideCommentRequest{Id: rude.ID, Reason: "again"})
	wantCode(t, "hiding a hidden comment", err, codes.FailedPrecondition)
	cases, err := m.ListCases(asMod, &pb.ListCasesRequest{})
	must(t, err)
	if len(cases.GetCases()) != 0 {
		t.Fatalf("queue after hiding = %v; want the comment's reports resolved", cases)
	}

	read := func(who context.Context) *pb.ListCommentsResponse {
		t.Helper()
		page, err := comments.ListComments(who, &pb.ListCommentsRequest{VideoId: v.ID})
		must(t, err)
		if len(page.GetComments()) != 1 || page.GetTotal() != 2 {
			t.Fatalf("ListComments = %v; want the one thread, counted with its reply", page)
		}
		return page
	}
	for name, who := range map[string]context.Context{"anonymous": ctx, "another user": asFan, "the video's owner": asOwner} {
		c := read(who).GetComments()[0]
		if !c.GetHidden() || c.GetBody() != "" || c.GetAuthorUsername() != "" || c.GetAuthorId() != "" ||
			c.GetHiddenReason() != "" || c.GetReplies() != 1 || c.GetId() != rude.ID || c.GetCanEdit() {
			t.Fatalf("%s reads the hidden comment as %v; want its placeholder", name, c)
		}
	}
	if c := read(asOwner).GetComments()[0]; !c.GetCanDelete() {
		t.Fatalf("the video's owner may not remove the hidden comment: %v", c)
	}
	for name, who := range map[string]context.Context{"its author": asTroll, "a moderator": asMod, "an admin": asAdmin} {
		c := read(who).GetComments()[0]
		if !c.GetHidden() || c.GetBody() != "rude words" || c.GetAuthorUsername() != troll.Username || c.GetHiddenReason() != "insults" {
			t.Fatalf("%s reads the hidden comment as %v; want it whole, with why", name, c)
		}
	}
	replies, err := comments.ListReplies(ctx, &pb.ListRepliesRequest{CommentId: rude.ID})
	must(t, err)
	if len(replies.GetComments()) != 1 || replies.GetComments()[0].GetBody() != "please be kind" {
		t.Fatalf("the replies under the hidden comment = %v; want them readable", replies)
	}
	_, err = comments.EditComment(asTroll, &pb.EditCommentRequest{Id: rude.ID, Body: "nice words"})
	wantCode(t, "its author editing the hidden comment", err, codes.FailedPrecondition)

	_, err = m.RestoreComment(asFan, &pb.RestoreCommentRequest{Id: rude.ID, Reason: "x"})
	wantCode(t, "a user restoring a comment", err, codes.PermissionDenied)
	restored, err := m.RestoreComment(asMod, &pb.RestoreCommentRequest{Id: rude.ID, Reason: "apologized"})
	must(t, err)
	if restored.GetHidden() || restored.GetHiddenReason() != "" {
		t.Fatalf("RestoreComment = %v", restored)
	}
	_, err = m.RestoreComment(asMod, &pb.RestoreCommentRequest{Id: rude.ID, Reason: "again"})
	wantCode(t, "restoring a comment that shows", err, codes.FailedPrecondition)
	if c := read(ctx).GetComments()[0]; c.GetHidden() || c.GetBody() != "rude words" {
		t.Fatalf("a visitor reads the restored comment as %v", c)
	}
	log, err := m.ListAuditLog(asAdmin, &pb.ListAuditLogRequest{})
	must(t, err)
	if e := log.GetEntries(); len(e) != 2 || e[0].GetAction() != "restore" || e[1].GetAction() != "hide" ||
		e[1].GetTarget().GetKind() != "comment" || e[1].GetTarget().GetId() != rude.ID || e[1].GetResolved() != 1 {
		t.Fatalf("audit log = %v", log)
	}
}
