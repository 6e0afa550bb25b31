package hostsvc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/rpc"
	"github.com/cloudflix/cloudflix/internal/video"
	"github.com/cloudflix/cloudflix/internal/videocache"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// CommentStore is the metadata the comment service keeps.
type CommentStore interface {
	AddComment(ctx context.Context, c video.Comment, rate video.CommentRate) (video.Comment, error)
	Comment(ctx context.Context, id string) (video.Comment, error)
	VideoComments(ctx context.Context, videoID string, limit int, after video.CommentPosition) ([]video.Comment, error)
	CommentReplies(ctx context.Context, parentID string, limit int, after video.CommentPosition) ([]video.Comment, error)
	EditComment(ctx context.Context, id, body string, at time.Time) (video.Comment, error)
	DeleteComment(ctx context.Context, id string) (video.Comment, error)
}

// commentPage bounds a page of comments or replies: 20 fills a screen or
// two under the player without a slow first load.
var commentPage = video.PageRule{Default: 20, Max: 100}

// Comments implements the CommentService gRPC API beside the host
// service, whose cached video info it reads to decide who may see a
// video: comments are read with the video they are under.
type Comments struct {
	pb.UnimplementedCommentServiceServer
	host  *Service
	store CommentStore
	rate  video.CommentRate
}

// NewComments returns the comment service of the videos host serves,
// letting each user post at rate.
func NewComments(host *Service, store CommentStore, rate video.CommentRate) *Comments {
	return &Comments{host: host, store: store, rate: rate}
}

// ListComments returns a page of a video's top-level comments, newest
// first, to whoever may see the video, with its count from the video's
// counter.
func (s *Comments) ListComments(ctx context.Context, req *pb.ListCommentsRequest) (*pb.ListCommentsResponse, error) {
	size, err := commentPage.Size(req.PageSize)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	after, err := decodeCommentCursor(req.GetCursor())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	v, err := s.host.video(ctx, req.GetVideoId())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	cs, err := s.store.VideoComments(ctx, v.ID, size+1, after)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	resp := s.page(ctx, v, cs, size)
	p := auth.FromContext(ctx)
	resp.Total, resp.CommentsOff = v.Comments, v.CommentsOff
	resp.CanPost = video.CanComment(p, v) && !v.CommentsOff && v.State == video.StateReady
	return resp, nil
}

// ListReplies returns a page of the replies to a top-level comment,
// oldest first, to whoever may see its video.
func (s *Comments) ListReplies(ctx context.Context, req *pb.ListRepliesRequest) (*pb.ListCommentsResponse, error) {
	size, err := commentPage.Size(req.PageSize)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	after, err := decodeCommentCursor(req.GetCursor())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	c, v, err := s.comment(ctx, req.GetCommentId())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	if !c.TopLevel() {
		return nil, rpc.Error(ctx, video.Invalid("comment %s is a reply; its thread is %s", c.ID, c.ParentID))
	}
	cs, err := s.store.CommentReplies(ctx, c.ID, size+1, after)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	resp := s.page(ctx, v, cs, size)
	resp.Total, resp.CommentsOff = c.Replies, v.CommentsOff
	resp.CanPost = video.CanComment(auth.FromContext(ctx), v) && !v.CommentsOff && v.State == video.StateReady
	return resp, nil
}

// page is a response of up to size of cs (read one more than a page holds
// to tell whether there is a next), each with what the caller may do.
func (s *Comments) page(ctx context.Context, v video.Video, cs []video.Comment, size int) *pb.ListCommentsResponse {
	resp := &pb.ListCommentsResponse{}
	if len(cs) > size {
		cs = cs[:size]
		resp.NextCursor = encodeCommentCursor(cs[size-1])
	}
	p := auth.FromContext(ctx)
	for _, c := range cs {
		resp.Comments = append(resp.Comments, commentProto(p, v, c))
	}
	return resp
}

// PostComment adds the caller's comment, or reply, to a ready video they
// may see.
func (s *Comments) PostComment(ctx context.Context, req *pb.PostCommentRequest) (*pb.Comment, error) {
	body, err := video.CommentBody(req.GetBody())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	v, err := s.commented(ctx, req.GetVideoId(), req.GetParentId())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	p := auth.FromContext(ctx)
	if !video.CanComment(p, v) {
		return nil, rpc.Error(ctx, fmt.Errorf("comment on %s: %w", v.ID, video.Refusal(p, v)))
	}
	if v.State != video.StateReady {
		return nil, rpc.Error(ctx, fmt.Errorf("video %s is %s, not ready to watch: %w", v.ID, v.State, video.ErrWrongState))
	}
	c, err := s.store.AddComment(ctx, video.Comment{
		VideoID: v.ID, AuthorID: p.UserID, ParentID: req.GetParentId(), Body: body, CreatedAt: time.Now(),
	}, s.rate)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	s.forget(ctx, v.ID)
	return commentProto(p, v, c), nil
}

