package apicheck_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	router "github.com/cloudflix/cloudflix/api-router"
	"github.com/cloudflix/cloudflix/api-router/apicheck"
	"github.com/cloudflix/cloudflix/internal/blob"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

func TestNewRejectsInvalidDocuments(t *testing.T) {
	t.Parallel()
	for name, doc := range map[string]string{
		"not JSON":        `{"openapi":`,
		"no info":         `{"openapi":"3.0.3","paths":{}}`,
		"dangling $ref":   `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/a":{"get":{"responses":{"200":{"$ref":"#/components/responses/Nope"}}}}}}`,
		"undeclared path": `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/a/{id}":{"get":{"responses":{"200":{"description":"ok"}}}}}}`,
	} {
		if _, err := apicheck.New([]byte(doc)); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
}

// The services below answer fixed values ONLY so that the edge has
// something to translate; what is checked is the edge's HTTP side against
// the document.

var stamp = timestamppb.New(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))

func video(id string, st pb.VideoState) *pb.Video {
	v := &pb.Video{Id: id, Title: "Sea", Tags: []string{"sea"}, State: st, Privacy: pb.VideoPrivacy_VIDEO_PRIVACY_PUBLIC,
		OwnerId: "u1", OwnerUsername: "ada",
		SizeBytes: 100, ContentType: "video/mp4", CreatedAt: stamp, UpdatedAt: stamp}
	if st == pb.VideoState_VIDEO_STATE_READY {
		v.Progress, v.DurationSeconds, v.Width, v.Height = 1, 4, 640, 360
		v.Renditions = []*pb.Rendition{{Name: "360p", Width: 640, Height: 360,
			Bandwidth: 900_000, AverageBandwidth: 700_000, Codecs: "avc1.4d401e,mp4a.40.2", FrameRate: 30}}
	}
	return v
}

func session(id string) *pb.UploadSession {
	return &pb.UploadSession{VideoId: id, SizeBytes: 100, PartSize: 64, PartCount: 2, ExpiresAt: stamp}
}

var errNoVideo = status.Error(codes.NotFound, "video missing not found")

type uploads struct {
	pb.UploadServiceClient
}

func (uploads) CreateUpload(context.Context, *pb.CreateUploadRequest, ...grpc.CallOption) (*pb.UploadSession, error) {
	return session("v1"), nil
}
func (uploads) GetUpload(_ context.Context, in *pb.GetUploadRequest, _ ...grpc.CallOption) (*pb.UploadSession, error) {
	return session(in.GetVideoId()), nil
}
func (uploads) SignParts(_ context.Context, in *pb.SignPartsRequest, _ ...grpc.CallOption) (*pb.SignPartsResponse, error) {
	out := &pb.SignPartsResponse{}
	for _, n := range in.GetPartNumbers() {
		out.Parts = append(out.Parts, &pb.SignedPart{PartNumber: n, Url: "http://s3.example/b/sources/v1?partNumber=1", ExpiresAt: stamp})
	}
	return out, nil
}
func (uploads) ListParts(context.Context, *pb.ListPartsRequest, ...grpc.CallOption) (*pb.ListPartsResponse, error) {
	return &pb.ListPartsResponse{Parts: []*pb.StoredPart{{PartNumber: 1, SizeBytes: 64, Etag: `"abc"`}}}, nil
}
func (uploads) CompleteUpload(_ context.Context, in *pb.CompleteUploadRequest, _ ...grpc.CallOption) (*pb.Video, error) {
	return video(in.GetVideoId(), pb.VideoState_VIDEO_STATE_UPLOADED), nil
}
func (uploads) AbortUpload(context.Context, *pb.AbortUploadRequest, ...grpc.CallOption) (*pb.AbortUploadResponse, error) {
	return &pb.AbortUploadResponse{}, nil
}

type host struct{ pb.HostServiceClient }

