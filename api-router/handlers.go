package router

import (
	"fmt"
	"net/http"

	"github.com/cloudflix/cloudflix/internal/video"
	"github.com/cloudflix/cloudflix/internal/videopb"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

type createUploadBody struct {
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Tags        []string `json:"tags"`
	Privacy     string   `json:"privacy"`
	Filename    string   `json:"filename"`
	ContentType string   `json:"content_type"`
	SizeBytes   int64    `json:"size_bytes"`
}

// privacyParam reads a privacy's name: "" is unspecified (the service's
// default, or unchanged); a name the API does not have is refused here, as
// it cannot be said on the wire.
func privacyParam(s string) (pb.VideoPrivacy, error) {
	if s == "" {
		return pb.VideoPrivacy_VIDEO_PRIVACY_UNSPECIFIED, nil
	}
	p := videopb.Privacy(video.Privacy(s))
	if p == pb.VideoPrivacy_VIDEO_PRIVACY_UNSPECIFIED {
		return 0, badRequest(`privacy must be "public", "unlisted" or "private"`)
	}
	return p, nil
}

func (a *api) createUpload(w http.ResponseWriter, r *http.Request) error {
	var body createUploadBody
	if err := readJSON(w, r, &body); err != nil {
		return err
	}
	privacy, err := privacyParam(body.Privacy)
	if err != nil {
		return err
	}
	s, err := a.clients.Upload.CreateUpload(r.Context(), &pb.CreateUploadRequest{
		Privacy:     privacy,
		Title:       body.Title,
		Description: body.Description,
		Tags:        body.Tags,
		Filename:    body.Filename,
		ContentType: body.ContentType,
		SizeBytes:   body.SizeBytes,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, sessionToJSON(s))
	return nil
}

func (a *api) getUpload(w http.ResponseWriter, r *http.Request) error {
	s, err := a.clients.Upload.GetUpload(r.Context(), &pb.GetUploadRequest{VideoId: r.PathValue("id")})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sessionToJSON(s))
	return nil
}

type signPartsBody struct {
	PartNumbers []int32 `json:"part_numbers"`
}

func (a *api) signParts(w http.ResponseWriter, r *http.Request) error {
	var body signPartsBody
	if err := readJSON(w, r, &body); err != nil {
		return err
	}
	resp, err := a.clients.Upload.SignParts(r.Context(), &pb.SignPartsRequest{
		VideoId:     r.PathValue("id"),
		PartNumbers: body.PartNumbers,
	})
	if err != nil {
		return err
	}
	parts := make([]signedPartJSON, 0, len(resp.GetParts()))
	for _, p := range resp.GetParts() {
		parts = append(parts, signedPartJSON{PartNumber: p.GetPartNumber(), URL: p.GetUrl(), ExpiresAt: formatTime(p.GetExpiresAt())})
	}
	writeJSON(w, http.StatusOK, struct {
		Parts []signedPartJSON `json:"parts"`
	}{parts})
	return nil
}

func (a *api) listParts(w http.ResponseWriter, r *http.Request) error {
	resp, err := a.clients.Upload.ListParts(r.Context(), &pb.ListPartsRequest{VideoId: r.PathValue("id")})
	if err != nil {
		return err
	}
	parts := make([]storedPartJSON, 0, len(resp.GetParts()))
	for _, p := range resp.GetParts() {
		parts = append(parts, storedPartJSON{PartNumber: p.GetPartNumber(), SizeBytes: p.GetSizeBytes(), ETag: p.GetEtag()})
	}
	writeJSON(w, http.StatusOK, struct {
		Parts []storedPartJSON `json:"parts"`
	}{parts})
	return nil
}

func (a *api) completeUpload(w http.ResponseWriter, r *http.Request) error {
	allowLonger(w, completeTimeout)
	v, err := a.clients.Upload.CompleteUpload(r.Context(), &pb.CompleteUploadRequest{VideoId: r.PathValue("id")})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.videoToJSON(v))
	return nil
}

func (a *api) abortUpload(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.clients.Upload.AbortUpload(r.Context(), &pb.AbortUploadRequest{VideoId: r.PathValue("id")}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) listVideos(w http.ResponseWriter, r *http.Request) error {
	return a.videoList(w, r, "")
}

// listOrders are the values of a list's sort parameter.
var listOrders = map[string]pb.ListOrder{
	"":         pb.ListOrder_LIST_ORDER_UNSPECIFIED,
	"latest":   pb.ListOrder_LIST_ORDER_LATEST,
	"trending": pb.ListOrder_LIST_ORDER_TRENDING,
}

// videoList answers a page of the latest or trending public videos, or of
// a channel.
func (a *api) videoList(w http.ResponseWriter, r *http.Request, channel string) error {
	limit, err := limitParam(r)
	if err != nil {
		return err
	}
	sort := r.URL.Query().Get("sort")
	order, ok := listOrders[sort]
	if !ok {
		return badRequest(fmt.Sprintf("sort %q: choose latest or trending", sort))
	}
	resp, err := a.clients.Host.ListVideos(r.Context(), &pb.ListVideosRequest{
		PageSize: limit,
		Cursor:   r.URL.Query().Get("cursor"),
		Channel:  channel,
		Order:    order,
	})
	if err != nil {
		return err
	}
	videos := make([]videoJSON, 0, len(resp.GetVideos()))
	for _, v := range resp.GetVideos() {
		videos = append(videos, a.videoToJSON(v))
	}
	writeJSON(w, http.StatusOK, struct {
		Videos     []videoJSON `json:"videos"`
		NextCursor *string     `json:"next_cursor"`
	}{videos, cursor(resp.GetNextCursor())})
	return nil
}

func (a *api) getVideo(w http.ResponseWriter, r *http.Request) error {
	v, err := a.clients.Host.GetVideo(r.Context(), &pb.GetVideoRequest{Id: r.PathValue("id")})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.videoToJSON(v))
	return nil
}

