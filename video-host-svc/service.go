// Package hostsvc is the read side of a video: its info (cache-aside in
// front of the metadata store, so a hot video costs no database query), for
// whoever may see it; the newest-first and trending lists of ready public
// videos and the channels of users; view counting (once per viewer within a
// window, counted in the cache and written to the database in batches);
// likes; and comments (CommentService). It never changes a video's state.
package hostsvc

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cloudflix/cloudflix/internal/account"
	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/rpc"
	"github.com/cloudflix/cloudflix/internal/video"
	"github.com/cloudflix/cloudflix/internal/videocache"
	"github.com/cloudflix/cloudflix/internal/videopb"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// Store is the metadata this service reads.
type Store interface {
	Video(ctx context.Context, id string) (video.Video, error)
	LatestVideos(ctx context.Context, limit int, after video.ListPosition) ([]video.Video, error)
	ChannelVideos(ctx context.Context, owner string, everything bool, limit int, after video.ListPosition) ([]video.Video, error)
	UserByName(ctx context.Context, username string) (account.User, error)
	AddViews(ctx context.Context, counts map[string]int64) error
	TrendingVideos(ctx context.Context, limit int, after video.TrendPosition, now time.Time) ([]video.Trending, error)
	Like(ctx context.Context, videoID, userID string, at time.Time) (video.Likes, error)
	Unlike(ctx context.Context, videoID, userID string) (video.Likes, error)
	Liked(ctx context.Context, videoID, userID string) (bool, error)
}

