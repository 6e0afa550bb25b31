// Package rpc builds CloudFlix's gRPC servers and clients the same way for
// every service: OpenTelemetry stats handlers, Prometheus RED metrics, panic
// recovery, the gRPC health service, keepalive limits that let new pods get
// traffic, round-robin balancing over DNS, and the one mapping from domain
// errors to status codes. It must never hold service logic.
package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/cloudflix/cloudflix/internal/account"
	"github.com/cloudflix/cloudflix/internal/cache"
	"github.com/cloudflix/cloudflix/internal/moderation"
	"github.com/cloudflix/cloudflix/internal/video"
)

// Metrics are the RED metrics of every gRPC server in the process.
type Metrics struct {
	handled  *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics registers the server metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cloudflix_grpc_server_handled_total",
			Help: "gRPC calls completed, by service, method and status code.",
		}, []string{"grpc_service", "grpc_method", "grpc_code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cloudflix_grpc_server_handling_seconds",
			Help:    "Time to handle a gRPC call, by service and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"grpc_service", "grpc_method"}),
	}
	reg.MustRegister(m.handled, m.duration)
	return m
}

func (m *Metrics) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	start := time.Now()
	service, method := splitMethod(info.FullMethod)
	defer func() {
		if r := recover(); r != nil {
			slog.ErrorContext(ctx, "panic in gRPC handler", "method", info.FullMethod, "panic", r, "stack", string(debug.Stack()))
			err = status.Error(codes.Internal, "internal error")
		}
		m.handled.WithLabelValues(service, method, status.Code(err).String()).Inc()
		m.duration.WithLabelValues(service, method).Observe(time.Since(start).Seconds())
	}()
	return handler(ctx, req)
}

func splitMethod(full string) (service, method string) {
	// full is "/package.Service/Method".
	for i := len(full) - 1; i > 0; i-- {
		if full[i] == '/' {
			return full[1:i], full[i+1:]
		}
	}
	return "unknown", full
}

// Server is a gRPC server with its health service.
type Server struct {
	*grpc.Server
	Health *health.Server
}

// NewServer makes a gRPC server instrumented with m that believes the
// principals signed with key. MaxConnectionAge makes clients reconnect now
// and then, so DNS round-robin spreads load onto pods that started after
// them.
func NewServer(m *Metrics, key Key) *Server {
	s := grpc.NewServer(
		grpc.StatsHandler(otelgrpc.NewServerHandler()),
		grpc.ChainUnaryInterceptor(m.unary, key.serverPrincipal),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			MaxConnectionAge:      5 * time.Minute,
			MaxConnectionAgeGrace: 30 * time.Second,
		}),
	)
	h := health.NewServer()
	healthpb.RegisterHealthServer(s, h)
	return &Server{Server: s, Health: h}
}

// Serve serves on addr, and on any listeners also given, until ctx ends,
// then marks every service NOT_SERVING and stops gracefully, forcing the
// stop after wait.
func (s *Server) Serve(ctx context.Context, addr string, wait time.Duration, also ...net.Listener) error {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		for _, l := range also {
			l.Close()
		}
		return fmt.Errorf("gRPC listen %s: %w", addr, err)
	}
	errc := make(chan error, 1+len(also))
	for _, l := range append([]net.Listener{lis}, also...) {
		go func() {
			if err := s.Server.Serve(l); err != nil {
				errc <- fmt.Errorf("gRPC serve %s: %w", l.Addr(), err)
			}
		}()
	}
	select {
	case err := <-errc:
		s.Stop()
		return err
	case <-ctx.Done():
	}
	s.Health.Shutdown()
	stopped := make(chan struct{})
	go func() { s.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(wait):
		s.Stop()
	}
	return nil
}

// Dial returns a client connection to target ("host:port" or
// "dns:///name:port"), balancing calls over every address the name has;
// each call carries its context's principal, signed with key.
func Dial(target string, key Key) (*grpc.ClientConn, error) {
	conn, err := grpc.NewClient(target, append(clientOptions(key),
		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"round_robin":{}}]}`))...)
	if err != nil {
		return nil, fmt.Errorf("gRPC dial %s: %w", target, err)
	}
	return conn, nil
}

// RetryAfterUnavailable is how long a client is told to wait when a
// backend is unavailable: long enough not to hammer it, short enough that
// a blip costs little.
const RetryAfterUnavailable = 2 * time.Second

// backendUnavailable reports whether err is a backend that could not be
// reached, broke off a connection mid-exchange, or is resting after
// failures: the same request may succeed when tried again.
func backendUnavailable(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, cache.ErrUnavailable)
}

// clientOptions are what every client connection has, whatever carries
// it: tracing, and the principal signed with key.
func clientOptions(key Key) []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler()),
		grpc.WithChainUnaryInterceptor(key.clientPrincipal),
	}
}

// exhausted refuses a caller over a rate, with a RetryInfo saying when to
// try again, which the edge turns into Retry-After.
func exhausted(msg string, wait time.Duration) error {
	st := status.New(codes.ResourceExhausted, msg)
	if d, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(wait)}); err == nil {
		st = d
	}
	return st.Err()
}

// Error maps a domain error to a gRPC status error. Errors it does not know
// are logged once here and answered as Internal without their text.
func Error(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var invalid *video.InvalidError
	switch {
	case errors.As(err, &invalid):
		return status.Error(codes.InvalidArgument, invalid.Msg)
	case errors.Is(err, video.ErrNotFound):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, video.ErrWrongState):
		return status.Error(codes.FailedPrecondition, err.Error())
	case errors.Is(err, video.ErrLeaseLost):
		return status.Error(codes.Aborted, err.Error())
	case errors.Is(err, video.ErrUnauthenticated):
		return status.Error(codes.Unauthenticated, err.Error())
	case errors.Is(err, video.ErrForbidden):
		return status.Error(codes.PermissionDenied, err.Error())
	case errors.Is(err, account.ErrTaken):
		return status.Error(codes.AlreadyExists, err.Error())
	case errors.Is(err, account.ErrBadCredentials):
		return status.Error(codes.Unauthenticated, err.Error())
	case errors.Is(err, account.ErrQuotaExceeded):
		return status.Error(codes.ResourceExhausted, err.Error())
	case errors.Is(err, video.ErrCommentsOff):
		return status.Error(codes.FailedPrecondition, video.ErrCommentsOff.Error())
	case video.AsRateLimited(err) != nil:
		rl := video.AsRateLimited(err)
		return exhausted(rl.Error(), rl.RetryAfter)
	case moderation.AsRateLimited(err) != nil:
		rl := moderation.AsRateLimited(err)
		return exhausted(rl.Error(), rl.RetryAfter)
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "request canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	if backendUnavailable(err) {
		slog.WarnContext(ctx, "a backend is unavailable", "err", err)
		st := status.New(codes.Unavailable, "a backend is unavailable, try again shortly")
		if d, derr := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(RetryAfterUnavailable)}); derr == nil {
			st = d
		}
		return st.Err()
	}
	slog.ErrorContext(ctx, "request failed", "err", err)
	return status.Error(codes.Internal, "internal error")
}
