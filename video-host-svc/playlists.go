package hostsvc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/cloudflix/cloudflix/internal/account"
	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/playlist"
	"github.com/cloudflix/cloudflix/internal/rpc"
	"github.com/cloudflix/cloudflix/internal/video"
	"github.com/cloudflix/cloudflix/internal/videocache"
	"github.com/cloudflix/cloudflix/internal/videopb"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// PlaylistStore is the metadata the playlist service keeps and reads.
type PlaylistStore interface {
	Video(ctx context.Context, id string) (video.Video, error)
	UserByName(ctx context.Context, username string) (account.User, error)
	CreatePlaylist(ctx context.Context, pl playlist.Playlist, maxPerOwner int) (playlist.Playlist, error)
	Playlist(ctx context.Context, id string) (playlist.Playlist, error)
	UpdatePlaylist(ctx context.Context, id string, change playlist.Change) (playlist.Playlist, error)
	DeletePlaylist(ctx context.Context, id string) error
	UserPlaylists(ctx context.Context, owner string, everything bool, limit int, after playlist.ListPosition) ([]playlist.Playlist, error)
	PlaylistItems(ctx context.Context, id string, limit, after int) ([]playlist.Item, error)
	AddPlaylistItem(ctx context.Context, id, videoID string, maxItems int, at time.Time) (playlist.Item, bool, error)
	RemovePlaylistItem(ctx context.Context, id, videoID string) error
	MovePlaylistItem(ctx context.Context, id, videoID string, position int) (playlist.Item, error)
}

// Pages of playlists and of a playlist's items.
var (
	playlistsPage = video.PageRule{Default: 24, Max: 100}
	itemsPage     = video.PageRule{Default: 50, Max: 200}
)

// Playlists implements the PlaylistService gRPC API: users' ordered lists
// of videos. A playlist's privacy decides who sees it (playlist.CanView);
// each of its videos is then shown to a viewer only if they may see that
// video (video.CanView), so a private or deleted video in someone's public
// playlist is skipped for everyone else.
type Playlists struct {
	pb.UnimplementedPlaylistServiceServer
	store  PlaylistStore
	videos *videocache.Cache
}

// NewPlaylists returns the service; videos is the cache of video info that
// HostService reads through too.
func NewPlaylists(store PlaylistStore, videos *videocache.Cache) *Playlists {
	return &Playlists{store: store, videos: videos}
}

// CreatePlaylist makes a playlist of the caller's.
func (s *Playlists) CreatePlaylist(ctx context.Context, req *pb.CreatePlaylistRequest) (*pb.Playlist, error) {
	p := auth.FromContext(ctx)
	if !playlist.CanCreate(p) {
		return nil, rpc.Error(ctx, refuseCreate(p))
	}
	pl, err := playlist.Playlist{
		OwnerID: p.UserID, Title: req.GetTitle(), Description: req.GetDescription(),
		Privacy: videopb.DomainPrivacy(req.GetPrivacy()),
	}.Normalize()
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	pl, err = s.store.CreatePlaylist(ctx, pl, playlist.MaxPerOwner)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	return playlistToProto(pl), nil
}

func refuseCreate(p auth.Principal) error {
	if p.Anonymous() {
		return video.ErrUnauthenticated
	}
	return fmt.Errorf("this credential may not make playlists: %w", video.ErrForbidden)
}

// playlist returns the playlist with id when the caller may see it; a
// private one of someone else's is not found, as if it did not exist.
func (s *Playlists) playlist(ctx context.Context, id string) (playlist.Playlist, error) {
	if id == "" {
		return playlist.Playlist{}, video.Invalid("id is required")
	}
	pl, err := s.store.Playlist(ctx, id)
	if err != nil {
		return playlist.Playlist{}, err
	}
	if !playlist.CanView(auth.FromContext(ctx), pl) {
		return playlist.Playlist{}, fmt.Errorf("playlist %s: %w", id, video.ErrNotFound)
	}
	return pl, nil
}

// allowed returns the playlist with id when the caller may see it and
// rule allows them what they ask.
func (s *Playlists) allowed(ctx context.Context, id string, rule func(auth.Principal, playlist.Playlist) bool) (playlist.Playlist, error) {
	pl, err := s.playlist(ctx, id)
	if err != nil {
		return playlist.Playlist{}, err
	}
	if p := auth.FromContext(ctx); !rule(p, pl) {
		return playlist.Playlist{}, fmt.Errorf("playlist %s: %w", id, playlist.Refusal(p, pl))
	}
	return pl, nil
}

