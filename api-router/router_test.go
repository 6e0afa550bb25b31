package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

var (
	created = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	updated = time.Date(2025, 1, 2, 3, 9, 0, 500_000_000, time.UTC)
)

func readyVideo() *pb.Video {
	return &pb.Video{
		Id: "v1", Title: "Sea", Description: "Waves", Tags: []string{"sea", "waves"},
		OwnerId: "u1", OwnerUsername: "ada", Privacy: pb.VideoPrivacy_VIDEO_PRIVACY_PUBLIC,
		State: pb.VideoState_VIDEO_STATE_READY, Progress: 1,
		DurationSeconds: 12.5, Width: 1280, Height: 720,
		Renditions: []*pb.Rendition{{
			Name: "720p", Width: 1280, Height: 720, Bandwidth: 3_000_000,
			AverageBandwidth: 2_400_000, Codecs: "avc1.64001f,mp4a.40.2", FrameRate: 29.97,
		}},
		Views: 42, Likes: 5, Comments: 3, SizeBytes: 1234, ContentType: "video/mp4",
		CreatedAt: timestamppb.New(created), UpdatedAt: timestamppb.New(updated),
	}
}

// serve runs one request through the whole handler, mux included.
func serve(t *testing.T, h http.Handler, method, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, target, nil)
	} else {
		r = httptest.NewRequest(method, target, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// sameJSON compares two JSON texts by value.
func sameJSON(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expectation: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("JSON differs\n got: %s\nwant: %s", strings.TrimSpace(got), want)
	}
}

func errorOf(t *testing.T, w *httptest.ResponseRecorder) errorDetail {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type = %q, want application/json", ct)
	}
	var body errorBody
	dec := json.NewDecoder(w.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("error body is not {\"error\":{code,message}}: %v", err)
	}
	return body.Error
}

func TestVideoJSON(t *testing.T) {
	t.Parallel()
	const readyJSON = `{
		"id":"v1","owner":{"id":"u1","username":"ada"},"privacy":"public","title":"Sea","description":"Waves","tags":["sea","waves"],
		"state":"ready","failure_reason":"","progress":1,"playable":true,"playable_seconds":12.5,"duration_seconds":12.5,
		"width":1280,"height":720,
		"hls_url":"https://videos.example/media/videos/v1/hls/master.m3u8",
		"thumbnail_url":"https://videos.example/media/videos/v1/thumb.jpg",
		"storyboard_url":"https://videos.example/media/videos/v1/storyboard.vtt",
		"renditions":[{"name":"720p","width":1280,"height":720,"bandwidth":3000000,
			"average_bandwidth":2400000,"codecs":"avc1.64001f,mp4a.40.2","frame_rate":29.97}],
		"views":42,"likes":5,"comments":3,"comments_off":false,"size_bytes":1234,"content_type":"video/mp4",
		"created_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:09:00.5Z",
		"hidden":false,"hidden_reason":""}`

	failed := &pb.Video{
		Id: "v2", Title: "Broken", State: pb.VideoState_VIDEO_STATE_FAILED, Privacy: pb.VideoPrivacy_VIDEO_PRIVACY_UNLISTED,
		FailureReason: "not a video: no video stream", SizeBytes: 10, ContentType: "video/mp4",
		CreatedAt: timestamppb.New(created), UpdatedAt: timestamppb.New(created),
	}
	const failedJSON = `{
		"id":"v2","owner":null,"privacy":"unlisted","title":"Broken","description":"","tags":[],
		"state":"failed","failure_reason":"not a video: no video stream","progress":0,
		"playable":false,"playable_seconds":0,"duration_seconds":0,"width":0,"height":0,
		"hls_url":null,"thumbnail_url":null,"storyboard_url":null,"renditions":[],
		"views":0,"likes":0,"comments":0,"comments_off":false,"size_bytes":10,"content_type":"video/mp4",
		"created_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:05Z",
		"hidden":false,"hidden_reason":""}`

	videos := map[string]*pb.Video{"v1": readyVideo(), "v2": failed}
	h := edge(t, Options{
		PublicBaseURL: "https://videos.example/",
		Clients: Clients{Host: &hostClient{get: func(in *pb.GetVideoRequest) (*pb.Video, error) {
			return videos[in.GetId()], nil
		}}},
	})
	for id, want := range map[string]string{"v1": readyJSON, "v2": failedJSON} {
		r := httptest.NewRequest("GET", "/api/v1/videos/"+id, nil)
		r.Host = "videos.example"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Fatalf("GET %s: status %d: %s", id, w.Code, w.Body)
		}
		sameJSON(t, w.Body.String(), want)
	}

	// The media of a video that is not public is reached by signed links.
	private := readyVideo()
	private.Privacy = pb.VideoPrivacy_VIDEO_PRIVACY_PRIVATE
	signed := (&api{base: "https://videos.example", mediaKey: testMediaKey}).videoToJSON(private)
	for _, u := range []*string{signed.HLSURL, signed.ThumbnailURL, signed.StoryboardURL} {
		if !strings.HasPrefix(*u, "https://videos.example/media/s/") || !strings.Contains(*u, "/videos/v1/") {
			t.Errorf("private media URL %q is not a signed link", *u)
		}
	}

	// Without a public base URL the media URLs are relative to this server.
	rel := (&api{}).videoToJSON(readyVideo())
	if *rel.HLSURL != "/media/videos/v1/hls/master.m3u8" {
		t.Errorf("relative hls_url = %q", *rel.HLSURL)
	}
}

