package rpc

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/cloudflix/cloudflix/internal/auth"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// whoami answers GetVideo with the principal the call arrived with.
type whoami struct {
	pb.UnimplementedHostServiceServer
}

func (whoami) GetVideo(ctx context.Context, _ *pb.GetVideoRequest) (*pb.Video, error) {
	p := auth.FromContext(ctx)
	return &pb.Video{Id: p.UserID, Title: p.Username, Description: string(p.Role) + "|" + p.SessionID,
		Tags: func() []string {
			var s []string
			for _, sc := range p.Scopes {
				s = append(s, string(sc))
			}
			return s
		}()}, nil
}

func serveWhoami(t *testing.T, key Key) string {
	t.Helper()
	srv := NewServer(NewMetrics(prometheus.NewRegistry()), key)
	pb.RegisterHostServiceServer(srv, whoami{})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Server.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

func TestPrincipalTravelsSigned(t *testing.T) {
	key := Key("the install's internal key, 32 bytes+")
	addr := serveWhoami(t, key)
	conn, err := Dial(addr, key)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := pb.NewHostServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	p := auth.Principal{UserID: "u1", Username: "ada", Role: auth.RoleModerator, Scopes: []auth.Scope{auth.ScopeRead, auth.ScopeAdmin}, SessionID: "s1"}
	got, err := client.GetVideo(auth.NewContext(ctx, p), &pb.GetVideoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetId() != "u1" || got.GetTitle() != "ada" || got.GetDescription() != "moderator|s1" || strings.Join(got.GetTags(), ",") != "read,admin" {
		t.Fatalf("the service saw %v", got)
	}
	anon, err := client.GetVideo(ctx, &pb.GetVideoRequest{})
	if err != nil || anon.GetId() != "" {
		t.Fatalf("a call without a principal: %v, %v; want anonymous", anon, err)
	}

	// A caller without the key cannot claim to be anyone.
	other, err := Dial(addr, Key("another install's key, 32 bytes or more"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := pb.NewHostServiceClient(other).GetVideo(auth.NewContext(ctx, p), &pb.GetVideoRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("a principal signed with another key: %v, want Unauthenticated", err)
	}
}

func TestForgedOrStalePrincipalsAreRefused(t *testing.T) {
	key := Key("the install's internal key, 32 bytes+")
	addr := serveWhoami(t, key)
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := pb.NewHostServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	signed, err := key.attach(auth.NewContext(ctx, auth.Principal{UserID: "u1", Role: auth.RoleUser}))
	if err != nil {
		t.Fatal(err)
	}
	md, _ := metadata.FromOutgoingContext(signed)
	value, sig := md.Get(principalHeader)[0], md.Get(signatureHeader)[0]
	admin, _ := key.attach(auth.NewContext(ctx, auth.Principal{UserID: "u1", Role: auth.RoleAdmin}))
	adminMD, _ := metadata.FromOutgoingContext(admin)

	for name, pairs := range map[string][]string{
		"no signature":         {principalHeader, value},
		"a signature alone":    {signatureHeader, sig},
		"another's signature":  {principalHeader, value, signatureHeader, adminMD.Get(signatureHeader)[0]},
		"a signature of junk":  {principalHeader, "e30", signatureHeader, key.sign("e30")},
		"two principals":       {principalHeader, value, principalHeader, value, signatureHeader, sig},
		"an expired principal": expired(t, key),
	} {
		_, err := client.GetVideo(metadata.AppendToOutgoingContext(ctx, pairs...), &pb.GetVideoRequest{})
		if status.Code(err) != codes.Unauthenticated {
			t.Errorf("%s: %v, want Unauthenticated", name, err)
		}
	}
	if got, err := client.GetVideo(metadata.AppendToOutgoingContext(ctx, principalHeader, value, signatureHeader, sig), &pb.GetVideoRequest{}); err != nil || got.GetId() != "u1" {
		t.Fatalf("the genuine pair: %v, %v", got, err)
	}
}

func expired(t *testing.T, key Key) []string {
	t.Helper()
	value := "eyJ1IjoidTEiLCJuIjoiIiwiciI6InVzZXIiLCJleHAiOjF9" // {"u":"u1","n":"","r":"user","exp":1}
	return []string{principalHeader, value, signatureHeader, key.sign(value)}
}

func TestDerivedKeysDiffer(t *testing.T) {
	k := Key("the install's internal key, 32 bytes+")
	if string(k.Derive("media")) == string(k.Derive("other")) || string(k.Derive("media")) == string(Key("another key of thirty-two bytes...").Derive("media")) {
		t.Fatal("derived keys collide")
	}
}
