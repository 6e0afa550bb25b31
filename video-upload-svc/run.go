package uploadsvc

import (
	"context"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cloudflix/cloudflix/internal/config"
	"github.com/cloudflix/cloudflix/internal/outbox"
	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/rpc"
	"github.com/cloudflix/cloudflix/internal/videocache"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// Run serves the upload service and relays its outbox until ctx ends.
func Run(ctx context.Context, cfg config.Upload, p *platform.Process) error {
	db, err := p.Store(ctx)
	if err != nil {
		return err
	}
	objects, _, err := p.Objects(ctx)
	if err != nil {
		return err
	}
	rc, err := p.Cache(ctx)
	if err != nil {
		return err
	}
	q, err := p.Queue(ctx, "upload", 1)
	if err != nil {
		return err
	}

	reg := p.Registerer("upload")
	relay := outbox.NewRelay(db, q, time.Second, reg)
	svc := New(db, objects, videocache.New(rc, 0, nil), Limits{
		MaxBytes:     cfg.MaxBytes,
		PartSize:     cfg.PartSize,
		SessionTTL:   cfg.SessionTTL,
		PresignTTL:   cfg.PresignTTL,
		AllowedTypes: cfg.AllowedTypes,
		StorageQuota: cfg.Quotas.Storage,
		DailyQuota:   cfg.Quotas.Daily,
	}, relay.Wake, reg)
	srv := rpc.NewServer(p.RPC, p.Key)
	pb.RegisterUploadServiceServer(srv, svc)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return relay.Run(gctx) })
	g.Go(func() error { return srv.Serve(gctx, cfg.GRPC.UploadListen, p.ShutdownWait) })
	return g.Wait()
}
