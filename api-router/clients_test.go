package router

import (
	"context"

	"google.golang.org/grpc"

	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// The clients below stand in for the services ONLY to check how the edge
// translates between JSON and protobuf: each answers from a function the
// test sets, and a call the test did not plan for fails loudly through the
// nil embedded interface. The services themselves are tested against real
// backends in their own packages.

type uploadClient struct {
	pb.UploadServiceClient
	create   func(*pb.CreateUploadRequest) (*pb.UploadSession, error)
	sign     func(*pb.SignPartsRequest) (*pb.SignPartsResponse, error)
	list     func(*pb.ListPartsRequest) (*pb.ListPartsResponse, error)
	complete func(*pb.CompleteUploadRequest) (*pb.Video, error)
}

func (c *uploadClient) CreateUpload(_ context.Context, in *pb.CreateUploadRequest, _ ...grpc.CallOption) (*pb.UploadSession, error) {
	return c.create(in)
}

func (c *uploadClient) SignParts(_ context.Context, in *pb.SignPartsRequest, _ ...grpc.CallOption) (*pb.SignPartsResponse, error) {
	return c.sign(in)
}

func (c *uploadClient) ListParts(_ context.Context, in *pb.ListPartsRequest, _ ...grpc.CallOption) (*pb.ListPartsResponse, error) {
	return c.list(in)
}

func (c *uploadClient) CompleteUpload(_ context.Context, in *pb.CompleteUploadRequest, _ ...grpc.CallOption) (*pb.Video, error) {
	return c.complete(in)
}

type hostClient struct {
	pb.HostServiceClient
	get    func(*pb.GetVideoRequest) (*pb.Video, error)
	list   func(*pb.ListVideosRequest) (*pb.ListVideosResponse, error)
	view   func(*pb.RecordViewRequest) (*pb.RecordViewResponse, error)
	like   func(*pb.LikeVideoRequest) (*pb.Likes, error)
	unlike func(*pb.UnlikeVideoRequest) (*pb.Likes, error)
	likes  func(*pb.GetLikesRequest) (*pb.Likes, error)
}

func (c *hostClient) RecordView(_ context.Context, in *pb.RecordViewRequest, _ ...grpc.CallOption) (*pb.RecordViewResponse, error) {
	return c.view(in)
}

func (c *hostClient) LikeVideo(_ context.Context, in *pb.LikeVideoRequest, _ ...grpc.CallOption) (*pb.Likes, error) {
	return c.like(in)
}

func (c *hostClient) UnlikeVideo(_ context.Context, in *pb.UnlikeVideoRequest, _ ...grpc.CallOption) (*pb.Likes, error) {
	return c.unlike(in)
}

func (c *hostClient) GetLikes(_ context.Context, in *pb.GetLikesRequest, _ ...grpc.CallOption) (*pb.Likes, error) {
	return c.likes(in)
}

func (c *hostClient) GetVideo(_ context.Context, in *pb.GetVideoRequest, _ ...grpc.CallOption) (*pb.Video, error) {
	return c.get(in)
}

func (c *hostClient) ListVideos(_ context.Context, in *pb.ListVideosRequest, _ ...grpc.CallOption) (*pb.ListVideosResponse, error) {
	return c.list(in)
}

type searchClient struct {
	pb.SearchServiceClient
	search  func(*pb.SearchRequest) (*pb.SearchResponse, error)
	suggest func(*pb.SuggestRequest) (*pb.SuggestResponse, error)
}

func (c *searchClient) Search(_ context.Context, in *pb.SearchRequest, _ ...grpc.CallOption) (*pb.SearchResponse, error) {
	return c.search(in)
}

func (c *searchClient) Suggest(_ context.Context, in *pb.SuggestRequest, _ ...grpc.CallOption) (*pb.SuggestResponse, error) {
	return c.suggest(in)
}

type accountClient struct {
	pb.AccountServiceClient
	authenticate func(*pb.AuthenticateRequest) (*pb.AuthenticateResponse, error)
	getUser      func(context.Context, *pb.GetUserRequest) (*pb.User, error)
	signIn       func(*pb.SignInRequest) (*pb.SignInResponse, error)
}

func (c *accountClient) SignIn(_ context.Context, in *pb.SignInRequest, _ ...grpc.CallOption) (*pb.SignInResponse, error) {
	return c.signIn(in)
}

func (c *accountClient) Authenticate(_ context.Context, in *pb.AuthenticateRequest, _ ...grpc.CallOption) (*pb.AuthenticateResponse, error) {
	return c.authenticate(in)
}

func (c *accountClient) GetUser(ctx context.Context, in *pb.GetUserRequest, _ ...grpc.CallOption) (*pb.User, error) {
	return c.getUser(ctx, in)
}
