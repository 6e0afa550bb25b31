package router

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/cloudflix/cloudflix/internal/config"
	"github.com/cloudflix/cloudflix/internal/ops"
	"github.com/cloudflix/cloudflix/internal/platform"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
	"github.com/cloudflix/cloudflix/web"
)

// headerTimeout bounds the arrival of a request's headers, whatever the
// route; idleTimeout how long a kept-alive connection may wait for its
// next request.
const (
	headerTimeout = 10 * time.Second
	idleTimeout   = 2 * time.Minute
)

// Run serves the HTTP edge until ctx ends. It is ready when the four
// services and object storage answer.
func Run(ctx context.Context, cfg config.Router, p *platform.Process) error {
	media, parts, err := p.Objects(ctx)
	if err != nil {
		return err
	}
	conns := map[string]*grpc.ClientConn{}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for name, target := range map[string]string{
		"upload": cfg.GRPC.UploadTarget, "host": cfg.GRPC.HostTarget,
		"search": cfg.GRPC.SearchTarget, "encode": cfg.GRPC.EncodeTarget,
		"account": cfg.GRPC.AccountTarget,
	} {
		conn, err := p.DialRPC(name, target)
		if err != nil {
			return err
		}
		conns[name] = conn
		health := healthpb.NewHealthClient(conn)
		p.Ready.Add(name+"-service", func(ctx context.Context) error {
			resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{})
			if err != nil {
				return err
			}
			if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				return fmt.Errorf("%s service is %s", name, resp.GetStatus())
			}
			return nil
		})
	}

	// The public port tells only whether the process is alive and ready;
	// what failed, and the metrics, are the admin address's.
	mux := http.NewServeMux()
	ops.RegisterPublic(mux, p.Ready)
	edge, err := New(Options{
		Clients: Clients{
			Upload:     pb.NewUploadServiceClient(conns["upload"]),
			Host:       pb.NewHostServiceClient(conns["host"]),
			Search:     pb.NewSearchServiceClient(conns["search"]),
			Encode:     pb.NewEncodeServiceClient(conns["encode"]),
			Account:    pb.NewAccountServiceClient(conns["account"]),
			Webhooks:   pb.NewWebhookServiceClient(conns["upload"]),
			Moderation: pb.NewModerationServiceClient(conns["host"]),
			Comments:   pb.NewCommentServiceClient(conns["host"]),
			Playlist:   pb.NewPlaylistServiceClient(conns["host"]),
			Caption:    pb.NewCaptionServiceClient(conns["upload"]),
		},
		Media:          media,
		PublicBaseURL:  cfg.PublicURL,
		MediaKey:       p.Key.Derive("media links"),
		TrustedProxies: cfg.TrustedProxies,
		Metrics:        p.Registerer("router"),
		UI:             web.Handler(),
		UploadParts:    parts,
		Transfer:       Transfer{MinRate: cfg.MinRate, Window: cfg.RateWindow},
		Admission: Admission{Read: cfg.LimitRead, Search: cfg.LimitSearch, Write: cfg.LimitWrite,
			Upload: cfg.LimitUpload, Media: cfg.LimitMedia, Adaptive: cfg.AdaptiveLimits,
			ClientRate: cfg.ClientRate, ClientBurst: cfg.ClientBurst},
	})
	if err != nil {
		return err
	}
	mux.Handle("/", edge)
	return ops.ServeHTTP(ctx, cfg.HTTPAddr, mux, p.ShutdownWait, ops.Timeouts{
		ReadHeader: headerTimeout, Read: cfg.ReadTimeout, Write: cfg.WriteTimeout, Idle: idleTimeout,
		MaxConns: cfg.MaxConns,
	})
}