type updateVideoBody struct {
	Title       *string   `json:"title"`
	Description *string   `json:"description"`
	Tags        *[]string `json:"tags"`
	Privacy     string    `json:"privacy"`
	CommentsOff *bool     `json:"comments_off"`
}

func (a *api) updateVideo(w http.ResponseWriter, r *http.Request) error {
	var body updateVideoBody
	if err := readJSON(w, r, &body); err != nil {
		return err
	}
	privacy, err := privacyParam(body.Privacy)
	if err != nil {
		return err
	}
	req := &pb.UpdateVideoRequest{Id: r.PathValue("id"), Title: body.Title, Description: body.Description, Privacy: privacy,
		CommentsOff: body.CommentsOff}
	if body.Tags != nil {
		req.Tags = &pb.TagList{Tags: *body.Tags}
	}
	v, err := a.clients.Upload.UpdateVideo(r.Context(), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.videoToJSON(v))
	return nil
}

func (a *api) deleteVideo(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.clients.Upload.DeleteVideo(r.Context(), &pb.DeleteVideoRequest{Id: r.PathValue("id")}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// recordView counts a view; the host service tells a viewer seen within
// its window from a new one by the principal, or by the client's address
// and User-Agent.
func (a *api) recordView(w http.ResponseWriter, r *http.Request) error {
	client := a.clientOf(r)
	if _, err := a.clients.Host.RecordView(r.Context(), &pb.RecordViewRequest{
		Id: r.PathValue("id"), ClientAddress: client.GetIp(), UserAgent: client.GetUserAgent(),
	}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// likesJSON is how the caller stands with a video.
type likesJSON struct {
	Likes int64 `json:"likes"`
	Liked bool  `json:"liked"`
}

func writeLikes(w http.ResponseWriter, l *pb.Likes) {
	writeJSON(w, http.StatusOK, likesJSON{Likes: l.GetCount(), Liked: l.GetLiked()})
}

func (a *api) getLikes(w http.ResponseWriter, r *http.Request) error {
	l, err := a.clients.Host.GetLikes(r.Context(), &pb.GetLikesRequest{Id: r.PathValue("id")})
	if err != nil {
		return err
	}
	writeLikes(w, l)
	return nil
}

func (a *api) likeVideo(w http.ResponseWriter, r *http.Request) error {
	l, err := a.clients.Host.LikeVideo(r.Context(), &pb.LikeVideoRequest{Id: r.PathValue("id")})
	if err != nil {
		return err
	}
	writeLikes(w, l)
	return nil
}

func (a *api) unlikeVideo(w http.ResponseWriter, r *http.Request) error {
	l, err := a.clients.Host.UnlikeVideo(r.Context(), &pb.UnlikeVideoRequest{Id: r.PathValue("id")})
	if err != nil {
		return err
	}
	writeLikes(w, l)
	return nil
}

func (a *api) reencode(w http.ResponseWriter, r *http.Request) error {
	v, err := a.clients.Encode.Reencode(r.Context(), &pb.ReencodeRequest{Id: r.PathValue("id")})
	if err != nil {
		return err
	}
	// Accepted: the encode runs later; the video says how far it got.
	writeJSON(w, http.StatusAccepted, a.videoToJSON(v))
	return nil
}

func (a *api) search(w http.ResponseWriter, r *http.Request) error {
	limit, err := limitParam(r)
	if err != nil {
		return err
	}
	resp, err := a.clients.Search.Search(r.Context(), &pb.SearchRequest{
		Query:    r.URL.Query().Get("q"),
		PageSize: limit,
		Cursor:   r.URL.Query().Get("cursor"),
	})
	if err != nil {
		return err
	}
	results := make([]searchResultJSON, 0, len(resp.GetResults()))
	for _, res := range resp.GetResults() {
		results = append(results, searchResultJSON{videoJSON: a.videoToJSON(res.GetVideo()), Score: res.GetScore()})
	}
	writeJSON(w, http.StatusOK, struct {
		Results    []searchResultJSON `json:"results"`
		NextCursor *string            `json:"next_cursor"`
	}{results, cursor(resp.GetNextCursor())})
	return nil
}

func (a *api) suggest(w http.ResponseWriter, r *http.Request) error {
	limit, err := limitParam(r)
	if err != nil {
		return err
	}
	resp, err := a.clients.Search.Suggest(r.Context(), &pb.SuggestRequest{Prefix: r.URL.Query().Get("q"), Limit: limit})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Suggestions []string `json:"suggestions"`
	}{append([]string{}, resp.GetSuggestions()...)})
	return nil
}

func (a *api) openAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(OpenAPI)
	return nil
}
