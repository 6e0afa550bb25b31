package hostsvc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/moderation"
	"github.com/cloudflix/cloudflix/internal/rpc"
	"github.com/cloudflix/cloudflix/internal/video"
	"github.com/cloudflix/cloudflix/internal/videocache"
	"github.com/cloudflix/cloudflix/internal/videopb"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// ModerationStore is the metadata the moderation service reads and
// writes.
type ModerationStore interface {
	Video(ctx context.Context, id string) (video.Video, error)
	Comment(ctx context.Context, id string) (video.Comment, error)
	Report(ctx context.Context, r moderation.Report, rate moderation.ReportRate, at time.Time) (moderation.Report, error)
	Cases(ctx context.Context, limit int, after moderation.CasePosition) ([]moderation.Case, error)
	HideVideo(ctx context.Context, d moderation.Decision) (video.Video, error)
	RestoreVideo(ctx context.Context, d moderation.Decision) (video.Video, error)
	HideComment(ctx context.Context, d moderation.Decision) (video.Comment, error)
	RestoreComment(ctx context.Context, d moderation.Decision) (video.Comment, error)
	DismissReports(ctx context.Context, d moderation.Decision) (int, error)
	AuditLog(ctx context.Context, limit int, before int64) ([]moderation.Entry, error)
}

// Pages of the queue and of the audit log.
var (
	casesPage = video.PageRule{Default: 20, Max: 100}
	auditPage = video.PageRule{Default: 50, Max: 200}
)

// Moderation implements the ModerationService gRPC API. It is served by
// the host target, beside HostService, since hiding changes what the read
// side shows: it drops the hidden video's cached info through the same
// cache, so no replica serves the video from its cache once it is hidden.
type Moderation struct {
	pb.UnimplementedModerationServiceServer
	store ModerationStore
	cache *videocache.Cache
	rate  moderation.ReportRate
}

// NewModeration returns the service; each user files at most rate's
// reports within its window.
func NewModeration(store ModerationStore, cache *videocache.Cache, rate moderation.ReportRate) *Moderation {
	return &Moderation{store: store, cache: cache, rate: rate}
}

// FileReport files the caller's report of a video or comment they may see.
func (m *Moderation) FileReport(ctx context.Context, req *pb.FileReportRequest) (*pb.Report, error) {
	p := auth.FromContext(ctx)
	target, err := m.visibleTarget(ctx, req.GetTarget())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	if !moderation.CanReport(p) {
		return nil, rpc.Error(ctx, fmt.Errorf("report: %w", video.ErrUnauthenticated))
	}
	r, err := moderation.NewReport(target, p.UserID, req.GetReason(), req.GetNote())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	r, err = m.store.Report(ctx, r, m.rate, time.Now())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	return reportToProto(r), nil
}

// visibleTarget reads a report's target and checks that the caller may
// see it: what they may not see is not found, as everywhere.
func (m *Moderation) visibleTarget(ctx context.Context, t *pb.ReportTarget) (moderation.Target, error) {
	kind, err := moderation.ParseKind(t.GetKind())
	if err != nil {
		return moderation.Target{}, err
	}
	target := moderation.Target{Kind: kind, ID: t.GetId()}
	if target.ID == "" {
		return moderation.Target{}, video.Invalid("target id is required")
	}
	videoID := target.ID
	if kind == moderation.KindComment {
		c, err := m.store.Comment(ctx, target.ID)
		if err != nil {
			return moderation.Target{}, fmt.Errorf("comment %s: %w", target.ID, err)
		}
		videoID = c.VideoID
	}
	v, err := m.cache.Video(ctx, videoID, m.store.Video)
	if err != nil {
		return moderation.Target{}, fmt.Errorf("video %s: %w", videoID, err)
	}
	if !video.CanView(auth.FromContext(ctx), v) {
		return moderation.Target{}, fmt.Errorf("%s %s: %w", kind, target.ID, video.ErrNotFound)
	}
	return target, nil
}

// moderator refuses a caller who may not moderate: anonymous callers must
// sign in, others are forbidden.
func moderator(p auth.Principal) error {
	switch {
	case moderation.CanModerate(p):
		return nil
	case p.Anonymous():
		return video.ErrUnauthenticated
	}
	return video.ErrForbidden
}

// caseCursor is the opaque position a queue page ends at.
type caseCursor struct {
	Latest time.Time `json:"t"`
	Kind   string    `json:"k"`
	ID     string    `json:"i"`
}

