package router

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// The edge passes the order of a list, the viewer of a view and the video
// of a like, and answers likes as {likes, liked}.
func TestEngagementTranslation(t *testing.T) {
	t.Parallel()
	var (
		gotList *pb.ListVideosRequest
		gotView *pb.RecordViewRequest
		calls   []string
	)
	likes := &pb.Likes{Count: 3, Liked: true}
	h := edge(t, Options{Clients: Clients{Host: &hostClient{
		list: func(in *pb.ListVideosRequest) (*pb.ListVideosResponse, error) {
			gotList = in
			return &pb.ListVideosResponse{}, nil
		},
		view: func(in *pb.RecordViewRequest) (*pb.RecordViewResponse, error) {
			gotView = in
			return &pb.RecordViewResponse{Counted: true}, nil
		},
		like: func(in *pb.LikeVideoRequest) (*pb.Likes, error) {
			calls = append(calls, "like "+in.GetId())
			return likes, nil
		},
		unlike: func(in *pb.UnlikeVideoRequest) (*pb.Likes, error) {
			calls = append(calls, "unlike "+in.GetId())
			return &pb.Likes{Count: 2}, nil
		},
		likes: func(in *pb.GetLikesRequest) (*pb.Likes, error) {
			calls = append(calls, "likes "+in.GetId())
			return likes, nil
		},
	}}})

	for sort, want := range map[string]pb.ListOrder{
		"":         pb.ListOrder_LIST_ORDER_UNSPECIFIED,
		"latest":   pb.ListOrder_LIST_ORDER_LATEST,
		"trending": pb.ListOrder_LIST_ORDER_TRENDING,
	} {
		gotList = nil
		if w := serve(t, h, "GET", "/api/v1/videos?sort="+sort, ""); w.Code != http.StatusOK || gotList.GetOrder() != want {
			t.Errorf("sort=%s: %d, order %v; want 200, %v", sort, w.Code, gotList.GetOrder(), want)
		}
	}
	gotList = nil
	w := serve(t, h, "GET", "/api/v1/videos?sort=oldest", "")
	if w.Code != http.StatusBadRequest || gotList != nil {
		t.Errorf("sort=oldest: %d %s, service asked: %v; want 400 before the service", w.Code, w.Body, gotList != nil)
	}

	r := httptest.NewRequest("POST", "/api/v1/videos/v1/views", nil)
	r.RemoteAddr = "198.51.100.7:40000"
	r.Header.Set("User-Agent", "Firefox/140")
	r.Header.Set("Origin", "http://example.com")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusNoContent || gotView.GetId() != "v1" || gotView.GetClientAddress() != "198.51.100.7" || gotView.GetUserAgent() != "Firefox/140" {
		t.Errorf("view: %d, RecordView got %v; want 204 with the client's address and User-Agent", rec.Code, gotView)
	}

	sameJSON(t, serve(t, h, "GET", "/api/v1/videos/v1/like", "").Body.String(), `{"likes":3,"liked":true}`)
	sameJSON(t, serve(t, h, "PUT", "/api/v1/videos/v1/like", "").Body.String(), `{"likes":3,"liked":true}`)
	sameJSON(t, serve(t, h, "DELETE", "/api/v1/videos/v1/like", "").Body.String(), `{"likes":2,"liked":false}`)
	if want := "[likes v1 like v1 unlike v1]"; fmt.Sprint(calls) != want {
		t.Errorf("calls %v, want %s", calls, want)
	}
}
