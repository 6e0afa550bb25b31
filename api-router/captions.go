package router

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/cloudflix/cloudflix/internal/captions"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// captionJSON is one language's captions of a video.
type captionJSON struct {
	Language  string `json:"language"`
	Label     string `json:"label"`
	SizeBytes int64  `json:"size_bytes"`
	UpdatedAt string `json:"updated_at"`
	URL       string `json:"url"` // of the WebVTT file, signed as the video's media is
}

type captionsJSON struct {
	Captions []captionJSON `json:"captions"`
}

func (a *api) captionJSON(videoID string, privacy pb.VideoPrivacy, c *pb.Caption) captionJSON {
	u := a.base + "/media/" + c.GetKey()
	if privacy != pb.VideoPrivacy_VIDEO_PRIVACY_PUBLIC {
		u = a.base + a.signedMediaPath(videoID, c.GetKey(), time.Now())
	}
	return captionJSON{
		Language:  c.GetLanguage(),
		Label:     c.GetLabel(),
		SizeBytes: c.GetSizeBytes(),
		UpdatedAt: formatTime(c.GetUpdatedAt()),
		URL:       u,
	}
}

func (a *api) listCaptions(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	resp, err := a.clients.Caption.ListCaptions(r.Context(), &pb.ListCaptionsRequest{VideoId: id})
	if err != nil {
		return err
	}
	out := captionsJSON{Captions: make([]captionJSON, 0, len(resp.GetCaptions()))}
	for _, c := range resp.GetCaptions() {
		out.Captions = append(out.Captions, a.captionJSON(id, resp.GetPrivacy(), c))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// putCaption takes the caption file as the request's body, as it is on
// disk (WebVTT or SRT), and its label from the query.
func (a *api) putCaption(w http.ResponseWriter, r *http.Request) error {
	content, err := io.ReadAll(http.MaxBytesReader(w, r.Body, captions.MaxBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &edgeError{status: http.StatusRequestEntityTooLarge, code: "payload_too_large",
			msg: fmt.Sprintf("the caption file is larger than %d bytes", tooBig.Limit)}
	}
	if err != nil {
		return badRequest("the caption file could not be read: " + err.Error())
	}
	id := r.PathValue("id")
	resp, err := a.clients.Caption.PutCaption(r.Context(), &pb.PutCaptionRequest{
		VideoId:  id,
		Language: r.PathValue("lang"),
		Label:    r.URL.Query().Get("label"),
		Content:  content,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.captionJSON(id, resp.GetPrivacy(), resp.GetCaption()))
	return nil
}

func (a *api) deleteCaption(w http.ResponseWriter, r *http.Request) error {
	_, err := a.clients.Caption.DeleteCaption(r.Context(), &pb.DeleteCaptionRequest{
		VideoId:  r.PathValue("id"),
		Language: r.PathValue("lang"),
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
