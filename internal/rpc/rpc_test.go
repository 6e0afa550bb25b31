package rpc

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cloudflix/cloudflix/internal/video"
)

func TestErrorCodes(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		err  error
		want codes.Code
	}{
		{video.Invalid("title is required"), codes.InvalidArgument},
		{fmt.Errorf("get v1: %w", video.ErrNotFound), codes.NotFound},
		{fmt.Errorf("complete: %w", video.ErrWrongState), codes.FailedPrecondition},
		{video.ErrLeaseLost, codes.Aborted},
		{context.Canceled, codes.Canceled},
		{fmt.Errorf("db: %w", context.DeadlineExceeded), codes.DeadlineExceeded},
		{status.Error(codes.Unavailable, "down"), codes.Unavailable},
		{errors.New("connection refused to 10.0.0.1"), codes.Internal},
	}
	for _, c := range cases {
		got := status.Convert(Error(ctx, c.err))
		if got.Code() != c.want {
			t.Errorf("Error(%v) code = %v, want %v", c.err, got.Code(), c.want)
		}
	}
	if msg := status.Convert(Error(ctx, video.Invalid("size must be positive"))).Message(); msg != "size must be positive" {
		t.Errorf("invalid message = %q", msg)
	}
	if msg := status.Convert(Error(ctx, errors.New("secret dsn"))).Message(); msg != "internal error" {
		t.Errorf("internal message leaks: %q", msg)
	}
}

func TestSplitMethod(t *testing.T) {
	s, m := splitMethod("/cloudflix.v1.HostService/GetVideo")
	if s != "cloudflix.v1.HostService" || m != "GetVideo" {
		t.Fatalf("got %q %q", s, m)
	}
}
