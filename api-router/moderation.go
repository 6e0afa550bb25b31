package router

import (
	"net/http"

	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// The moderation routes: reports from signed-in users, the queue and the
// decisions of moderators, and the audit log for admins. The moderation
// service decides who may do each; the edge translates.

type targetJSON struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

type reportRequestJSON struct {
	Kind   string `json:"kind"`
	ID     string `json:"id"`
	Reason string `json:"reason"`
	Note   string `json:"note"`
}

type reportJSON struct {
	Target    targetJSON `json:"target"`
	Reporter  ownerJSON  `json:"reporter"`
	Reason    string     `json:"reason"`
	Note      string     `json:"note"`
	CreatedAt string     `json:"created_at"`
	UpdatedAt string     `json:"updated_at"`
}

type commentRefJSON struct {
	ID             string `json:"id"`
	VideoID        string `json:"video_id"`
	AuthorUsername string `json:"author_username"`
	Body           string `json:"body"`
	Hidden         bool   `json:"hidden"`
}

type caseJSON struct {
	Target   targetJSON       `json:"target"`
	Reports  int32            `json:"reports"`
	Reasons  map[string]int32 `json:"reasons"`
	LatestAt string           `json:"latest_at"`
	Recent   []reportJSON     `json:"recent"`
	Video    *videoJSON       `json:"video"`
	Comment  *commentRefJSON  `json:"comment"`
}

type auditEntryJSON struct {
	ID       int64      `json:"id"`
	Action   string     `json:"action"`
	Target   targetJSON `json:"target"`
	Actor    ownerJSON  `json:"actor"`
	Reason   string     `json:"reason"`
	Resolved int32      `json:"resolved"`
	At       string     `json:"at"`
}

// decisionJSON is the body of a moderator's action: why.
type decisionJSON struct {
	Reason string `json:"reason"`
}

func targetToJSON(t *pb.ReportTarget) targetJSON {
	return targetJSON{Kind: t.GetKind(), ID: t.GetId()}
}

func reportToJSON(r *pb.Report) reportJSON {
	return reportJSON{
		Target:    targetToJSON(r.GetTarget()),
		Reporter:  ownerJSON{ID: r.GetReporterId(), Username: r.GetReporterUsername()},
		Reason:    r.GetReason(),
		Note:      r.GetNote(),
		CreatedAt: formatTime(r.GetCreatedAt()),
		UpdatedAt: formatTime(r.GetUpdatedAt()),
	}
}

func (a *api) fileReport(w http.ResponseWriter, r *http.Request) error {
	var req reportRequestJSON
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	rep, err := a.clients.Moderation.FileReport(r.Context(), &pb.FileReportRequest{
		Target: &pb.ReportTarget{Kind: req.Kind, Id: req.ID},
		Reason: req.Reason,
		Note:   req.Note,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, reportToJSON(rep))
	return nil
}

func (a *api) listCases(w http.ResponseWriter, r *http.Request) error {
	limit, err := limitParam(r)
	if err != nil {
		return err
	}
	resp, err := a.clients.Moderation.ListCases(r.Context(), &pb.ListCasesRequest{
		PageSize: limit, Cursor: r.URL.Query().Get("cursor"),
	})
	if err != nil {
		return err
	}
	out := struct {
		Cases      []caseJSON `json:"cases"`
		NextCursor *string    `json:"next_cursor"`
	}{Cases: make([]caseJSON, 0, len(resp.GetCases())), NextCursor: cursor(resp.GetNextCursor())}
	for _, c := range resp.GetCases() {
		cj := caseJSON{
			Target:   targetToJSON(c.GetTarget()),
			Reports:  c.GetReports(),
			Reasons:  map[string]int32{},
			LatestAt: formatTime(c.GetLatestAt()),
			Recent:   make([]reportJSON, 0, len(c.GetRecent())),
		}
		for reason, n := range c.GetReasons() {
			cj.Reasons[reason] = n
		}
		for _, rep := range c.GetRecent() {
			cj.Recent = append(cj.Recent, reportToJSON(rep))
		}
		if c.GetVideo() != nil {
			v := a.videoToJSON(c.GetVideo())
			cj.Video = &v
		}
		if cm := c.GetComment(); cm != nil {
			cj.Comment = &commentRefJSON{ID: cm.GetId(), VideoID: cm.GetVideoId(), AuthorUsername: cm.GetAuthorUsername(), Body: cm.GetBody(), Hidden: cm.GetHidden()}
		}
		out.Cases = append(out.Cases, cj)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *api) hideVideo(w http.ResponseWriter, r *http.Request) error {
	var req decisionJSON
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	v, err := a.clients.Moderation.HideVideo(r.Context(), &pb.HideVideoRequest{Id: r.PathValue("id"), Reason: req.Reason})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.videoToJSON(v))
	return nil
}

func (a *api) restoreVideo(w http.ResponseWriter, r *http.Request) error {
	var req decisionJSON
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	v, err := a.clients.Moderation.RestoreVideo(r.Context(), &pb.RestoreVideoRequest{Id: r.PathValue("id"), Reason: req.Reason})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.videoToJSON(v))
	return nil
}

func (a *api) hideComment(w http.ResponseWriter, r *http.Request) error {
	var req decisionJSON
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	c, err := a.clients.Moderation.HideComment(r.Context(), &pb.HideCommentRequest{Id: r.PathValue("id"), Reason: req.Reason})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, commentToJSON(c))
	return nil
}

