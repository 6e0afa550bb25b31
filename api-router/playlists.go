package router

import (
	"net/http"

	"github.com/cloudflix/cloudflix/internal/videopb"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// playlistJSON is a user's ordered list of videos.
type playlistJSON struct {
	ID          string    `json:"id"`
	Owner       ownerJSON `json:"owner"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Privacy     string    `json:"privacy"`
	ItemCount   int32     `json:"item_count"`
	CreatedAt   string    `json:"created_at"`
	UpdatedAt   string    `json:"updated_at"`
}

// playlistItemJSON is one place in a playlist; video is null where the
// caller may not see the video, which only the playlist's owner is shown.
type playlistItemJSON struct {
	Position int32      `json:"position"`
	VideoID  string     `json:"video_id"`
	Video    *videoJSON `json:"video"`
	AddedAt  string     `json:"added_at"`
}

func playlistToJSON(pl *pb.Playlist) playlistJSON {
	out := playlistJSON{
		ID:          pl.GetId(),
		Owner:       ownerJSON{ID: pl.GetOwnerId(), Username: pl.GetOwnerUsername()},
		Title:       pl.GetTitle(),
		Description: pl.GetDescription(),
		Privacy:     string(videopb.DomainPrivacy(pl.GetPrivacy())),
		ItemCount:   pl.GetItemCount(),
		CreatedAt:   formatTime(pl.GetCreatedAt()),
		UpdatedAt:   formatTime(pl.GetUpdatedAt()),
	}
	if out.Privacy == "" {
		out.Privacy = "unspecified"
	}
	return out
}

func (a *api) playlistItemToJSON(it *pb.PlaylistItem) playlistItemJSON {
	out := playlistItemJSON{Position: it.GetPosition(), VideoID: it.GetVideoId(), AddedAt: formatTime(it.GetAddedAt())}
	if it.GetVideo() != nil {
		v := a.videoToJSON(it.GetVideo())
		out.Video = &v
	}
	return out
}

type createPlaylistBody struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	Privacy     string `json:"privacy"`
}

func (a *api) createPlaylist(w http.ResponseWriter, r *http.Request) error {
	var body createPlaylistBody
	if err := readJSON(w, r, &body); err != nil {
		return err
	}
	privacy, err := privacyParam(body.Privacy)
	if err != nil {
		return err
	}
	pl, err := a.clients.Playlist.CreatePlaylist(r.Context(), &pb.CreatePlaylistRequest{
		Title: body.Title, Description: body.Description, Privacy: privacy,
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/playlists/"+pl.GetId())
	writeJSON(w, http.StatusCreated, playlistToJSON(pl))
	return nil
}

func (a *api) getPlaylist(w http.ResponseWriter, r *http.Request) error {
	pl, err := a.clients.Playlist.GetPlaylist(r.Context(), &pb.GetPlaylistRequest{Id: r.PathValue("id")})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, playlistToJSON(pl))
	return nil
}

type updatePlaylistBody struct {
	Title       *string `json:"title"`
	Description *string `json:"description"`
	Privacy     string  `json:"privacy"`
}

func (a *api) updatePlaylist(w http.ResponseWriter, r *http.Request) error {
	var body updatePlaylistBody
	if err := readJSON(w, r, &body); err != nil {
		return err
	}
	privacy, err := privacyParam(body.Privacy)
	if err != nil {
		return err
	}
	pl, err := a.clients.Playlist.UpdatePlaylist(r.Context(), &pb.UpdatePlaylistRequest{
		Id: r.PathValue("id"), Title: body.Title, Description: body.Description, Privacy: privacy,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, playlistToJSON(pl))
	return nil
}

func (a *api) deletePlaylist(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.clients.Playlist.DeletePlaylist(r.Context(), &pb.DeletePlaylistRequest{Id: r.PathValue("id")}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// playlistList answers a page of a user's playlists; "" is the caller.
func (a *api) playlistList(w http.ResponseWriter, r *http.Request, username string) error {
	limit, err := limitParam(r)
	if err != nil {
		return err
	}
	resp, err := a.clients.Playlist.ListPlaylists(r.Context(), &pb.ListPlaylistsRequest{
		Username: username, PageSize: limit, Cursor: r.URL.Query().Get("cursor"),
	})
	if err != nil {
		return err
	}
	out := make([]playlistJSON, 0, len(resp.GetPlaylists()))
	for _, pl := range resp.GetPlaylists() {
		out = append(out, playlistToJSON(pl))
	}
	writeJSON(w, http.StatusOK, struct {
		Playlists  []playlistJSON `json:"playlists"`
		NextCursor *string        `json:"next_cursor"`
	}{out, cursor(resp.GetNextCursor())})
	return nil
}

func (a *api) userPlaylists(w http.ResponseWriter, r *http.Request) error {
	return a.playlistList(w, r, r.PathValue("username"))
}

func (a *api) myPlaylists(w http.ResponseWriter, r *http.Request) error {
	return a.playlistList(w, r, "")
}

func (a *api) listPlaylistItems(w http.ResponseWriter, r *http.Request) error {
	limit, err := limitParam(r)
	if err != nil {
		return err
	}
	resp, err := a.clients.Playlist.ListPlaylistItems(r.Context(), &pb.ListPlaylistItemsRequest{
		Id: r.PathValue("id"), PageSize: limit, Cursor: r.URL.Query().Get("cursor"),
	})
	if err != nil {
		return err
	}
	items := make([]playlistItemJSON, 0, len(resp.GetItems()))
	for _, it := range resp.GetItems() {
		items = append(items, a.playlistItemToJSON(it))
	}
	writeJSON(w, http.StatusOK, struct {
		Items      []playlistItemJSON `json:"items"`
		NextCursor *string            `json:"next_cursor"`
	}{items, cursor(resp.GetNextCursor())})
	return nil
}

type addPlaylistItemBody struct {
	VideoID string `json:"video_id"`
}

// addPlaylistItem answers 201 with the new item, or 200 with the item
// where it was when the playlist held the video already.
func (a *api) addPlaylistItem(w http.ResponseWriter, r *http.Request) error {
	var body addPlaylistItemBody
	if err := readJSON(w, r, &body); err != nil {
		return err
	}
	if body.VideoID == "" {
		return badRequest("video_id is required")
	}
	resp, err := a.clients.Playlist.AddPlaylistItem(r.Context(), &pb.AddPlaylistItemRequest{Id: r.PathValue("id"), VideoId: body.VideoID})
	if err != nil {
		return err
	}
	code := http.StatusOK
	if resp.GetAdded() {
		code = http.StatusCreated
	}
	writeJSON(w, code, a.playlistItemToJSON(resp.GetItem()))
	return nil
}

func (a *api) removePlaylistItem(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.clients.Playlist.RemovePlaylistItem(r.Context(), &pb.RemovePlaylistItemRequest{
		Id: r.PathValue("id"), VideoId: r.PathValue("video"),
	}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type movePlaylistItemBody struct {
	Position *int32 `json:"position"`
}

func (a *api) movePlaylistItem(w http.ResponseWriter, r *http.Request) error {
	var body movePlaylistItemBody
	if err := readJSON(w, r, &body); err != nil {
		return err
	}
	if body.Position == nil {
		return badRequest("position is required")
	}
	it, err := a.clients.Playlist.MovePlaylistItem(r.Context(), &pb.MovePlaylistItemRequest{
		Id: r.PathValue("id"), VideoId: r.PathValue("video"), Position: *body.Position,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.playlistItemToJSON(it))
	return nil
}
