package rpc

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/net/nettest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/cloudflix/cloudflix/internal/auth"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// TestMemoryConnIsANetConn holds the in-memory connection to what net.Conn
// promises: reads and writes both ways, close, deadlines past, present and
// future, and concurrent use.
func TestMemoryConnIsANetConn(t *testing.T) {
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		m := NewMemory()
		lis, err := m.Listen("svc")
		if err != nil {
			return nil, nil, nil, err
		}
		accepted := make(chan net.Conn, 1)
		go func() {
			c, _ := lis.Accept()
			accepted <- c
		}()
		c1, err = m.Dial(context.Background(), "svc")
		if err != nil {
			return nil, nil, nil, err
		}
		c2 = <-accepted
		return c1, c2, func() { c1.Close(); c2.Close(); lis.Close() }, nil
	})
}

// slow answers GetVideo after a while, or when the call's deadline ends.
type slow struct {
	pb.UnimplementedHostServiceServer
}

func (slow) GetVideo(ctx context.Context, _ *pb.GetVideoRequest) (*pb.Video, error) {
	select {
	case <-ctx.Done():
		return nil, Error(ctx, ctx.Err())
	case <-time.After(time.Minute):
		return &pb.Video{}, nil
	}
}

// TestServedInMemory runs a server on TCP and in memory at once, as a
// service does in a process with the router: a client dialled before the
// service listens waits for it, principals travel signed, deadlines reach
// the handler, and the server stops on both listeners.
func TestServedInMemory(t *testing.T) {
	key := Key("the install's internal key, 32 bytes+")
	m := NewMemory()
	conn, err := DialMemory(m, "host", key)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	answered := make(chan error, 1)
	go func() {
		_, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		answered <- err
	}()

	srv := NewServer(NewMetrics(prometheus.NewRegistry()), key)
	pb.RegisterHostServiceServer(srv, whoami{})
	lis, err := m.Listen("host")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Listen("host"); err == nil {
		t.Fatal("a second listener took the name host")
	}
	serveCtx, stop := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(serveCtx, "127.0.0.1:0", time.Second, lis) }()

	if err := <-answered; err != nil {
		t.Fatalf("a call made before the service listened: %v", err)
	}
	client := pb.NewHostServiceClient(conn)
	p := auth.Principal{UserID: "u1", Username: "ada", Role: auth.RoleAdmin, SessionID: "s1"}
	got, err := client.GetVideo(auth.NewContext(ctx, p), &pb.GetVideoRequest{})
	if err != nil || got.GetId() != "u1" || got.GetDescription() != "admin|s1" {
		t.Fatalf("the service saw %v, %v", got, err)
	}
	other, err := DialMemory(m, "host", Key("another install's key, 32 bytes or more"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := pb.NewHostServiceClient(other).GetVideo(auth.NewContext(ctx, p), &pb.GetVideoRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("a principal signed with another key: %v, want Unauthenticated", err)
	}

	stop()
	if err := <-served; err != nil {
		t.Fatalf("serve: %v", err)
	}
	short, cancelShort := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancelShort()
	if c, err := m.Dial(short, "host"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("dialling a stopped service: %v, %v; want a wait that ends with the dial's context", c, err)
	}
}

func TestDeadlineReachesTheServiceInMemory(t *testing.T) {
	key := Key("the install's internal key, 32 bytes+")
	m := NewMemory()
	srv := NewServer(NewMetrics(prometheus.NewRegistry()), key)
	pb.RegisterHostServiceServer(srv, slow{})
	lis, err := m.Listen("host")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Server.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := DialMemory(m, "host", key)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if _, err := pb.NewHostServiceClient(conn).GetVideo(ctx, &pb.GetVideoRequest{}); status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("a call past its deadline: %v, want DeadlineExceeded", err)
	}
}

// sized answers GetVideo with a video whose description is as long as
// the request's id says, in bytes.
type sized struct {
	pb.UnimplementedHostServiceServer
}

func (sized) GetVideo(_ context.Context, req *pb.GetVideoRequest) (*pb.Video, error) {
	n, _ := strconv.Atoi(req.GetId())
	return &pb.Video{Description: strings.Repeat("x", n)}, nil
}

// BenchmarkCall times one unary call with a principal through the full
// client and server (stats handlers, interceptors, HTTP/2 framing), over
// loopback TCP and over the in-memory network, one call at a time and 64
// at once on one connection, as the router makes them, with an answer of
// 100 bytes (video info) and of 20 KB (a page of the list).
func BenchmarkCall(b *testing.B) {
	key := Key("the install's internal key, 32 bytes+")
	ctx := auth.NewContext(context.Background(), auth.Principal{UserID: "u1", Username: "ada", Role: auth.RoleUser})
	m := NewMemory()
	srv := NewServer(NewMetrics(prometheus.NewRegistry()), key)
	pb.RegisterHostServiceServer(srv, sized{})
	lis, err := m.Listen("host")
	if err != nil {
		b.Fatal(err)
	}
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = srv.Server.Serve(lis) }()
	go func() { _ = srv.Server.Serve(tcp) }()
	b.Cleanup(srv.Stop)
	overTCP, err := Dial(tcp.Addr().String(), key)
	if err != nil {
		b.Fatal(err)
	}
	inMemory, err := DialMemory(m, "host", key)
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range []string{"100", "20000"} {
		req := &pb.GetVideoRequest{Id: size}
		for _, c := range []struct {
			name string
			conn *grpc.ClientConn
		}{{"tcp", overTCP}, {"memory", inMemory}} {
			client := pb.NewHostServiceClient(c.conn)
			b.Run(c.name+"-"+size+"B", func(b *testing.B) {
				defer reportCPU(b)()
				for b.Loop() {
					if _, err := client.GetVideo(ctx, req); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(c.name+"-"+size+"B-64", func(b *testing.B) {
				defer reportCPU(b)()
				b.SetParallelism(64)
				b.RunParallel(func(calls *testing.PB) {
					for calls.Next() {
						if _, err := client.GetVideo(ctx, req); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
	overTCP.Close()
	inMemory.Close()
}

// reportCPU, deferred, adds the CPU time the process spent per operation
// to a benchmark's results: on a shared machine, the cost that other
// work does not distort as it does the time per operation.
func reportCPU(b *testing.B) func() {
	start := cpuTime(b)
	return func() {
		b.ReportMetric(float64((cpuTime(b)-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
