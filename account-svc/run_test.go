package accountsvc

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	"github.com/cloudflix/cloudflix/internal/rpc"
	"github.com/cloudflix/cloudflix/internal/testenv"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// The service as the edge meets it: Run's gRPC server, principals signed
// with the install's key, and the throttle's wait in a status detail.
func TestRunServesOverGRPC(t *testing.T) {
	p := platformtest.Process(t, platformtest.Embedded)
	cfg := testConfig()
	addr, err := testenv.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	cfg.GRPC.AccountListen = addr
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, p) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})

	conn, err := rpc.Dial(addr, platformtest.Key)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	health := healthpb.NewHealthClient(conn)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{})
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the account service is not serving: %v %v", resp, err)
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}

	client := pb.NewAccountServiceClient(conn)
	signedUp, err := client.SignUp(ctx, &pb.SignUpRequest{Username: "alice", Email: "alice@example.com", Password: "long enough"})
	if err != nil {
		t.Fatal(err)
	}
	who, err := client.Authenticate(ctx, &pb.AuthenticateRequest{Secret: signedUp.GetSessionToken()})
	if err != nil {
		t.Fatal(err)
	}
	me, err := client.GetUser(auth.NewContext(ctx, principalOf(who.GetPrincipal())), &pb.GetUserRequest{})
	if err != nil || me.GetId() != signedUp.GetUser().GetId() || me.GetEmail() != "alice@example.com" {
		t.Errorf("GetUser as alice: %v %v", me, err)
	}

	// A principal signed with another key is refused before the service.
	forger, err := rpc.Dial(addr, rpc.Key("not this install's key, but long enough"))
	if err != nil {
		t.Fatal(err)
	}
	defer forger.Close()
	_, err = pb.NewAccountServiceClient(forger).GetUser(auth.NewContext(ctx, principalOf(who.GetPrincipal())), &pb.GetUserRequest{})
	if status.Code(err) != codes.Unauthenticated {
		t.Errorf("forged principal: %v", err)
	}

	for range freeLoginFailures {
		if _, err := client.SignIn(ctx, &pb.SignInRequest{Login: "alice", Password: "wrong password"}); status.Code(err) != codes.Unauthenticated {
			t.Fatalf("wrong password: %v", err)
		}
	}
	_, err = client.SignIn(ctx, &pb.SignInRequest{Login: "alice", Password: "long enough"})
	if got := retryAfter(t, err); got != time.Second {
		t.Errorf("retry after %v over gRPC, want 1s", got)
	}
}
