package router

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/cloudflix/cloudflix/internal/video"
	"github.com/cloudflix/cloudflix/internal/videopb"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// The JSON shapes of the API. Slices are never nil so that clients always
// see [] rather than null; the OpenAPI document describes each one.

type videoJSON struct {
	ID              string          `json:"id"`
	Owner           *ownerJSON      `json:"owner"`
	Privacy         string          `json:"privacy"`
	Title           string          `json:"title"`
	Description     string          `json:"description"`
	Tags            []string        `json:"tags"`
	State           string          `json:"state"`
	FailureReason   string          `json:"failure_reason"`
	Progress        float64         `json:"progress"`
	Playable        bool            `json:"playable"`
	PlayableSeconds float64         `json:"playable_seconds"`
	DurationSeconds float64         `json:"duration_seconds"`
	Width           int32           `json:"width"`
	Height          int32           `json:"height"`
	HLSURL          *string         `json:"hls_url"`
	ThumbnailURL    *string         `json:"thumbnail_url"`
	StoryboardURL   *string         `json:"storyboard_url"`
	Renditions      []renditionJSON `json:"renditions"`
	Views           int64           `json:"views"`
	Likes           int64           `json:"likes"`
	Comments        int64           `json:"comments"`
	CommentsOff     bool            `json:"comments_off"`
	SizeBytes       int64           `json:"size_bytes"`
	ContentType     string          `json:"content_type"`
	CreatedAt       string          `json:"created_at"`
	UpdatedAt       string          `json:"updated_at"`
	// Hidden and HiddenReason say that a moderator hid the video and why;
	// only its owner and moderators are ever shown a hidden video.
	Hidden       bool   `json:"hidden"`
	HiddenReason string `json:"hidden_reason"`
}

// ownerJSON is who uploaded a video; null for a video from before accounts.
type ownerJSON struct {
	ID       string `json:"id"`
	Username string `json:"username"`
}

type renditionJSON struct {
	Name             string  `json:"name"`
	Width            int32   `json:"width"`
	Height           int32   `json:"height"`
	Bandwidth        int64   `json:"bandwidth"`
	AverageBandwidth int64   `json:"average_bandwidth"`
	Codecs           string  `json:"codecs"`
	FrameRate        float64 `json:"frame_rate"`
}

// searchResultJSON is a video with its relevance, flat: the video's fields
// and "score" side by side.
type searchResultJSON struct {
	videoJSON
	Score float64 `json:"score"`
}

type sessionJSON struct {
	VideoID   string `json:"video_id"`
	SizeBytes int64  `json:"size_bytes"`
	PartSize  int64  `json:"part_size"`
	PartCount int32  `json:"part_count"`
	ExpiresAt string `json:"expires_at"`
}

type signedPartJSON struct {
	PartNumber int32  `json:"part_number"`
	URL        string `json:"url"`
	ExpiresAt  string `json:"expires_at"`
}

type storedPartJSON struct {
	PartNumber int32  `json:"part_number"`
	SizeBytes  int64  `json:"size_bytes"`
	ETag       string `json:"etag"`
}

func formatTime(ts *timestamppb.Timestamp) string {
	return ts.AsTime().UTC().Format(time.RFC3339Nano)
}