func (a *api) restoreComment(w http.ResponseWriter, r *http.Request) error {
	var req decisionJSON
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	c, err := a.clients.Moderation.RestoreComment(r.Context(), &pb.RestoreCommentRequest{Id: r.PathValue("id"), Reason: req.Reason})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, commentToJSON(c))
	return nil
}

// dismissVideoReports and dismissCommentReports resolve a target's open
// reports; the kind is in the path, as the target's id is.
func (a *api) dismissVideoReports(w http.ResponseWriter, r *http.Request) error {
	return a.dismissReports(w, r, "video")
}

func (a *api) dismissCommentReports(w http.ResponseWriter, r *http.Request) error {
	return a.dismissReports(w, r, "comment")
}

func (a *api) dismissReports(w http.ResponseWriter, r *http.Request, kind string) error {
	var req decisionJSON
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	resp, err := a.clients.Moderation.DismissReports(r.Context(), &pb.DismissReportsRequest{
		Target: &pb.ReportTarget{Kind: kind, Id: r.PathValue("id")}, Reason: req.Reason,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Resolved int32 `json:"resolved"`
	}{resp.GetResolved()})
	return nil
}

func (a *api) auditLog(w http.ResponseWriter, r *http.Request) error {
	limit, err := limitParam(r)
	if err != nil {
		return err
	}
	resp, err := a.clients.Moderation.ListAuditLog(r.Context(), &pb.ListAuditLogRequest{
		PageSize: limit, Cursor: r.URL.Query().Get("cursor"),
	})
	if err != nil {
		return err
	}
	out := struct {
		Entries    []auditEntryJSON `json:"entries"`
		NextCursor *string          `json:"next_cursor"`
	}{Entries: make([]auditEntryJSON, 0, len(resp.GetEntries())), NextCursor: cursor(resp.GetNextCursor())}
	for _, e := range resp.GetEntries() {
		out.Entries = append(out.Entries, auditEntryJSON{
			ID: e.GetId(), Action: e.GetAction(), Target: targetToJSON(e.GetTarget()),
			Actor:  ownerJSON{ID: e.GetActorId(), Username: e.GetActorUsername()},
			Reason: e.GetReason(), Resolved: e.GetResolved(), At: formatTime(e.GetAt()),
		})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