func decodeCaseCursor(s string) (moderation.CasePosition, error) {
	if s == "" {
		return moderation.CasePosition{}, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c caseCursor
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.ID == "" {
		return moderation.CasePosition{}, video.Invalid("cursor is not one this API returned for the queue")
	}
	return moderation.CasePosition{Latest: c.Latest, Target: moderation.Target{Kind: moderation.Kind(c.Kind), ID: c.ID}}, nil
}

// ListCases lists a page of the moderation queue, each case with its
// content as moderators see it.
func (m *Moderation) ListCases(ctx context.Context, req *pb.ListCasesRequest) (*pb.ListCasesResponse, error) {
	if err := moderator(auth.FromContext(ctx)); err != nil {
		return nil, rpc.Error(ctx, fmt.Errorf("moderation queue: %w", err))
	}
	size, err := casesPage.Size(req.PageSize)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	after, err := decodeCaseCursor(req.GetCursor())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	cases, err := m.store.Cases(ctx, size+1, after)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	resp := &pb.ListCasesResponse{}
	if len(cases) > size {
		cases = cases[:size]
		last := cases[size-1]
		b, _ := json.Marshal(caseCursor{Latest: last.Latest, Kind: string(last.Target.Kind), ID: last.Target.ID})
		resp.NextCursor = base64.RawURLEncoding.EncodeToString(b)
	}
	for _, c := range cases {
		out, err := m.caseToProto(ctx, c)
		if err != nil {
			return nil, rpc.Error(ctx, err)
		}
		resp.Cases = append(resp.Cases, out)
	}
	return resp, nil
}

// caseToProto is a case with its content, read through the cache for a
// video; content that is gone since is left out.
func (m *Moderation) caseToProto(ctx context.Context, c moderation.Case) (*pb.Case, error) {
	out := &pb.Case{
		Target:   targetToProto(c.Target),
		Reports:  int32(c.Reports),
		Reasons:  make(map[string]int32, len(c.Reasons)),
		LatestAt: timestamppb.New(c.Latest),
	}
	for reason, n := range c.Reasons {
		out.Reasons[string(reason)] = int32(n)
	}
	for _, r := range c.Recent {
		out.Recent = append(out.Recent, reportToProto(r))
	}
	switch c.Target.Kind {
	case moderation.KindVideo:
		v, err := m.cache.Video(ctx, c.Target.ID, m.store.Video)
		switch {
		case err == nil:
			out.Video = videopb.ToProto(v)
		case !errors.Is(err, video.ErrNotFound):
			return nil, fmt.Errorf("video %s: %w", c.Target.ID, err)
		}
	case moderation.KindComment:
		cm, err := m.store.Comment(ctx, c.Target.ID)
		switch {
		case err == nil:
			out.Comment = &pb.ReportedComment{Id: cm.ID, VideoId: cm.VideoID, AuthorUsername: cm.AuthorName, Body: cm.Body, Hidden: cm.Hidden()}
		case !errors.Is(err, video.ErrNotFound):
			return nil, fmt.Errorf("comment %s: %w", c.Target.ID, err)
		}
	}
	return out, nil
}

// HideVideo hides a video and resolves its reports, then drops its cached
// info so that every reader sees it hidden at once.
func (m *Moderation) HideVideo(ctx context.Context, req *pb.HideVideoRequest) (*pb.Video, error) {
	return m.decideVideo(ctx, moderation.ActionHide, req.GetId(), req.GetReason(), m.store.HideVideo)
}

// RestoreVideo shows a hidden video again.
func (m *Moderation) RestoreVideo(ctx context.Context, req *pb.RestoreVideoRequest) (*pb.Video, error) {
	return m.decideVideo(ctx, moderation.ActionRestore, req.GetId(), req.GetReason(), m.store.RestoreVideo)
}

func (m *Moderation) decideVideo(ctx context.Context, a moderation.Action, id, why string, decide func(context.Context, moderation.Decision) (video.Video, error)) (*pb.Video, error) {
	p := auth.FromContext(ctx)
	if err := moderator(p); err != nil {
		return nil, rpc.Error(ctx, fmt.Errorf("%s video %s: %w", a, id, err))
	}
	if id == "" {
		return nil, rpc.Error(ctx, video.Invalid("id is required"))
	}
	d, err := moderation.NewDecision(a, moderation.Target{Kind: moderation.KindVideo, ID: id}, p.UserID, why)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	v, err := decide(ctx, d)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	if err := m.cache.Invalidate(ctx, v.ID); err != nil {
		videocache.Warn(ctx, "cache invalidation failed", err)
	}
	return videopb.ToProto(v), nil
}

// HideComment hides a comment and resolves its reports: from then on its
// readers other than its author and moderators get its placeholder
// (video.CommentAsSeen). Comments are read from the store, not the cache,
// and the counts stay, so there is nothing cached to drop.
func (m *Moderation) HideComment(ctx context.Context, req *pb.HideCommentRequest) (*pb.Comment, error) {
	return m.decideComment(ctx, moderation.ActionHide, req.GetId(), req.GetReason(), m.store.HideComment)
}

// RestoreComment shows a hidden comment again.
func (m *Moderation) RestoreComment(ctx context.Context, req *pb.RestoreCommentRequest) (*pb.Comment, error) {
	return m.decideComment(ctx, moderation.ActionRestore, req.GetId(), req.GetReason(), m.store.RestoreComment)
}

func (m *Moderation) decideComment(ctx context.Context, a moderation.Action, id, why string, decide func(context.Context, moderation.Decision) (video.Comment, error)) (*pb.Comment, error) {
	p := auth.FromContext(ctx)
	if err := moderator(p); err != nil {
		return nil, rpc.Error(ctx, fmt.Errorf("%s comment %s: %w", a, id, err))
	}
	if id == "" {
		return nil, rpc.Error(ctx, video.Invalid("id is required"))
	}
	d, err := moderation.NewDecision(a, moderation.Target{Kind: moderation.KindComment, ID: id}, p.UserID, why)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	c, err := decide(ctx, d)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	v, err := m.cache.Video(ctx, c.VideoID, m.store.Video)
	if err != nil {
		return nil, rpc.Error(ctx, fmt.Errorf("video %s of comment %s: %w", c.VideoID, c.ID, err))
	}
	return commentProto(p, v, c), nil
}

// DismissReports resolves a target's open reports without acting on it.
func (m *Moderation) DismissReports(ctx context.Context, req *pb.DismissReportsRequest) (*pb.DismissReportsResponse, error) {
	p := auth.FromContext(ctx)
	if err := moderator(p); err != nil {
		return nil, rpc.Error(ctx, fmt.Errorf("dismiss reports: %w", err))
	}
	kind, err := moderation.ParseKind(req.GetTarget().GetKind())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	target := moderation.Target{Kind: kind, ID: req.GetTarget().GetId()}
	if target.ID == "" {
		return nil, rpc.Error(ctx, video.Invalid("target id is required"))
	}
	d, err := moderation.NewDecision(moderation.ActionDismiss, target, p.UserID, req.GetReason())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	n, err := m.store.DismissReports(ctx, d)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	return &pb.DismissReportsResponse{Resolved: int32(n)}, nil
}

// ListAuditLog lists a page of the audit log, newest first, for admins.
func (m *Moderation) ListAuditLog(ctx context.Context, req *pb.ListAuditLogRequest) (*pb.ListAuditLogResponse, error) {
	p := auth.FromContext(ctx)
	if !moderation.CanReadAudit(p) {
		err := video.ErrForbidden
		if p.Anonymous() {
			err = video.ErrUnauthenticated
		}
		return nil, rpc.Error(ctx, fmt.Errorf("audit log: %w", err))
	}
	size, err := auditPage.Size(req.PageSize)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	var before int64
	if c := req.GetCursor(); c != "" {
		if before, err = strconv.ParseInt(c, 10, 64); err != nil || before <= 0 {
			return nil, rpc.Error(ctx, video.Invalid("cursor is not one this API returned for the audit log"))
		}
	}
	entries, err := m.store.AuditLog(ctx, size+1, before)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	resp := &pb.ListAuditLogResponse{}
	if len(entries) > size {
		entries = entries[:size]
		resp.NextCursor = strconv.FormatInt(entries[size-1].ID, 10)
	}
	for _, e := range entries {
		d := e.Decision
		resp.Entries = append(resp.Entries, &pb.AuditEntry{
			Id: e.ID, Action: string(d.Action), Target: targetToProto(d.Target), ActorId: d.ActorID,
			ActorUsername: e.Actor, Reason: d.Why, Resolved: int32(e.Resolved), At: timestamppb.New(d.At),
		})
	}
	return resp, nil
}

func targetToProto(t moderation.Target) *pb.ReportTarget {
	return &pb.ReportTarget{Kind: string(t.Kind), Id: t.ID}
}

func reportToProto(r moderation.Report) *pb.Report {
	return &pb.Report{
		Target: targetToProto(r.Target), ReporterId: r.ReporterID, ReporterUsername: r.Reporter,
		Reason: string(r.Reason), Note: r.Note,
		CreatedAt: timestamppb.New(r.CreatedAt), UpdatedAt: timestamppb.New(r.UpdatedAt),
	}
}