// Cache is what this service keeps in the cache besides video info: view
// counts until they are flushed, marks of the viewers already counted, and
// whether a user likes a video.
type Cache interface {
	IncrCounter(ctx context.Context, set, member string, n int64) error
	DrainCounters(ctx context.Context, set string) (map[string]int64, error)
	Mark(ctx context.Context, key string, ttl time.Duration) (bool, error)
	Get(ctx context.Context, key string) ([]byte, error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	Delete(ctx context.Context, keys ...string) error
}

const viewsSet = "views:pending"

// ViewRule says when a view counts: once per viewer and video within
// Window. A signed-in viewer is their user id; an anonymous one a hash of
// their address and User-Agent keyed with Key, so that the cache holds no
// address, and a guess of one cannot be checked against it.
type ViewRule struct {
	Window time.Duration
	Key    []byte
}

// listPage bounds a page of the latest videos: 24 fills the home page's
// grid at four and six columns.
var listPage = video.PageRule{Default: 24, Max: 100}

// Service implements the HostService gRPC API.
type Service struct {
	pb.UnimplementedHostServiceServer
	store      Store
	cache      *videocache.Cache
	engagement Cache // view counts, viewers' marks, viewers' likes
	viewRule   ViewRule
	views      prometheus.Counter
}

// New returns the service.
func New(store Store, cache *videocache.Cache, engagement Cache, viewRule ViewRule, reg prometheus.Registerer) *Service {
	s := &Service{store: store, cache: cache, engagement: engagement, viewRule: viewRule, views: prometheus.NewCounter(prometheus.CounterOpts{
		Name: "cloudflix_views_total",
		Help: "Video views counted, each viewer once per video within the view window.",
	})}
	if reg != nil {
		reg.MustRegister(s.views)
	}
	return s
}

// GetVideo returns a video's info, from the cache on a hit.
func (s *Service) GetVideo(ctx context.Context, req *pb.GetVideoRequest) (*pb.Video, error) {
	v, err := s.video(ctx, req.GetId())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	return videopb.ToProto(v), nil
}

// video returns the video with id when the caller may see it; a private
// video of someone else's is not found, as if it did not exist.
func (s *Service) video(ctx context.Context, id string) (video.Video, error) {
	if id == "" {
		return video.Video{}, video.Invalid("id is required")
	}
	v, err := s.cache.Video(ctx, id, s.store.Video)
	if err != nil {
		return video.Video{}, fmt.Errorf("video %s: %w", id, err)
	}
	if !video.CanView(auth.FromContext(ctx), v) {
		return video.Video{}, fmt.Errorf("video %s: %w", id, video.ErrNotFound)
	}
	return v, nil
}

// cursor is the opaque position a list page ends at.
type cursor struct {
	CreatedAt time.Time `json:"t"`
	ID        string    `json:"i"`
}

func encodeCursor(v video.Video) string {
	b, _ := json.Marshal(cursor{CreatedAt: v.CreatedAt, ID: v.ID})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (video.ListPosition, error) {
	if s == "" {
		return video.ListPosition{}, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c cursor
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.ID == "" {
		return video.ListPosition{}, video.Invalid("cursor is not one this API returned")
	}
	return video.ListPosition{CreatedAt: c.CreatedAt, ID: c.ID}, nil
}

// ListVideos lists ready videos, newest first or trending.
func (s *Service) ListVideos(ctx context.Context, req *pb.ListVideosRequest) (*pb.ListVideosResponse, error) {
	size, err := listPage.Size(req.PageSize)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	switch req.GetOrder() {
	case pb.ListOrder_LIST_ORDER_UNSPECIFIED, pb.ListOrder_LIST_ORDER_LATEST:
	case pb.ListOrder_LIST_ORDER_TRENDING:
		if req.GetChannel() != "" {
			return nil, rpc.Error(ctx, video.Invalid("a channel is listed newest first only"))
		}
		return s.trending(ctx, size, req.GetCursor())
	default:
		return nil, rpc.Error(ctx, video.Invalid("order %v: choose latest or trending", req.GetOrder()))
	}
	after, err := decodeCursor(req.GetCursor())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	vs, err := s.list(ctx, req.GetChannel(), size+1, after)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	resp := &pb.ListVideosResponse{}
	if len(vs) > size {
		vs = vs[:size]
		resp.NextCursor = encodeCursor(vs[size-1])
	}
	for _, v := range vs {
		resp.Videos = append(resp.Videos, videopb.ToProto(v))
	}
	return resp, nil
}

// list reads one more video than a page holds, which tells whether there
// is a next page: the latest public videos, or a channel's, all of them
// for its owner and moderators.
func (s *Service) list(ctx context.Context, channel string, limit int, after video.ListPosition) ([]video.Video, error) {
	if channel == "" {
		vs, err := s.store.LatestVideos(ctx, limit, after)
		if err != nil {
			return nil, fmt.Errorf("latest videos: %w", err)
		}
		return vs, nil
	}
	owner, err := s.store.UserByName(ctx, channel)
	if err != nil {
		return nil, fmt.Errorf("channel %q: %w", channel, err)
	}
	everything := video.SeesEverything(auth.FromContext(ctx), owner.ID)
	vs, err := s.store.ChannelVideos(ctx, owner.ID, everything, limit, after)
	if err != nil {
		return nil, fmt.Errorf("videos of %s: %w", channel, err)
	}
	return vs, nil
}

// RecordView counts one view of a video that can be watched (ready, or
// playable while it encodes), unless the same viewer was counted for it
// within the window: a reload, or a player looping, is one view.
func (s *Service) RecordView(ctx context.Context, req *pb.RecordViewRequest) (*pb.RecordViewResponse, error) {
	v, err := s.video(ctx, req.GetId())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	if !v.Playable() {
		return nil, rpc.Error(ctx, fmt.Errorf("video %s is %s, not playable yet: %w", v.ID, v.State, video.ErrWrongState))
	}
	viewer := s.viewRule.viewer(auth.FromContext(ctx), req.GetClientAddress(), req.GetUserAgent())
	first, err := s.engagement.Mark(ctx, "seen:"+v.ID+":"+viewer, s.viewRule.Window)
	if err != nil {
		return nil, rpc.Error(ctx, fmt.Errorf("count view of %s: %w", v.ID, err))
	}
	if !first {
		return &pb.RecordViewResponse{}, nil
	}
	if err := s.engagement.IncrCounter(ctx, viewsSet, v.ID, 1); err != nil {
		return nil, rpc.Error(ctx, fmt.Errorf("count view of %s: %w", v.ID, err))
	}
	s.views.Inc()
	return &pb.RecordViewResponse{Counted: true}, nil
}

// viewer names who is watching, for telling their views apart: a user by
// their id, anyone else by a keyed hash of where they come from and what
// they watch with, which a mark in the cache can hold without holding the
// address.
func (r ViewRule) viewer(p auth.Principal, address, userAgent string) string {
	if !p.Anonymous() {
		return "u:" + p.UserID
	}
	mac := hmac.New(sha256.New, r.Key)
	mac.Write([]byte(address))
	mac.Write([]byte{0})
	mac.Write([]byte(userAgent))
	return "a:" + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:16])
}

// FlushViews writes counted views to the database and drops the cached info
// of the videos whose count changed.
func (s *Service) FlushViews(ctx context.Context) error {
	counts, err := s.engagement.DrainCounters(ctx, viewsSet)
	if err != nil || len(counts) == 0 {
		return err
	}
	if err := s.store.AddViews(ctx, counts); err != nil {
		// Put the counts back so no view is lost.
		for id, n := range counts {
			if ierr := s.engagement.IncrCounter(ctx, viewsSet, id, n); ierr != nil {
				return errors.Join(err, ierr)
			}
		}
		return fmt.Errorf("add views: %w", err)
	}
	ids := make([]string, 0, len(counts))
	for id := range counts {
		ids = append(ids, id)
	}
	return s.cache.Invalidate(ctx, ids...)
}

// RunViewFlusher flushes views every interval until ctx ends, and once more
// on the way out.
func (s *Service) RunViewFlusher(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if err := s.FlushViews(fctx); err != nil {
				slog.Warn("final view flush failed", "err", err)
			}
			cancel()
			return
		case <-t.C:
			if err := s.FlushViews(ctx); err != nil {
				slog.WarnContext(ctx, "view flush failed, will retry", "err", err)
			}
		}
	}
}
