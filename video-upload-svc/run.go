package uploadsvc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/cloudflix/cloudflix/internal/config"
	"github.com/cloudflix/cloudflix/internal/janitor"
	"github.com/cloudflix/cloudflix/internal/outbox"
	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/rpc"
	"github.com/cloudflix/cloudflix/internal/videocache"
	"github.com/cloudflix/cloudflix/internal/webhook"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// Run serves the upload service, relays its outbox, sends webhook
// deliveries and runs the janitor until ctx ends. The janitor runs here
// because this service owns upload sessions and their abort, and does no
// heavy work of its own: a pass never competes with an encode for the
// CPU, and no replica of it is ever scaled away for want of jobs, as
// encode workers may be. Webhook deliveries are sent here for the same
// reasons, beside the relay of the other outbox: waiting on slow
// receivers costs no CPU, and every replica sends, sharing the
// deliveries through claims in the metadata store.
func Run(ctx context.Context, cfg config.Upload, p *platform.Process) error {
	if err := errors.Join(cfg.Janitor.Check(), cfg.Webhooks.Check()); err != nil {
		return err
	}
	nets, err := webhook.ParseNetworks(strings.Join(cfg.Webhooks.AllowedNetworks, ","))
	if err != nil {
		return fmt.Errorf("config: CLOUDFLIX_WEBHOOK_ALLOWED_NETWORKS: %w", err)
	}
	sealer, err := webhook.NewSealer(p.Key.Derive(webhook.KeyPurpose))
	if err != nil {
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
	q, err := p.Queue(ctx, "upload", 1)
	if err != nil {
		return err
	}

	reg := p.Registerer("upload")
	relay := outbox.NewRelay(db, q, time.Second, reg)
	cache := videocache.New(rc, 0, nil)
	svc := New(db, objects, cache, Limits{
		MaxBytes:     cfg.MaxBytes,
		PartSize:     cfg.PartSize,
		SessionTTL:   cfg.SessionTTL,
		PresignTTL:   cfg.PresignTTL,
		AllowedTypes: cfg.AllowedTypes,
		StorageQuota: cfg.Quotas.Storage,
		DailyQuota:   cfg.Quotas.Daily,
	}, relay.Wake, reg)
	j := janitor.New(db, objects, cache, janitor.Settings{
		Holder:          janitorHolder(p),
		Interval:        cfg.Janitor.Interval,
		OutboxAge:       cfg.Janitor.OutboxAge,
		WebhookAge:      cfg.Janitor.WebhookAge,
		FailedSourceAge: cfg.Janitor.FailedSourceAge,
		DeleteOrphans:   cfg.Janitor.OrphanMode == "delete",
		OrphanMinAge:    cfg.Janitor.OrphanMinAge,
	}, reg)
	sender := webhook.NewSender(db, sealer, webhook.Settings{
		Worker:      senderName(),
		Timeout:     cfg.Webhooks.Timeout,
		MaxAttempts: cfg.Webhooks.MaxAttempts,
		Policy:      webhook.Policy{Allowed: nets},
	}, reg)
	srv := rpc.NewServer(p.RPC, p.Key)
	pb.RegisterUploadServiceServer(srv, svc)
	pb.RegisterWebhookServiceServer(srv, NewWebhooks(db, sealer, webhook.Policy{Allowed: nets}, net.DefaultResolver,
		cfg.Webhooks.MaxEndpoints, sender.Wake))
	pb.RegisterCaptionServiceServer(srv, NewCaptionService(db, objects))

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return relay.Run(gctx) })
	g.Go(func() error { return j.Run(gctx) })
	g.Go(func() error { return sender.Run(gctx) })
	g.Go(func() error { return p.ServeRPC(gctx, "upload", srv, cfg.GRPC.UploadListen) })
	return g.Wait()
}

// senderName names this replica's webhook sender in its claims: unique to
// this start of the process, since a sender's claims die with it.
func senderName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), uuid.NewString()[:8])
}

// janitorHolder names this replica in the janitor's lease: its host (a
// pod's name) and process id; a single process, which alone holds its data
// folder, is named after the folder, so that once restarted it takes back
// at once the lease it held before.
func janitorHolder(p *platform.Process) string {
	host, _ := os.Hostname()
	if p.QueueInProcess() {
		return "embedded:" + host + ":" + p.DataDir()
	}
	return fmt.Sprintf("%s:%d", host, os.Getpid())
}
