package encodesvc

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/queue"
	"github.com/cloudflix/cloudflix/internal/rpc"
	"github.com/cloudflix/cloudflix/internal/video"
	"github.com/cloudflix/cloudflix/internal/videopb"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// Control is the control side of the metadata store.
type Control interface {
	Video(ctx context.Context, id string) (video.Video, error)
	Reencode(ctx context.Context, id string) (video.Video, error)
	RequeueStuck(ctx context.Context, uploadedFor time.Duration) (int, error)
	ExpireLeases(ctx context.Context, ownerPrefix string) (int, error)
}

// QueueStats reports on the job queue.
type QueueStats interface {
	Stats(ctx context.Context) (queue.Stats, error)
}

// Service implements the EncodeService gRPC API.
type Service struct {
	pb.UnimplementedEncodeServiceServer
	control  Control
	queue    QueueStats
	cache    Cache
	enqueued func()
}

// NewService returns the control service; enqueued wakes the outbox relay.
func NewService(control Control, q QueueStats, cache Cache, enqueued func()) *Service {
	return &Service{control: control, queue: q, cache: cache, enqueued: enqueued}
}

// GetQueueStats reports the encode queue and its dead-letter queue.
func (s *Service) GetQueueStats(ctx context.Context, _ *pb.GetQueueStatsRequest) (*pb.QueueStats, error) {
	st, err := s.queue.Stats(ctx)
	if err != nil {
		return nil, rpc.Error(ctx, fmt.Errorf("queue stats: %w", err))
	}
	return &pb.QueueStats{Pending: st.Pending, Consumers: st.Consumers, DeadLettered: st.DeadLettered}, nil
}

// Reencode sends a ready or failed video through the encoder again.
func (s *Service) Reencode(ctx context.Context, req *pb.ReencodeRequest) (*pb.Video, error) {
	if req.GetId() == "" {
		return nil, rpc.Error(ctx, video.Invalid("id is required"))
	}
	// Re-encoding takes a video offline for a while: its owner's call, or
	// an admin's.
	current, err := s.control.Video(ctx, req.GetId())
	if err != nil {
		return nil, rpc.Error(ctx, fmt.Errorf("reencode %s: %w", req.GetId(), err))
	}
	if p := auth.FromContext(ctx); !video.CanManageEncode(p, current) {
		return nil, rpc.Error(ctx, fmt.Errorf("reencode %s: %w", req.GetId(), video.Refusal(p, current)))
	}
	v, err := s.control.Reencode(ctx, req.GetId())
	if err != nil {
		return nil, rpc.Error(ctx, fmt.Errorf("reencode %s: %w", req.GetId(), err))
	}
	s.cache.Forget(ctx, v.ID)
	s.enqueued()
	return videopb.ToProto(v), nil
}

// RunReconciler re-enqueues, every interval, videos left uploaded longer
// than stuckAfter and videos whose encode lease expired (a worker died).
func RunReconciler(ctx context.Context, control Control, every, stuckAfter time.Duration, enqueued func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := control.RequeueStuck(ctx, stuckAfter)
			switch {
			case err != nil && ctx.Err() == nil:
				slog.WarnContext(ctx, "reconciler failed, will retry", "err", err)
			case n > 0:
				slog.InfoContext(ctx, "re-enqueued stuck videos", "count", n)
				enqueued()
			}
		}
	}
}

// recoverUnfinished re-enqueues, when a single-process install starts, the
// encodes its previous run held (their leases end now) and every uploaded
// video, since the in-process queue that carried their jobs is gone.
// Duplicates cost nothing: a job only runs for a video it can claim.
func recoverUnfinished(ctx context.Context, control Control, workerPrefix string, enqueued func()) error {
	expired, err := control.ExpireLeases(ctx, workerPrefix)
	if err != nil {
		return fmt.Errorf("recover unfinished encodes: %w", err)
	}
	n, err := control.RequeueStuck(ctx, 0)
	if err != nil {
		return fmt.Errorf("recover unfinished encodes: %w", err)
	}
	if expired+n > 0 {
		slog.InfoContext(ctx, "recovered unfinished encodes", "interrupted", expired, "requeued", n)
		enqueued()
	}
	return nil
}