// GetPlaylist returns a playlist the caller may see.
func (s *Playlists) GetPlaylist(ctx context.Context, req *pb.GetPlaylistRequest) (*pb.Playlist, error) {
	pl, err := s.playlist(ctx, req.GetId())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	return playlistToProto(pl), nil
}

// UpdatePlaylist changes a playlist's title, description or privacy.
func (s *Playlists) UpdatePlaylist(ctx context.Context, req *pb.UpdatePlaylistRequest) (*pb.Playlist, error) {
	pl, err := s.allowed(ctx, req.GetId(), playlist.CanEdit)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	change := playlist.Change{Title: req.Title, Description: req.Description}
	if p := videopb.DomainPrivacy(req.GetPrivacy()); p != "" {
		change.Privacy = &p
	}
	change, err = change.Normalize()
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	if change.Empty() {
		return playlistToProto(pl), nil
	}
	pl, err = s.store.UpdatePlaylist(ctx, pl.ID, change)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	return playlistToProto(pl), nil
}

// DeletePlaylist deletes a playlist; its videos stay.
func (s *Playlists) DeletePlaylist(ctx context.Context, req *pb.DeletePlaylistRequest) (*pb.DeletePlaylistResponse, error) {
	pl, err := s.allowed(ctx, req.GetId(), playlist.CanEdit)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	if err := s.store.DeletePlaylist(ctx, pl.ID); err != nil {
		return nil, rpc.Error(ctx, err)
	}
	return &pb.DeletePlaylistResponse{}, nil
}

// playlistsCursor is the opaque position a page of playlists ends at.
type playlistsCursor struct {
	CreatedAt time.Time `json:"t"`
	ID        string    `json:"i"`
}

// ListPlaylists lists a user's playlists, newest first: the public ones,
// or all of them for the user and moderators.
func (s *Playlists) ListPlaylists(ctx context.Context, req *pb.ListPlaylistsRequest) (*pb.ListPlaylistsResponse, error) {
	size, err := playlistsPage.Size(req.PageSize)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	var after playlistsCursor
	if err := decodeOpaque(req.GetCursor(), &after); err != nil {
		return nil, rpc.Error(ctx, err)
	}
	p := auth.FromContext(ctx)
	owner := p.UserID
	if name := req.GetUsername(); name != "" {
		u, err := s.store.UserByName(ctx, name)
		if err != nil {
			return nil, rpc.Error(ctx, fmt.Errorf("user %q: %w", name, err))
		}
		owner = u.ID
	} else if p.Anonymous() {
		return nil, rpc.Error(ctx, video.ErrUnauthenticated)
	}
	pls, err := s.store.UserPlaylists(ctx, owner, playlist.SeesEverything(p, owner), size+1,
		playlist.ListPosition{CreatedAt: after.CreatedAt, ID: after.ID})
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	resp := &pb.ListPlaylistsResponse{}
	if len(pls) > size {
		pls = pls[:size]
		last := pls[size-1]
		resp.NextCursor = encodeOpaque(playlistsCursor{CreatedAt: last.CreatedAt, ID: last.ID})
	}
	for _, pl := range pls {
		resp.Playlists = append(resp.Playlists, playlistToProto(pl))
	}
	return resp, nil
}

// itemsCursor is the position of the last item a page of items gave.
type itemsCursor struct {
	Position int `json:"p"`
}

// ListPlaylistItems pages through a playlist's videos in order. A video
// the caller may not see (deleted, or someone else's private one) is
// skipped, and the page fills from the items after it, so a page is short
// only at the end; the playlist's owner gets its place without the video,
// to take it out. Positions are read as they are now: a reorder between
// two pages may show an item twice or not at all.
func (s *Playlists) ListPlaylistItems(ctx context.Context, req *pb.ListPlaylistItemsRequest) (*pb.ListPlaylistItemsResponse, error) {
	size, err := itemsPage.Size(req.PageSize)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	after := itemsCursor{Position: -1}
	if req.GetCursor() != "" {
		if err := decodeOpaque(req.GetCursor(), &after); err != nil {
			return nil, rpc.Error(ctx, err)
		}
	}
	pl, err := s.playlist(ctx, req.GetId())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	p := auth.FromContext(ctx)
	arranger := playlist.CanArrange(p, pl)
	resp := &pb.ListPlaylistItemsResponse{}
	// Each read takes one item more than the page lacks, which tells
	// whether anything follows; hidden items make it read on. The reads
	// end at the playlist's end, at most MaxItems items in all.
	for next := after.Position; ; {
		want := size - len(resp.Items) + 1
		items, err := s.store.PlaylistItems(ctx, pl.ID, want, next)
		if err != nil {
			return nil, rpc.Error(ctx, err)
		}
		for _, it := range items {
			if len(resp.Items) == size {
				last := resp.Items[size-1].GetPosition()
				resp.NextCursor = encodeOpaque(itemsCursor{Position: int(last)})
				return resp, nil
			}
			next = it.Position
			seen := it.Video.State != video.StateDeleted && video.CanView(p, it.Video)
			if seen || arranger {
				resp.Items = append(resp.Items, itemToProto(it, seen))
			}
		}
		if len(items) < want {
			return resp, nil
		}
	}
}