func (host) GetVideo(_ context.Context, in *pb.GetVideoRequest, _ ...grpc.CallOption) (*pb.Video, error) {
	if in.GetId() == "missing" {
		return nil, errNoVideo
	}
	return video(in.GetId(), pb.VideoState_VIDEO_STATE_READY), nil
}
func (host) ListVideos(_ context.Context, in *pb.ListVideosRequest, _ ...grpc.CallOption) (*pb.ListVideosResponse, error) {
	if in.GetCursor() != "" {
		return &pb.ListVideosResponse{}, nil
	}
	return &pb.ListVideosResponse{Videos: []*pb.Video{video("v1", pb.VideoState_VIDEO_STATE_READY)}, NextCursor: "next"}, nil
}
func (host) RecordView(context.Context, *pb.RecordViewRequest, ...grpc.CallOption) (*pb.RecordViewResponse, error) {
	return &pb.RecordViewResponse{}, nil
}

type search struct {
	pb.SearchServiceClient
}

func (search) Search(context.Context, *pb.SearchRequest, ...grpc.CallOption) (*pb.SearchResponse, error) {
	return &pb.SearchResponse{Results: []*pb.SearchResult{{Video: video("v1", pb.VideoState_VIDEO_STATE_READY), Score: 0.5}}}, nil
}
func (search) Suggest(context.Context, *pb.SuggestRequest, ...grpc.CallOption) (*pb.SuggestResponse, error) {
	return &pb.SuggestResponse{Suggestions: []string{"sea", "seal"}}, nil
}

type encode struct {
	pb.EncodeServiceClient
}

func (encode) Reencode(_ context.Context, in *pb.ReencodeRequest, _ ...grpc.CallOption) (*pb.Video, error) {
	return video(in.GetId(), pb.VideoState_VIDEO_STATE_UPLOADED), nil
}

// media is a MediaStore over bytes in memory.
type media map[string][]byte

type object struct {
	*bytes.Reader
	info blob.ObjectInfo
}

func (object) Close() error            { return nil }
func (o object) Info() blob.ObjectInfo { return o.info }

func (m media) Open(_ context.Context, key string) (blob.Object, error) {
	data, ok := m[key]
	if !ok {
		return nil, blob.ErrNotFound
	}
	return object{bytes.NewReader(data), blob.ObjectInfo{Key: key, Size: int64(len(data)), ETag: "e1", LastModified: stamp.AsTime()}}, nil
}

type exchange struct {
	req  *http.Request
	resp *http.Response
	body []byte
}

func do(t *testing.T, base, method, path, body string, header ...string) exchange {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return exchange{req, resp, b}
}

