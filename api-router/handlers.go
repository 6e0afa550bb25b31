package router

import (
	"fmt"
	"net/http"
	"strings"

	cloudflixv1 "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// notConfigured answers for a service this edge was built without.
func notConfigured(service string) error {
	return &edgeError{status: http.StatusServiceUnavailable, code: "unavailable",
		msg: "the " + service + " service is not configured"}
}

func (a *api) uploadService() (cloudflixv1.UploadServiceClient, error) {
	if a.clients.Upload == nil {
		return nil, notConfigured("upload")
	}
	return a.clients.Upload, nil
}

func (a *api) hostService() (cloudflixv1.HostServiceClient, error) {
	if a.clients.Host == nil {
		return nil, notConfigured("host")
	}
	return a.clients.Host, nil
}

func (a *api) searchService() (cloudflixv1.SearchServiceClient, error) {
	if a.clients.Search == nil {
		return nil, notConfigured("search")
	}
	return a.clients.Search, nil
}

func (a *api) encodeService() (cloudflixv1.EncodeServiceClient, error) {
	if a.clients.Encode == nil {
		return nil, notConfigured("encode")
	}
	return a.clients.Encode, nil
}

type createUploadBody struct {
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Tags        []string `json:"tags"`
	Filename    string   `json:"filename"`
	ContentType string   `json:"content_type"`
	SizeBytes   int64    `json:"size_bytes"`
}

func (a *api) createUpload(w http.ResponseWriter, r *http.Request) error {
	var body createUploadBody
	if err := readJSON(w, r, &body); err != nil {
		return err
	}
	svc, err := a.uploadService()
	if err != nil {
		return err
	}
	s, err := svc.CreateUpload(r.Context(), &cloudflixv1.CreateUploadRequest{
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
	svc, err := a.uploadService()
	if err != nil {
		return err
	}
	s, err := svc.GetUpload(r.Context(), &cloudflixv1.GetUploadRequest{VideoId: r.PathValue("id")})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sessionToJSON(s))
	return nil
}

// maxSignBatch bounds one signing request; S3 allows 10000 parts, and a
// client signs a few at a time as it goes.
const (
	maxSignBatch = 1000
	maxPartCount = 10000
)

type signPartsBody struct {
	PartNumbers []int32 `json:"part_numbers"`
}

func (a *api) signParts(w http.ResponseWriter, r *http.Request) error {
	var body signPartsBody
	if err := readJSON(w, r, &body); err != nil {
		return err
	}
	if n := len(body.PartNumbers); n == 0 || n > maxSignBatch {
		return badRequest(fmt.Sprintf("part_numbers must list 1 to %d parts", maxSignBatch))
	}
	for _, n := range body.PartNumbers {
		if n < 1 || n > maxPartCount {
			return badRequest(fmt.Sprintf("part number %d is not in 1..%d", n, maxPartCount))
		}
	}
	svc, err := a.uploadService()
	if err != nil {
		return err
	}
	resp, err := svc.SignParts(r.Context(), &cloudflixv1.SignPartsRequest{
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
	svc, err := a.uploadService()
	if err != nil {
		return err
	}
	resp, err := svc.ListParts(r.Context(), &cloudflixv1.ListPartsRequest{VideoId: r.PathValue("id")})
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
	svc, err := a.uploadService()
	if err != nil {
		return err
	}
	v, err := svc.CompleteUpload(r.Context(), &cloudflixv1.CompleteUploadRequest{VideoId: r.PathValue("id")})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.videoToJSON(v))
	return nil
}

func (a *api) abortUpload(w http.ResponseWriter, r *http.Request) error {
	svc, err := a.uploadService()
	if err != nil {
		return err
	}
	if _, err := svc.AbortUpload(r.Context(), &cloudflixv1.AbortUploadRequest{VideoId: r.PathValue("id")}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) listVideos(w http.ResponseWriter, r *http.Request) error {
	limit, err := limitParam(r)
	if err != nil {
		return err
	}
	svc, err := a.hostService()
	if err != nil {
		return err
	}
	resp, err := svc.ListVideos(r.Context(), &cloudflixv1.ListVideosRequest{
		PageSize: limit,
		Cursor:   r.URL.Query().Get("cursor"),
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
	svc, err := a.hostService()
	if err != nil {
		return err
	}
	v, err := svc.GetVideo(r.Context(), &cloudflixv1.GetVideoRequest{Id: r.PathValue("id")})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.videoToJSON(v))
	return nil
}

func (a *api) recordView(w http.ResponseWriter, r *http.Request) error {
	svc, err := a.hostService()
	if err != nil {
		return err
	}
	if _, err := svc.RecordView(r.Context(), &cloudflixv1.RecordViewRequest{Id: r.PathValue("id")}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) reencode(w http.ResponseWriter, r *http.Request) error {
	svc, err := a.encodeService()
	if err != nil {
		return err
	}
	v, err := svc.Reencode(r.Context(), &cloudflixv1.ReencodeRequest{Id: r.PathValue("id")})
	if err != nil {
		return err
	}
	// Accepted: the encode runs later; the video says how far it got.
	writeJSON(w, http.StatusAccepted, a.videoToJSON(v))
	return nil
}

// queryParam reads the required "q" query parameter. It goes to the
// service as typed: a trailing space can matter to search-as-you-type.
func queryParam(r *http.Request) (string, error) {
	q := r.URL.Query().Get("q")
	if strings.TrimSpace(q) == "" {
		return "", badRequest("q must not be empty")
	}
	return q, nil
}

func (a *api) search(w http.ResponseWriter, r *http.Request) error {
	q, err := queryParam(r)
	if err != nil {
		return err
	}
	limit, err := limitParam(r)
	if err != nil {
		return err
	}
	svc, err := a.searchService()
	if err != nil {
		return err
	}
	resp, err := svc.Search(r.Context(), &cloudflixv1.SearchRequest{
		Query:    q,
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
	q, err := queryParam(r)
	if err != nil {
		return err
	}
	limit, err := limitParam(r)
	if err != nil {
		return err
	}
	svc, err := a.searchService()
	if err != nil {
		return err
	}
	resp, err := svc.Suggest(r.Context(), &cloudflixv1.SuggestRequest{Prefix: q, Limit: limit})
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
