package encodesvc

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/cloudflix/cloudflix/internal/config"
	"github.com/cloudflix/cloudflix/internal/outbox"
	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/rpc"
	"github.com/cloudflix/cloudflix/internal/transcode"
	"github.com/cloudflix/cloudflix/internal/videocache"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// Run consumes encode jobs, relays the outbox, reconciles stuck videos and
// serves the encode control API until ctx ends.
func Run(ctx context.Context, cfg config.Encode, p *platform.Process) error {
	db, err := platform.OpenPostgres(ctx, cfg.Postgres, p)
	if err != nil {
		return err
	}
	defer db.Close()
	objects, err := platform.OpenS3(ctx, cfg.S3, p)
	if err != nil {
		return err
	}
	rc, err := platform.OpenRedis(ctx, cfg.Redis, p)
	if err != nil {
		return err
	}
	defer rc.Close()
	q, err := platform.OpenQueue(ctx, cfg.AMQP, "cloudflix-encode", cfg.Workers, p)
	if err != nil {
		return err
	}
	defer q.Close()

	workDir := cfg.WorkDir
	if workDir == "" {
		workDir = filepath.Join(os.TempDir(), "cloudflix-encode")
	}
	host, _ := os.Hostname()
	reg := p.Registerer("encode")
	cache := videocache.New(rc, 0, nil)
	relay := outbox.NewRelay(db, q, time.Second, reg)
	worker := NewWorker(db, objects, cache, Settings{
		WorkerID:    fmt.Sprintf("%s-%d-%s", host, os.Getpid(), uuid.NewString()[:8]),
		WorkDir:     workDir,
		Lease:       cfg.Lease,
		MaxAttempts: cfg.MaxAttempts,
		Limits:      transcode.Limits{MaxDuration: cfg.MaxDuration},
		Options:     transcode.Options{Preset: cfg.Preset},
	}, reg)
	reg.MustRegister(NewQueueCollector(q))
	srv := rpc.NewServer(p.RPC)
	pb.RegisterEncodeServiceServer(srv, NewService(db, q, cache, relay.Wake))

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return q.Consume(gctx, worker.Handle) })
	g.Go(func() error { return relay.Run(gctx) })
	g.Go(func() error { RunReconciler(gctx, db, 30*time.Second, cfg.StuckAfter, relay.Wake); return nil })
	g.Go(func() error { return srv.Serve(gctx, cfg.GRPC.EncodeListen, p.ShutdownWait) })
	return g.Wait()
}
