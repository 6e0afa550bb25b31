package router

import (
	"net/http"

	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// commentJSON is the API's view of a comment. Its body is plain text: a
// page shows it as text, never as markup.
type commentJSON struct {
	ID           string     `json:"id"`
	VideoID      string     `json:"video_id"`
	ParentID     *string    `json:"parent_id"` // null for a top-level comment
	Author       *ownerJSON `json:"author"`    // null in a hidden comment's placeholder
	Body         string     `json:"body"`
	Replies      int64      `json:"replies"`
	CreatedAt    string     `json:"created_at"`
	EditedAt     *string    `json:"edited_at"` // null when never edited
	CanEdit      bool       `json:"can_edit"`
	CanDelete    bool       `json:"can_delete"`
	Hidden       bool       `json:"hidden"`
	HiddenReason string     `json:"hidden_reason"`
}

func commentToJSON(c *pb.Comment) commentJSON {
	out := commentJSON{
		ID:           c.GetId(),
		VideoID:      c.GetVideoId(),
		Body:         c.GetBody(),
		Replies:      c.GetReplies(),
		CreatedAt:    formatTime(c.GetCreatedAt()),
		CanEdit:      c.GetCanEdit(),
		CanDelete:    c.GetCanDelete(),
		Hidden:       c.GetHidden(),
		HiddenReason: c.GetHiddenReason(),
	}
	if c.GetAuthorId() != "" {
		out.Author = &ownerJSON{ID: c.GetAuthorId(), Username: c.GetAuthorUsername()}
	}
	if p := c.GetParentId(); p != "" {
		out.ParentID = &p
	}
	if c.GetEditedAt() != nil {
		t := formatTime(c.GetEditedAt())
		out.EditedAt = &t
	}
	return out
}

// commentPageJSON is a page of comments or replies, with the count of the
// whole list and whether the caller may add to it.
type commentPageJSON struct {
	Comments    []commentJSON `json:"comments"`
	NextCursor  *string       `json:"next_cursor"`
	Total       int64         `json:"total"`
	CommentsOff bool          `json:"comments_off"`
	CanPost     bool          `json:"can_post"`
}

func writeCommentPage(w http.ResponseWriter, resp *pb.ListCommentsResponse) {
	out := commentPageJSON{
		Comments:    make([]commentJSON, 0, len(resp.GetComments())),
		NextCursor:  cursor(resp.GetNextCursor()),
		Total:       resp.GetTotal(),
		CommentsOff: resp.GetCommentsOff(),
		CanPost:     resp.GetCanPost(),
	}
	for _, c := range resp.GetComments() {
		out.Comments = append(out.Comments, commentToJSON(c))
	}
	writeJSON(w, http.StatusOK, out)
}

// commentBody is what a client sends to post or edit a comment.
type commentBody struct {
	Body string `json:"body"`
}

// listComments answers a page of a video's top-level comments, newest
// first.
func (a *api) listComments(w http.ResponseWriter, r *http.Request) error {
	limit, err := limitParam(r)
	if err != nil {
		return err
	}
	resp, err := a.clients.Comments.ListComments(r.Context(), &pb.ListCommentsRequest{
		VideoId: r.PathValue("id"), PageSize: limit, Cursor: r.URL.Query().Get("cursor"),
	})
	if err != nil {
		return err
	}
	writeCommentPage(w, resp)
	return nil
}

// postComment adds a top-level comment to a video.
func (a *api) postComment(w http.ResponseWriter, r *http.Request) error {
	return a.post(w, r, r.PathValue("id"), "")
}

// listReplies answers a page of the replies to a top-level comment, oldest
// first.
func (a *api) listReplies(w http.ResponseWriter, r *http.Request) error {
	limit, err := limitParam(r)
	if err != nil {
		return err
	}
	resp, err := a.clients.Comments.ListReplies(r.Context(), &pb.ListRepliesRequest{
		CommentId: r.PathValue("id"), PageSize: limit, Cursor: r.URL.Query().Get("cursor"),
	})
	if err != nil {
		return err
	}
	writeCommentPage(w, resp)
	return nil
}

// postReply replies to a comment; the service finds its video.
func (a *api) postReply(w http.ResponseWriter, r *http.Request) error {
	return a.post(w, r, "", r.PathValue("id"))
}

// post adds a comment to videoID, or a reply to parentID.
func (a *api) post(w http.ResponseWriter, r *http.Request, videoID, parentID string) error {
	var body commentBody
	if err := readJSON(w, r, &body); err != nil {
		return err
	}
	c, err := a.clients.Comments.PostComment(r.Context(), &pb.PostCommentRequest{
		VideoId: videoID, ParentId: parentID, Body: body.Body,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, commentToJSON(c))
	return nil
}

// editComment replaces the text of the caller's comment.
func (a *api) editComment(w http.ResponseWriter, r *http.Request) error {
	var body commentBody
	if err := readJSON(w, r, &body); err != nil {
		return err
	}
	c, err := a.clients.Comments.EditComment(r.Context(), &pb.EditCommentRequest{Id: r.PathValue("id"), Body: body.Body})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, commentToJSON(c))
	return nil
}

// deleteComment removes a comment, and a thread's replies with it.
func (a *api) deleteComment(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.clients.Comments.DeleteComment(r.Context(), &pb.DeleteCommentRequest{Id: r.PathValue("id")}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