func TestStatesAreLowercaseNames(t *testing.T) {
	t.Parallel()
	a := &api{}
	for st, name := range pb.VideoState_name {
		if st == 0 {
			continue
		}
		got := a.videoToJSON(&pb.Video{State: pb.VideoState(st)}).State
		if want := strings.ToLower(strings.TrimPrefix(name, "VIDEO_STATE_")); got != want {
			t.Errorf("%s -> %q, want %q", name, got, want)
		}
	}
}

func TestGRPCErrorsToHTTP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err    error
		status int
		code   string
		msg    string
	}{
		{status.Error(codes.InvalidArgument, "title too long"), 400, "invalid_argument", "title too long"},
		{status.Error(codes.OutOfRange, "page past the end"), 400, "out_of_range", "page past the end"},
		{status.Error(codes.NotFound, "video v9 not found"), 404, "not_found", "video v9 not found"},
		{status.Error(codes.AlreadyExists, "already there"), 409, "already_exists", "already there"},
		{status.Error(codes.FailedPrecondition, "video is not ready"), 409, "failed_precondition", "video is not ready"},
		{status.Error(codes.ResourceExhausted, "slow down"), 429, "resource_exhausted", "slow down"},
		{status.Error(codes.Unauthenticated, "who are you"), 401, "unauthenticated", "who are you"},
		{status.Error(codes.PermissionDenied, "not yours"), 403, "permission_denied", "not yours"},
		{status.Error(codes.Canceled, "client went away"), 499, "canceled", "client went away"},
		// Server-side failures never show the service's words.
		{status.Error(codes.Unavailable, "dial tcp 10.1.2.3:9000: refused"), 503, "unavailable", "the service is unavailable, try again later"},
		{status.Error(codes.DeadlineExceeded, "pg: query took 30s"), 504, "deadline_exceeded", "the service did not answer in time"},
		{status.Error(codes.Unimplemented, "method GetVideo not implemented"), 501, "unimplemented", "not implemented"},
		{status.Error(codes.Internal, "pq: relation videos does not exist"), 500, "internal", "internal error"},
		{status.Error(codes.DataLoss, "disk /var/lib/x corrupt"), 500, "internal", "internal error"},
		{status.Error(codes.Unknown, "panic: nil map"), 500, "internal", "internal error"},
		{fmt.Errorf("dial: %w", errors.New("secret host")), 500, "internal", "internal error"},
		{fmt.Errorf("call: %w", context.Canceled), 499, "canceled", "request canceled"},
	}
	for _, tt := range tests {
		h := edge(t, Options{
			Clients: Clients{Host: &hostClient{get: func(*pb.GetVideoRequest) (*pb.Video, error) {
				return nil, tt.err
			}}},
			Logger: discardLogger(),
		})
		w := serve(t, h, "GET", "/api/v1/videos/v1", "")
		if w.Code != tt.status {
			t.Errorf("%v: status %d, want %d", tt.err, w.Code, tt.status)
		}
		if got := errorOf(t, w); got.Code != tt.code || got.Message != tt.msg {
			t.Errorf("%v: error %+v, want {%s %s}", tt.err, got, tt.code, tt.msg)
		}
	}
}

