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
	opts := transcode.Options{Preset: cfg.Preset, Nice: cfg.Nice, Threads: cfg.Threads}
	if err := opts.CheckTools(); err != nil {
		return err
	}
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
	q, err := p.Queue(ctx, "encode", cfg.Workers)
	if err != nil {
		return err
	}

	workDir := cfg.WorkDir
	if workDir == "" {
		workDir = filepath.Join(os.TempDir(), "cloudflix-encode")
	}
	prefix := workerPrefix(p.QueueInProcess(), p.DataDir())
	reg := p.Registerer("encode")
	cache := videocache.New(rc, 0, nil)
	relay := outbox.NewRelay(db, q, time.Second, reg)
	worker := NewWorker(db, objects, cache, Settings{
		WorkerID:    fmt.Sprintf("%s%d-%s", prefix, os.Getpid(), uuid.NewString()[:8]),
		WorkDir:     workDir,
		Lease:       cfg.Lease,
		MaxAttempts: cfg.MaxAttempts,
		Limits:      limits(cfg),
		Options:     opts,
		Chunks:      ChunkSettings{From: cfg.ChunkFrom.Seconds(), Seconds: int(cfg.ChunkLength.Seconds()), Jobs: q},
	}, reg)
	reg.MustRegister(NewPipelineCollector(q, db))
	srv := rpc.NewServer(p.RPC, p.Key)
	pb.RegisterEncodeServiceServer(srv, NewService(db, q, cache, relay.Wake))

	if p.QueueInProcess() {
		// The queue lived in this process: what an earlier run of it was
		// encoding, or had queued, is only in the database now.
		if err := recoverUnfinished(ctx, db, prefix, relay.Wake); err != nil {
			return err
		}
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return q.Consume(gctx, worker.Handle) })
	g.Go(func() error { return relay.Run(gctx) })
	g.Go(func() error { RunReconciler(gctx, db, 30*time.Second, cfg.StuckAfter, relay.Wake); return nil })
	g.Go(func() error { return p.ServeRPC(gctx, "encode", srv, cfg.GRPC.EncodeListen) })
	return g.Wait()
}

// limits are the encode limits cfg sets.
func limits(cfg config.Encode) transcode.Limits {
	return transcode.Limits{
		MaxDuration:  cfg.MaxDuration,
		MaxWidth:     cfg.MaxWidth,
		MaxHeight:    cfg.MaxHeight,
		MaxPixelRate: cfg.MaxPixelRate,
		MaxFrameRate: cfg.MaxFrameRate,
		MaxFrames:    cfg.MaxFrames,
		TimeFactor:   cfg.TimeFactor,
		TimeBase:     cfg.TimeBase,
	}
}

// workerPrefix starts the id of every encode worker of this install. A
// single process names its workers after its data folder, so that a
// restarted process can tell which leases its dead predecessor held (the
// in-process queue died with it); otherwise the host name tells an operator
// which pod held a lease.
func workerPrefix(queueInProcess bool, dataDir string) string {
	if queueInProcess {
		return "embedded:" + dataDir + ":"
	}
	host, _ := os.Hostname()
	return host + ":"
}
