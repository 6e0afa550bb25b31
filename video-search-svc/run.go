package searchsvc

import (
	"context"

	"github.com/cloudflix/cloudflix/internal/config"
	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/rpc"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// Run serves the search service until ctx ends.
func Run(ctx context.Context, cfg config.Search, p *platform.Process) error {
	db, err := p.Store(ctx)
	if err != nil {
		return err
	}
	rc, err := p.Cache(ctx)
	if err != nil {
		return err
	}

	srv := rpc.NewServer(p.RPC, p.Key)
	pb.RegisterSearchServiceServer(srv, New(db, rc, cfg.CacheTTL, p.Registerer("search")))
	return p.ServeRPC(ctx, "search", srv, cfg.GRPC.SearchListen)
}