// videoToJSON is the API's view of a video. The playlist's URL exists once
// the video is playable (playableToJSON), the thumbnail's and storyboard's
// once it is ready: before that there is nothing to show. The media of a
// video that is not public, or that a moderator hid, is reached only
// through signed links: whoever was shown the video may play it for a
// while.
func (a *api) videoToJSON(v *pb.Video) videoJSON {
	out := videoJSON{
		ID:              v.GetId(),
		Privacy:         string(videopb.DomainPrivacy(v.GetPrivacy())),
		Title:           v.GetTitle(),
		Description:     v.GetDescription(),
		Tags:            append([]string{}, v.GetTags()...),
		State:           string(videopb.DomainState(v.GetState())),
		FailureReason:   v.GetFailureReason(),
		Progress:        v.GetProgress(),
		DurationSeconds: v.GetDurationSeconds(),
		Width:           v.GetWidth(),
		Height:          v.GetHeight(),
		Renditions:      make([]renditionJSON, 0, len(v.GetRenditions())),
		Views:           v.GetViews(),
		Likes:           v.GetLikes(),
		Comments:        v.GetComments(),
		CommentsOff:     v.GetCommentsOff(),
		SizeBytes:       v.GetSizeBytes(),
		ContentType:     v.GetContentType(),
		CreatedAt:       formatTime(v.GetCreatedAt()),
		UpdatedAt:       formatTime(v.GetUpdatedAt()),
		Hidden:          v.GetHiddenAt() != nil,
		HiddenReason:    v.GetHiddenReason(),
	}
	if v.GetOwnerId() != "" {
		out.Owner = &ownerJSON{ID: v.GetOwnerId(), Username: v.GetOwnerUsername()}
	}
	if out.Privacy == "" {
		out.Privacy = "unspecified"
	}
	if out.State == "" {
		// A state this edge does not know is a contract break between
		// versions; say so rather than invent one.
		out.State = "unspecified"
	}
	for _, r := range v.GetRenditions() {
		out.Renditions = append(out.Renditions, renditionJSON{
			Name:             r.GetName(),
			Width:            r.GetWidth(),
			Height:           r.GetHeight(),
			Bandwidth:        r.GetBandwidth(),
			AverageBandwidth: r.GetAverageBandwidth(),
			Codecs:           r.GetCodecs(),
			FrameRate:        r.GetFrameRate(),
		})
	}
	id := url.PathEscape(v.GetId())
	media := func(key string) *string {
		u := a.base + "/media/" + key
		if v.GetPrivacy() != pb.VideoPrivacy_VIDEO_PRIVACY_PUBLIC || v.GetHiddenAt() != nil {
			u = a.base + a.signedMediaPath(v.GetId(), key, time.Now())
		}
		return &u
	}
	playableToJSON(&out, v)
	if out.Playable {
		out.HLSURL = media(video.MasterPlaylistKey(id))
	}
	if v.GetState() == pb.VideoState_VIDEO_STATE_READY {
		out.ThumbnailURL = media(video.ThumbnailKey(id))
		out.StoryboardURL = media(video.StoryboardVTTKey(id))
	}
	return out
}

func sessionToJSON(s *pb.UploadSession) sessionJSON {
	return sessionJSON{
		VideoID:   s.GetVideoId(),
		SizeBytes: s.GetSizeBytes(),
		PartSize:  s.GetPartSize(),
		PartCount: s.GetPartCount(),
		ExpiresAt: formatTime(s.GetExpiresAt()),
	}
}

// cursor is how a page's next_cursor goes out: null at the end of a list.
func cursor(next string) *string {
	if next == "" {
		return nil
	}
	return &next
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		// Every value written here is built from plain fields; a failure is
		// a programming error and must not reach the client half-written.
		http.Error(w, `{"error":{"code":"internal","message":"internal error"}}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// maxBodyBytes bounds every request body: the API's bodies are small
// metadata; a video's bytes never pass through the edge.
const maxBodyBytes = 1 << 20

// readJSON decodes exactly one JSON object from the request body into dst,
// rejecting unknown fields so that a misspelt field is an error, not a
// silently ignored value.
func readJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	body := http.MaxBytesReader(w, r.Body, maxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return jsonError(err)
		}
		return badRequest("malformed JSON: unexpected data after the object")
	}
	return nil
}

func jsonError(err error) error {
	var (
		tooBig    *http.MaxBytesError
		syntax    *json.SyntaxError
		wrongType *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooBig):
		return &edgeError{status: http.StatusRequestEntityTooLarge, code: "payload_too_large",
			msg: fmt.Sprintf("request body is larger than %d bytes", tooBig.Limit)}
	case errors.Is(err, io.EOF):
		return badRequest("malformed JSON: empty body")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("malformed JSON: unexpected end of body")
	case errors.As(err, &syntax):
		return badRequest(fmt.Sprintf("malformed JSON: %s (at byte %d)", syntax.Error(), syntax.Offset))
	case errors.As(err, &wrongType):
		if wrongType.Field == "" {
			return badRequest(fmt.Sprintf("malformed JSON: expected an object, got %s", wrongType.Value))
		}
		return badRequest(fmt.Sprintf("malformed JSON: field %q cannot be %s", wrongType.Field, wrongType.Value))
	}
	// What is left is the decoder's own wording, e.g. an unknown field.
	msg := err.Error()
	if len(msg) > 6 && msg[:6] == "json: " {
		msg = msg[6:]
	}
	return badRequest("malformed JSON: " + msg)
}

// limitParam reads the optional "limit" query parameter: nil when absent
// (the service's default). Only its syntax is checked here; the service
// that serves the list owns its bounds. A number too large for the wire is
// sent as the largest one, so the client hears the service's bounds.
func limitParam(r *http.Request) (*int32, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(s, 10, 32)
	var numErr *strconv.NumError
	if errors.As(err, &numErr) && errors.Is(numErr.Err, strconv.ErrRange) {
		err = nil // n is already the bound ParseInt stopped at
	}
	if err != nil {
		return nil, badRequest("limit must be a whole number")
	}
	limit := int32(n)
	return &limit, nil
}