func TestRequestsRejectedAtTheEdge(t *testing.T) {
	t.Parallel()
	refuse := func(name string) error {
		t.Errorf("%s was called for a request the edge should have rejected", name)
		return status.Error(codes.Internal, "unexpected call")
	}
	h := edge(t, Options{
		Clients: Clients{
			Upload: &uploadClient{
				create: func(*pb.CreateUploadRequest) (*pb.UploadSession, error) {
					return nil, refuse("CreateUpload")
				},
				sign: func(*pb.SignPartsRequest) (*pb.SignPartsResponse, error) {
					return nil, refuse("SignParts")
				},
			},
			Host: &hostClient{list: func(*pb.ListVideosRequest) (*pb.ListVideosResponse, error) {
				return nil, refuse("ListVideos")
			}},
			Search: &searchClient{
				search: func(*pb.SearchRequest) (*pb.SearchResponse, error) {
					return nil, refuse("Search")
				},
				suggest: func(*pb.SuggestRequest) (*pb.SuggestResponse, error) {
					return nil, refuse("Suggest")
				},
			},
		},
		Logger: discardLogger(),
	})
	tests := []struct {
		method, target, body string
		status               int
		code                 string
		msgPrefix            string
	}{
		{"POST", "/api/v1/uploads", `{"title":`, 400, "invalid_argument", "malformed JSON: unexpected end"},
		{"POST", "/api/v1/uploads", `{"title":"a" "x"}`, 400, "invalid_argument", "malformed JSON: invalid character"},
		{"POST", "/api/v1/uploads", `{"titel":"a"}`, 400, "invalid_argument", `malformed JSON: unknown field "titel"`},
		{"POST", "/api/v1/uploads", `{"size_bytes":"big"}`, 400, "invalid_argument", `malformed JSON: field "size_bytes" cannot be string`},
		{"POST", "/api/v1/uploads", `[1,2]`, 400, "invalid_argument", "malformed JSON: expected an object"},
		{"POST", "/api/v1/uploads", `{"title":"a"}{"title":"b"}`, 400, "invalid_argument", "malformed JSON: unexpected data after the object"},
		{"POST", "/api/v1/uploads", ` `, 400, "invalid_argument", "malformed JSON: empty body"},
		{"POST", "/api/v1/uploads", `{"description":"` + strings.Repeat("x", maxBodyBytes) + `"}`, 413, "payload_too_large", "request body is larger than 1048576 bytes"},
		// Syntax only: the bounds of a limit, a query or a part number are
		// the services' rules (e2e checkSameRules holds both sides to them).
		{"GET", "/api/v1/videos?limit=ten", "", 400, "invalid_argument", "limit must be a whole number"},
		{"GET", "/api/v1/search?q=sea&limit=1.5", "", 400, "invalid_argument", "limit must be a whole number"},
		{"POST", "/api/v1/uploads/v1/parts/sign", `{"part_numbers":["one"]}`, 400, "invalid_argument", `malformed JSON: field "part_numbers`},
		{"PUT", "/api/v1/videos/v1", "", 405, "method_not_allowed", "method PUT is not allowed here; allowed: GET, HEAD"},
		{"GET", "/api/v1/uploads/v1/complete", "", 405, "method_not_allowed", "method GET is not allowed here; allowed: POST"},
		{"DELETE", "/media/videos/v1/thumb.jpg", "", 405, "method_not_allowed", "method DELETE"},
		{"GET", "/api/v1/nothing/here", "", 404, "not_found", "no route for /api/v1/nothing/here"},
		{"GET", "/api/v2/videos", "", 404, "not_found", "no route for"},
	}
	for _, tt := range tests {
		w := serve(t, h, tt.method, tt.target, tt.body)
		name := tt.method + " " + tt.target
		if len(name) > 60 {
			name = name[:60] + "…"
		}
		if w.Code != tt.status {
			t.Errorf("%s: status %d, want %d (%s)", name, w.Code, tt.status, w.Body)
			continue
		}
		got := errorOf(t, w)
		if got.Code != tt.code || !strings.HasPrefix(got.Message, tt.msgPrefix) {
			t.Errorf("%s: error %+v, want code %s, message starting %q", name, got, tt.code, tt.msgPrefix)
		}
		if tt.status == 405 && w.Header().Get("Allow") == "" {
			t.Errorf("%s: 405 without Allow", name)
		}
	}
}

