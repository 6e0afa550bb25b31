package router

import (
	"context"

	"google.golang.org/grpc"

	cloudflixv1 "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// The clients below stand in for the services ONLY to check how the edge
// translates between JSON and protobuf: each answers from a function the
// test sets, and a call the test did not plan for fails loudly through the
// nil embedded interface. The services themselves are tested against real
// backends in their own packages.

type uploadClient struct {
	cloudflixv1.UploadServiceClient
	create   func(*cloudflixv1.CreateUploadRequest) (*cloudflixv1.UploadSession, error)
	sign     func(*cloudflixv1.SignPartsRequest) (*cloudflixv1.SignPartsResponse, error)
	list     func(*cloudflixv1.ListPartsRequest) (*cloudflixv1.ListPartsResponse, error)
	complete func(*cloudflixv1.CompleteUploadRequest) (*cloudflixv1.Video, error)
}

func (c *uploadClient) CreateUpload(_ context.Context, in *cloudflixv1.CreateUploadRequest, _ ...grpc.CallOption) (*cloudflixv1.UploadSession, error) {
	return c.create(in)
}

func (c *uploadClient) SignParts(_ context.Context, in *cloudflixv1.SignPartsRequest, _ ...grpc.CallOption) (*cloudflixv1.SignPartsResponse, error) {
	return c.sign(in)
}

func (c *uploadClient) ListParts(_ context.Context, in *cloudflixv1.ListPartsRequest, _ ...grpc.CallOption) (*cloudflixv1.ListPartsResponse, error) {
	return c.list(in)
}

func (c *uploadClient) CompleteUpload(_ context.Context, in *cloudflixv1.CompleteUploadRequest, _ ...grpc.CallOption) (*cloudflixv1.Video, error) {
	return c.complete(in)
}

type hostClient struct {
	cloudflixv1.HostServiceClient
	get  func(*cloudflixv1.GetVideoRequest) (*cloudflixv1.Video, error)
	list func(*cloudflixv1.ListVideosRequest) (*cloudflixv1.ListVideosResponse, error)
}

func (c *hostClient) GetVideo(_ context.Context, in *cloudflixv1.GetVideoRequest, _ ...grpc.CallOption) (*cloudflixv1.Video, error) {
	return c.get(in)
}

func (c *hostClient) ListVideos(_ context.Context, in *cloudflixv1.ListVideosRequest, _ ...grpc.CallOption) (*cloudflixv1.ListVideosResponse, error) {
	return c.list(in)
}

type searchClient struct {
	cloudflixv1.SearchServiceClient
	search  func(*cloudflixv1.SearchRequest) (*cloudflixv1.SearchResponse, error)
	suggest func(*cloudflixv1.SuggestRequest) (*cloudflixv1.SuggestResponse, error)
}

func (c *searchClient) Search(_ context.Context, in *cloudflixv1.SearchRequest, _ ...grpc.CallOption) (*cloudflixv1.SearchResponse, error) {
	return c.search(in)
}

func (c *searchClient) Suggest(_ context.Context, in *cloudflixv1.SuggestRequest, _ ...grpc.CallOption) (*cloudflixv1.SuggestResponse, error) {
	return c.suggest(in)
}