// EditComment replaces the text of the caller's own comment.
func (s *Comments) EditComment(ctx context.Context, req *pb.EditCommentRequest) (*pb.Comment, error) {
	body, err := video.CommentBody(req.GetBody())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	c, v, err := s.comment(ctx, req.GetId())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	p := auth.FromContext(ctx)
	if !video.CanEditComment(p, v, c) {
		err := commentRefusal(p)
		if c.Hidden() && p.Is(c.AuthorID, auth.ScopeUpload) {
			err = fmt.Errorf("a moderator hid it; it can be edited once restored: %w", video.ErrWrongState)
		}
		return nil, rpc.Error(ctx, fmt.Errorf("edit comment %s: %w", c.ID, err))
	}
	edited, err := s.store.EditComment(ctx, c.ID, body, time.Now())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	return commentProto(p, v, edited), nil
}

// DeleteComment removes a comment (a thread with its replies) for its
// author, the video's owner, moderators and admins.
func (s *Comments) DeleteComment(ctx context.Context, req *pb.DeleteCommentRequest) (*pb.DeleteCommentResponse, error) {
	c, v, err := s.comment(ctx, req.GetId())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	p := auth.FromContext(ctx)
	if !video.CanRemoveComment(p, v, c) {
		return nil, rpc.Error(ctx, fmt.Errorf("remove comment %s: %w", c.ID, commentRefusal(p)))
	}
	if _, err := s.store.DeleteComment(ctx, c.ID); err != nil {
		return nil, rpc.Error(ctx, err)
	}
	s.forget(ctx, v.ID)
	return &pb.DeleteCommentResponse{}, nil
}

// comment returns the comment with id and its video, when the caller may
// see the video; a comment under a video they may not see is not found,
// as if it did not exist.
func (s *Comments) comment(ctx context.Context, id string) (video.Comment, video.Video, error) {
	if id == "" {
		return video.Comment{}, video.Video{}, video.Invalid("comment id is required")
	}
	c, err := s.store.Comment(ctx, id)
	if err != nil {
		return video.Comment{}, video.Video{}, err
	}
	v, err := s.host.video(ctx, c.VideoID)
	if err != nil {
		return video.Comment{}, video.Video{}, fmt.Errorf("comment %s: %w", id, err)
	}
	return c, v, nil
}

// commented returns the video a new comment goes under, when the caller
// may see it: the video with videoID, or for a reply the video of the
// comment parentID, which must be the same when both are given.
func (s *Comments) commented(ctx context.Context, videoID, parentID string) (video.Video, error) {
	if parentID == "" {
		return s.host.video(ctx, videoID)
	}
	parent, v, err := s.comment(ctx, parentID)
	if err != nil {
		return video.Video{}, err
	}
	if videoID != "" && videoID != v.ID {
		return video.Video{}, fmt.Errorf("comment %s is not under video %s: %w", parent.ID, videoID, video.ErrNotFound)
	}
	return v, nil
}

// commentRefusal is the error for p being refused a change of a comment
// on a video they may see: sign in when nobody is, forbidden otherwise.
func commentRefusal(p auth.Principal) error {
	if p.Anonymous() {
		return video.ErrUnauthenticated
	}
	return video.ErrForbidden
}

// forget drops the video's cached info, whose comment count changed.
func (s *Comments) forget(ctx context.Context, videoID string) {
	if err := s.host.cache.Invalidate(ctx, videoID); err != nil {
		videocache.Warn(ctx, "cache invalidation failed", err)
	}
}

// commentProto is c's wire form as p is shown it (a hidden comment's
// placeholder, unless p may read it), with what p may do with it on v.
func commentProto(p auth.Principal, v video.Video, c video.Comment) *pb.Comment {
	canEdit, canDelete := video.CanEditComment(p, v, c), video.CanRemoveComment(p, v, c)
	c = video.CommentAsSeen(p, c)
	out := &pb.Comment{
		Id:             c.ID,
		VideoId:        c.VideoID,
		ParentId:       c.ParentID,
		AuthorId:       c.AuthorID,
		AuthorUsername: c.AuthorName,
		Body:           c.Body,
		Replies:        c.Replies,
		CreatedAt:      timestamppb.New(c.CreatedAt),
		CanEdit:        canEdit,
		CanDelete:      canDelete,
		Hidden:         c.Hidden(),
		HiddenReason:   c.HiddenReason,
	}
	if !c.EditedAt.IsZero() {
		out.EditedAt = timestamppb.New(c.EditedAt)
	}
	return out
}

func encodeCommentCursor(c video.Comment) string {
	b, _ := json.Marshal(cursor{CreatedAt: c.CreatedAt, ID: c.ID})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCommentCursor(s string) (video.CommentPosition, error) {
	if s == "" {
		return video.CommentPosition{}, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c cursor
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.ID == "" || c.CreatedAt.IsZero() {
		return video.CommentPosition{}, video.Invalid("cursor is not one this API returned for comments")
	}
	return video.CommentPosition{CreatedAt: c.CreatedAt, ID: c.ID}, nil
}
