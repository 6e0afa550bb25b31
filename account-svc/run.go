package accountsvc

import (
	"context"

	"github.com/cloudflix/cloudflix/internal/config"
	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/rpc"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// Run serves the account service until ctx ends.
func Run(ctx context.Context, cfg config.Account, p *platform.Process) error {
	db, err := p.Store(ctx)
	if err != nil {
		return err
	}
	svc, err := New(db, cfg, p.Key, p.Registerer("account"))
	if err != nil {
		return err
	}
	srv := rpc.NewServer(p.RPC, p.Key)
	pb.RegisterAccountServiceServer(srv, svc)
	return p.ServeRPC(ctx, "account", srv, cfg.GRPC.AccountListen)
}
