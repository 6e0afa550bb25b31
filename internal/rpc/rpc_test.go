package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cloudflix/cloudflix/internal/cache"
	"github.com/cloudflix/cloudflix/internal/moderation"
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
		{fmt.Errorf("video v1: %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), codes.Unavailable},
		{fmt.Errorf("read: %w", io.ErrUnexpectedEOF), codes.Unavailable},
		{fmt.Errorf("count view: %w", cache.ErrUnavailable), codes.Unavailable},
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
	st := status.Convert(Error(ctx, &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{Port: 5432}, Err: syscall.ECONNREFUSED}))
	if strings.Contains(st.Message(), "5432") {
		t.Errorf("unavailable message names the backend: %q", st.Message())
	}
	var wait time.Duration
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			wait = ri.GetRetryDelay().AsDuration()
		}
	}
	if wait != RetryAfterUnavailable {
		t.Errorf("unavailable status asks to wait %v, want %v", wait, RetryAfterUnavailable)
	}

	// Over a rate, comments or reports: the wait travels as a RetryInfo.
	for _, err := range []error{
		fmt.Errorf("comment: %w", &video.RateLimitedError{RetryAfter: 12 * time.Second}),
		fmt.Errorf("report: %w", moderation.ReportRate{Reports: 20, Per: time.Hour}.Refuse(time.Now().Add(-time.Hour+12*time.Second), time.Now())),
	} {
		st := status.Convert(Error(ctx, err))
		if st.Code() != codes.ResourceExhausted {
			t.Errorf("Error(%v) code = %v, want ResourceExhausted", err, st.Code())
		}
		var wait time.Duration
		for _, d := range st.Details() {
			if ri, ok := d.(*errdetails.RetryInfo); ok {
				wait = ri.GetRetryDelay().AsDuration()
			}
		}
		if wait.Round(time.Second) != 12*time.Second {
			t.Errorf("Error(%v) asks to wait %v, want 12s", err, wait)
		}
	}
}

func TestSplitMethod(t *testing.T) {
	s, m := splitMethod("/cloudflix.v1.HostService/GetVideo")
	if s != "cloudflix.v1.HostService" || m != "GetVideo" {
		t.Fatalf("got %q %q", s, m)
	}
}
