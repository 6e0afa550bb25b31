package hostsvc

import (
	"context"

	"golang.org/x/sync/errgroup"

	"github.com/cloudflix/cloudflix/internal/config"
	"github.com/cloudflix/cloudflix/internal/moderation"
	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/rpc"
	"github.com/cloudflix/cloudflix/internal/video"
	"github.com/cloudflix/cloudflix/internal/videocache"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// Run serves the host service and flushes counted views until ctx ends.
func Run(ctx context.Context, cfg config.Host, p *platform.Process) error {
	if err := cfg.Check(); err != nil {
		return err
	}
	db, err := p.Store(ctx)
	if err != nil {
		return err
	}
	rc, err := p.Cache(ctx)
	if err != nil {
		return err
	}

	reg := p.Registerer("host")
	views := ViewRule{Window: cfg.ViewWindow, Key: p.Key.Derive("viewers")}
	videos := videocache.New(rc, cfg.CacheTTL, reg)
	svc := New(db, videos, rc, views, reg)
	srv := rpc.NewServer(p.RPC, p.Key)
	pb.RegisterHostServiceServer(srv, svc)
	pb.RegisterCommentServiceServer(srv, NewComments(svc, db, video.CommentRate{Burst: cfg.CommentBurst, Refill: cfg.CommentRefill}))
	pb.RegisterModerationServiceServer(srv, NewModeration(db, videos, moderation.ReportRate{Reports: cfg.ReportLimit, Per: cfg.ReportWindow}))
	pb.RegisterPlaylistServiceServer(srv, NewPlaylists(db, videos))

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { svc.RunViewFlusher(gctx, cfg.ViewFlushEach); return nil })
	g.Go(func() error { return p.ServeRPC(gctx, "host", srv, cfg.GRPC.HostListen) })
	return g.Wait()
}