func TestUploadTranslation(t *testing.T) {
	t.Parallel()
	expires := timestamppb.New(created.Add(time.Hour))
	var gotCreate *pb.CreateUploadRequest
	var gotSign *pb.SignPartsRequest
	h := edge(t, Options{Clients: Clients{Upload: &uploadClient{
		create: func(in *pb.CreateUploadRequest) (*pb.UploadSession, error) {
			gotCreate = in
			return &pb.UploadSession{VideoId: "v1", SizeBytes: in.GetSizeBytes(), PartSize: 5 << 20, PartCount: 3, ExpiresAt: expires}, nil
		},
		sign: func(in *pb.SignPartsRequest) (*pb.SignPartsResponse, error) {
			gotSign = in
			var out pb.SignPartsResponse
			for _, n := range in.GetPartNumbers() {
				out.Parts = append(out.Parts, &pb.SignedPart{PartNumber: n, Url: fmt.Sprintf("https://s3.example/p%d", n), ExpiresAt: expires})
			}
			return &out, nil
		},
		list: func(*pb.ListPartsRequest) (*pb.ListPartsResponse, error) {
			return &pb.ListPartsResponse{}, nil
		},
	}}})

	w := serve(t, h, "POST", "/api/v1/uploads",
		`{"title":"Sea","description":"Waves","tags":["sea"],"filename":"sea.mp4","content_type":"video/mp4","size_bytes":12582912}`)
	if w.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	sameJSON(t, w.Body.String(), `{"video_id":"v1","size_bytes":12582912,"part_size":5242880,"part_count":3,"expires_at":"2025-01-02T04:04:05Z"}`)
	want := &pb.CreateUploadRequest{Title: "Sea", Description: "Waves", Tags: []string{"sea"}, Filename: "sea.mp4", ContentType: "video/mp4", SizeBytes: 12582912}
	if gotCreate.String() != want.String() {
		t.Errorf("CreateUpload got %v, want %v", gotCreate, want)
	}

	w = serve(t, h, "POST", "/api/v1/uploads/v1/parts/sign", `{"part_numbers":[2,3]}`)
	if w.Code != http.StatusOK {
		t.Fatalf("sign: %d %s", w.Code, w.Body)
	}
	sameJSON(t, w.Body.String(), `{"parts":[
		{"part_number":2,"url":"https://s3.example/p2","expires_at":"2025-01-02T04:04:05Z"},
		{"part_number":3,"url":"https://s3.example/p3","expires_at":"2025-01-02T04:04:05Z"}]}`)
	if gotSign.GetVideoId() != "v1" || !slices.Equal(gotSign.GetPartNumbers(), []int32{2, 3}) {
		t.Errorf("SignParts got %v", gotSign)
	}

	w = serve(t, h, "GET", "/api/v1/uploads/v1/parts", "")
	sameJSON(t, w.Body.String(), `{"parts":[]}`)
}