func TestLiveTrafficMatchesTheDocument(t *testing.T) {
	t.Parallel()
	edge, err := router.New(router.Options{
		Clients: router.Clients{Upload: uploads{}, Host: host{}, Search: search{}, Encode: encode{}},
		Media: media{
			"videos/v1/hls/master.m3u8":         []byte("#EXTM3U\n"),
			"videos/v1/hls/360p/seg_000001.m4s": bytes.Repeat([]byte{7}, 300),
		},
		MediaKey: []byte("the edge's media link key in tests"),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(edge)
	defer srv.Close()
	check, err := apicheck.New(router.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method, path, body string
		header             []string
		status             int
	}{
		{"POST", "/api/v1/uploads", `{"title":"Sea","tags":["sea"],"filename":"sea.mp4","content_type":"video/mp4","size_bytes":100}`, nil, 201},
		{"POST", "/api/v1/uploads", `{"title":"Sea","size":100}`, nil, 400},
		{"GET", "/api/v1/uploads/v1", "", nil, 200},
		{"POST", "/api/v1/uploads/v1/parts/sign", `{"part_numbers":[1,2]}`, nil, 200},
		{"GET", "/api/v1/uploads/v1/parts", "", nil, 200},
		{"POST", "/api/v1/uploads/v1/complete", "", nil, 200},
		{"DELETE", "/api/v1/uploads/v1", "", nil, 204},
		{"GET", "/api/v1/videos?limit=5", "", nil, 200},
		{"GET", "/api/v1/videos?cursor=next", "", nil, 200},
		{"GET", "/api/v1/videos?limit=ten", "", nil, 400},
		{"GET", "/api/v1/videos/v1", "", nil, 200},
		{"GET", "/api/v1/videos/missing", "", nil, 404},
		{"POST", "/api/v1/videos/v1/views", "", nil, 204},
		{"POST", "/api/v1/videos/v1/reencode", "", nil, 202},
		{"GET", "/api/v1/search?q=sea", "", nil, 200},
		{"GET", "/api/v1/search/suggest?q=se&limit=3", "", nil, 200},
		{"GET", "/api/openapi.json", "", nil, 200},
		{"GET", "/media/videos/v1/hls/master.m3u8", "", nil, 200},
		{"HEAD", "/media/videos/v1/hls/master.m3u8", "", nil, 200},
		{"GET", "/media/videos/v1/hls/360p/seg_000001.m4s", "", []string{"Range", "bytes=0-99"}, 206},
		{"GET", "/media/videos/v1/hls/360p/seg_000001.m4s", "", []string{"If-None-Match", `"e1"`}, 304},
		{"GET", "/media/videos/v1/hls/360p/seg_000001.m4s", "", []string{"Range", "bytes=900-999"}, 416},
		{"GET", "/media/sources/v1", "", nil, 404},
	}
	for _, tt := range tests {
		x := do(t, srv.URL, tt.method, tt.path, tt.body, tt.header...)
		if x.resp.StatusCode != tt.status {
			t.Errorf("%s %s: status %d, want %d: %s", tt.method, tt.path, x.resp.StatusCode, tt.status, x.body)
			continue
		}
		if err := check.Check(x.req, x.resp, x.body); err != nil {
			t.Errorf("%s %s: %v", tt.method, tt.path, err)
		}
	}
}

func TestCheckerCatchesDrift(t *testing.T) {
	t.Parallel()
	check, err := apicheck.New(router.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	const goodVideo = `{"id":"v1","owner":null,"privacy":"public","title":"t","description":"","tags":[],"state":"uploaded","failure_reason":"",
		"progress":0,"playable":false,"playable_seconds":0,"duration_seconds":0,"width":0,"height":0,"hls_url":null,"thumbnail_url":null,
		"storyboard_url":null,"renditions":[],"views":0,"likes":0,"comments":0,"comments_off":false,"size_bytes":1,"content_type":"video/mp4",
		"created_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:05Z","hidden":false,"hidden_reason":""}`
	pair := func(method, target string, status int, body string) (*http.Request, *http.Response, []byte) {
		req := httptest.NewRequest(method, target, nil)
		resp := &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}}}
		return req, resp, []byte(body)
	}
	if err := check.Check(pair("GET", "/api/v1/videos/v1", 200, goodVideo)); err != nil {
		t.Fatalf("a conforming response fails: %v", err)
	}
	drifts := map[string]func() (*http.Request, *http.Response, []byte){
		"unknown field": func() (*http.Request, *http.Response, []byte) {
			return pair("GET", "/api/v1/videos/v1", 200, strings.Replace(goodVideo, `"id":"v1"`, `"id":"v1","secret":1`, 1))
		},
		"missing field": func() (*http.Request, *http.Response, []byte) {
			return pair("GET", "/api/v1/videos/v1", 200, strings.Replace(goodVideo, `"tags":[],`, ``, 1))
		},
		"null array": func() (*http.Request, *http.Response, []byte) {
			return pair("GET", "/api/v1/videos/v1", 200, strings.Replace(goodVideo, `"tags":[]`, `"tags":null`, 1))
		},
		"unknown state": func() (*http.Request, *http.Response, []byte) {
			return pair("GET", "/api/v1/videos/v1", 200, strings.Replace(goodVideo, `"uploaded"`, `"VIDEO_STATE_UPLOADED"`, 1))
		},
		"undocumented status": func() (*http.Request, *http.Response, []byte) {
			return pair("GET", "/api/v1/videos/v1", 201, goodVideo)
		},
		"error off its schema": func() (*http.Request, *http.Response, []byte) {
			return pair("GET", "/api/v1/videos/v1", 404, `{"message":"not found"}`)
		},
		"undocumented route": func() (*http.Request, *http.Response, []byte) {
			return pair("GET", "/api/v1/channels", 200, `{}`)
		},
		"request off its schema": func() (*http.Request, *http.Response, []byte) {
			return pair("GET", "/api/v1/videos?limit=1000", 200, `{"videos":[],"next_cursor":null}`)
		},
	}
	for name, p := range drifts {
		err := check.Check(p())
		if err == nil {
			t.Errorf("%s: Check found nothing wrong", name)
			continue
		}
		t.Logf("%s: %.200s", name, err)
	}
}
