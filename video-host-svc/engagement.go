package hostsvc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/cache"
	"github.com/cloudflix/cloudflix/internal/rpc"
	"github.com/cloudflix/cloudflix/internal/video"
	"github.com/cloudflix/cloudflix/internal/videocache"
	"github.com/cloudflix/cloudflix/internal/videopb"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// likedTTL bounds how long a cached "this user likes this video" may be
// stale, should an invalidation race a read.
const likedTTL = 10 * time.Minute

func likedKey(videoID, userID string) string { return "liked:" + videoID + ":" + userID }

// LikeVideo records the caller's like of a ready video they may see.
func (s *Service) LikeVideo(ctx context.Context, req *pb.LikeVideoRequest) (*pb.Likes, error) {
	return s.changeLike(ctx, req.GetId(), true, func(v video.Video, user string) (video.Likes, error) {
		return s.store.Like(ctx, v.ID, user, time.Now())
	})
}

// UnlikeVideo takes the caller's like of a video back.
func (s *Service) UnlikeVideo(ctx context.Context, req *pb.UnlikeVideoRequest) (*pb.Likes, error) {
	return s.changeLike(ctx, req.GetId(), false, func(v video.Video, user string) (video.Likes, error) {
		return s.store.Unlike(ctx, v.ID, user)
	})
}

// changeLike checks that the caller may like the video, makes the change,
// and drops what the cache held that it changed: the video's info, which
// carries the count, and whether the caller likes it.
func (s *Service) changeLike(ctx context.Context, id string, newLike bool, change func(v video.Video, user string) (video.Likes, error)) (*pb.Likes, error) {
	v, err := s.likeable(ctx, id, newLike)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	user := auth.FromContext(ctx).UserID
	likes, err := change(v, user)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	if err := s.cache.Invalidate(ctx, v.ID); err != nil {
		videocache.Warn(ctx, "cache invalidation failed", err)
	}
	if err := s.engagement.Delete(ctx, likedKey(v.ID, user)); err != nil {
		videocache.Warn(ctx, "cache invalidation failed", err)
	}
	return &pb.Likes{Count: likes.Count, Liked: likes.Liked}, nil
}

// likeable returns the video with id when the caller may like it (or
// take a like back, or ask about it): signed in and able to see it. A new
// like needs the video ready to watch.
func (s *Service) likeable(ctx context.Context, id string, newLike bool) (video.Video, error) {
	v, err := s.video(ctx, id)
	if err != nil {
		return video.Video{}, err
	}
	if p := auth.FromContext(ctx); !video.CanLike(p, v) {
		return video.Video{}, fmt.Errorf("like %s: %w", v.ID, video.Refusal(p, v))
	}
	if newLike && v.State != video.StateReady {
		return video.Video{}, fmt.Errorf("video %s is %s, not ready to watch: %w", v.ID, v.State, video.ErrWrongState)
	}
	return v, nil
}

// GetLikes tells how many like a video and whether the caller does: the
// count from the video's cached info, the caller's like from the cache
// too once read.
func (s *Service) GetLikes(ctx context.Context, req *pb.GetLikesRequest) (*pb.Likes, error) {
	v, err := s.likeable(ctx, req.GetId(), false)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	liked, err := s.liked(ctx, v.ID, auth.FromContext(ctx).UserID)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	return &pb.Likes{Count: v.Likes, Liked: liked}, nil
}

// liked reads whether a user likes a video, cache-aside.
func (s *Service) liked(ctx context.Context, videoID, userID string) (bool, error) {
	key := likedKey(videoID, userID)
	b, err := s.engagement.Get(ctx, key)
	if err == nil && len(b) == 1 {
		return b[0] == '1', nil
	}
	if err != nil && !errors.Is(err, cache.ErrMiss) {
		videocache.Warn(ctx, "cache unavailable, reading through", err)
	}
	liked, err := s.store.Liked(ctx, videoID, userID)
	if err != nil {
		return false, fmt.Errorf("like of %s: %w", videoID, err)
	}
	value := []byte("0")
	if liked {
		value = []byte("1")
	}
	if err := s.engagement.Set(ctx, key, value, likedTTL); err != nil {
		videocache.Warn(ctx, "cache set failed", err)
	}
	return liked, nil
}

// trendCursor is the opaque position a trending page ends at.
type trendCursor struct {
	Score *float64 `json:"s"`
	ID    string   `json:"i"`
}

// trending lists a page of trending videos, reading one more than a page
// holds to tell whether there is a next page.
func (s *Service) trending(ctx context.Context, size int, cursor string) (*pb.ListVideosResponse, error) {
	after, err := decodeTrendCursor(cursor)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	ts, err := s.store.TrendingVideos(ctx, size+1, after, time.Now())
	if err != nil {
		return nil, rpc.Error(ctx, fmt.Errorf("trending videos: %w", err))
	}
	resp := &pb.ListVideosResponse{}
	if len(ts) > size {
		ts = ts[:size]
		last := ts[size-1]
		b, _ := json.Marshal(trendCursor{Score: &last.Score, ID: last.Video.ID})
		resp.NextCursor = base64.RawURLEncoding.EncodeToString(b)
	}
	for _, t := range ts {
		resp.Videos = append(resp.Videos, videopb.ToProto(t.Video))
	}
	return resp, nil
}

func decodeTrendCursor(s string) (video.TrendPosition, error) {
	if s == "" {
		return video.TrendPosition{}, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c trendCursor
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.ID == "" || c.Score == nil || math.IsNaN(*c.Score) {
		return video.TrendPosition{}, video.Invalid("cursor is not one this API returned for the trending list")
	}
	return video.TrendPosition{Score: *c.Score, ID: c.ID}, nil
}