func TestListAndSearchTranslation(t *testing.T) {
	t.Parallel()
	var gotList *pb.ListVideosRequest
	var gotSearch *pb.SearchRequest
	h := edge(t, Options{Clients: Clients{
		Host: &hostClient{list: func(in *pb.ListVideosRequest) (*pb.ListVideosResponse, error) {
			gotList = in
			if in.GetCursor() == "" {
				return &pb.ListVideosResponse{Videos: []*pb.Video{readyVideo()}, NextCursor: "c2"}, nil
			}
			return &pb.ListVideosResponse{}, nil
		}},
		Search: &searchClient{
			search: func(in *pb.SearchRequest) (*pb.SearchResponse, error) {
				gotSearch = in
				return &pb.SearchResponse{Results: []*pb.SearchResult{{Video: readyVideo(), Score: 0.75}}}, nil
			},
			suggest: func(*pb.SuggestRequest) (*pb.SuggestResponse, error) {
				return &pb.SuggestResponse{}, nil
			},
		},
	}})

	var page struct {
		Videos     []map[string]any `json:"videos"`
		NextCursor *string          `json:"next_cursor"`
	}
	w := serve(t, h, "GET", "/api/v1/videos?limit=10", "")
	if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil || len(page.Videos) != 1 || page.NextCursor == nil || *page.NextCursor != "c2" {
		t.Errorf("first page: %v %s", err, w.Body)
	}
	if gotList.GetPageSize() != 10 {
		t.Errorf("ListVideos page_size = %d, want 10", gotList.GetPageSize())
	}
	w = serve(t, h, "GET", "/api/v1/videos?cursor=c2", "")
	sameJSON(t, w.Body.String(), `{"videos":[],"next_cursor":null}`)
	if gotList.GetCursor() != "c2" || gotList.PageSize != nil {
		t.Errorf("ListVideos got %v; want the cursor and no page size", gotList)
	}
	// A limit out of the wire's range goes as the largest one, so the
	// service answers with its own bounds.
	serve(t, h, "GET", "/api/v1/videos?limit=99999999999", "")
	if gotList.GetPageSize() != 1<<31-1 {
		t.Errorf("ListVideos page_size = %d, want the largest int32", gotList.GetPageSize())
	}

	w = serve(t, h, "GET", "/api/v1/search?q=sea+waves&limit=5&cursor=x", "")
	var results struct {
		Results    []map[string]any `json:"results"`
		NextCursor *string          `json:"next_cursor"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &results); err != nil || len(results.Results) != 1 || results.NextCursor != nil {
		t.Fatalf("search: %v %s", err, w.Body)
	}
	if r := results.Results[0]; r["score"] != 0.75 || r["id"] != "v1" || r["state"] != "ready" {
		t.Errorf("search result is not the video's fields with its score: %v", r)
	}
	if gotSearch.GetQuery() != "sea waves" || gotSearch.GetPageSize() != 5 || gotSearch.GetCursor() != "x" {
		t.Errorf("Search got %v", gotSearch)
	}

	w = serve(t, h, "GET", "/api/v1/search/suggest?q=se", "")
	sameJSON(t, w.Body.String(), `{"suggestions":[]}`)
}

func TestMetricsUseRoutePatterns(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	o := Options{
		Metrics: reg,
		Clients: Clients{Host: &hostClient{get: func(*pb.GetVideoRequest) (*pb.Video, error) {
			return readyVideo(), nil
		}}},
	}
	h := edge(t, o)
	edge(t, o) // a second handler on the same registry shares the series
	serve(t, h, "GET", "/api/v1/videos/v1", "")
	serve(t, h, "GET", "/api/v1/videos/v2", "")
	serve(t, h, "GET", "/api/v1/nope", "")

	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]float64{}
	var histograms int
	for _, f := range families {
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			switch f.GetName() {
			case "cloudflix_http_requests_total":
				counts[labels["route"]+" "+labels["method"]+" "+labels["code"]] = m.GetCounter().GetValue()
			case "cloudflix_http_request_duration_seconds":
				histograms += int(m.GetHistogram().GetSampleCount())
			}
		}
	}
	want := map[string]float64{"/api/v1/videos/{id} GET 200": 2, "/api/ GET 404": 1}
	if !reflect.DeepEqual(counts, want) {
		t.Errorf("request counts %v, want %v", counts, want)
	}
	if histograms != 3 {
		t.Errorf("duration samples = %d, want 3", histograms)
	}
}

func TestSpanNameUsesPattern(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "/api/v1/videos/v1", nil)
	if got := spanName("", r); got != "GET" {
		t.Errorf("before routing: %q", got)
	}
	r.Pattern = "GET /api/v1/videos/{id}"
	if got := spanName("", r); got != "GET /api/v1/videos/{id}" {
		t.Errorf("after routing: %q", got)
	}
}