// AddPlaylistItem appends a video the caller may see to a playlist of
// theirs.
func (s *Playlists) AddPlaylistItem(ctx context.Context, req *pb.AddPlaylistItemRequest) (*pb.AddPlaylistItemResponse, error) {
	pl, err := s.allowed(ctx, req.GetId(), playlist.CanArrange)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	if req.GetVideoId() == "" {
		return nil, rpc.Error(ctx, video.Invalid("video_id is required"))
	}
	v, err := s.videos.Video(ctx, req.GetVideoId(), s.store.Video)
	if err != nil {
		return nil, rpc.Error(ctx, fmt.Errorf("video %s: %w", req.GetVideoId(), err))
	}
	if !playlist.CanAdd(auth.FromContext(ctx), pl, v) {
		return nil, rpc.Error(ctx, fmt.Errorf("video %s: %w", v.ID, video.ErrNotFound))
	}
	it, added, err := s.store.AddPlaylistItem(ctx, pl.ID, v.ID, playlist.MaxItems, time.Now())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	return &pb.AddPlaylistItemResponse{Item: itemToProto(it, true), Added: added}, nil
}

// RemovePlaylistItem takes a video out of a playlist of the caller's.
func (s *Playlists) RemovePlaylistItem(ctx context.Context, req *pb.RemovePlaylistItemRequest) (*pb.RemovePlaylistItemResponse, error) {
	pl, err := s.allowed(ctx, req.GetId(), playlist.CanArrange)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	if err := s.store.RemovePlaylistItem(ctx, pl.ID, req.GetVideoId()); err != nil {
		return nil, rpc.Error(ctx, err)
	}
	return &pb.RemovePlaylistItemResponse{}, nil
}

// MovePlaylistItem moves a video of a playlist of the caller's.
func (s *Playlists) MovePlaylistItem(ctx context.Context, req *pb.MovePlaylistItemRequest) (*pb.PlaylistItem, error) {
	pl, err := s.allowed(ctx, req.GetId(), playlist.CanArrange)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	it, err := s.store.MovePlaylistItem(ctx, pl.ID, req.GetVideoId(), int(req.GetPosition()))
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	p := auth.FromContext(ctx)
	return itemToProto(it, it.Video.State != video.StateDeleted && video.CanView(p, it.Video)), nil
}

func playlistToProto(pl playlist.Playlist) *pb.Playlist {
	return &pb.Playlist{
		Id:            pl.ID,
		OwnerId:       pl.OwnerID,
		OwnerUsername: pl.OwnerName,
		Title:         pl.Title,
		Description:   pl.Description,
		Privacy:       videopb.Privacy(pl.Privacy),
		ItemCount:     int32(pl.ItemCount),
		CreatedAt:     timestamppb.New(pl.CreatedAt),
		UpdatedAt:     timestamppb.New(pl.UpdatedAt),
	}
}

// itemToProto is an item on the wire, with its video when seen.
func itemToProto(it playlist.Item, seen bool) *pb.PlaylistItem {
	out := &pb.PlaylistItem{Position: int32(it.Position), VideoId: it.Video.ID, AddedAt: timestamppb.New(it.AddedAt)}
	if seen {
		out.Video = videopb.ToProto(it.Video)
	}
	return out
}

func encodeOpaque(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeOpaque reads a cursor this service gave into dst; "" leaves dst
// as it is.
func decodeOpaque(s string, dst any) error {
	if s == "" {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, dst)
	}
	if err != nil {
		return video.Invalid("cursor is not one this API returned")
	}
	return nil
}
