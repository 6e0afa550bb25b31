package uploadsvc

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/rpc"
	"github.com/cloudflix/cloudflix/internal/video"
	"github.com/cloudflix/cloudflix/internal/webhook"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// WebhookStore is the part of the metadata store the webhook service uses.
type WebhookStore interface {
	CreateWebhookEndpoint(ctx context.Context, e webhook.Endpoint, maxPerOwner int) (webhook.Endpoint, error)
	WebhookEndpoint(ctx context.Context, id string) (webhook.Endpoint, error)
	WebhookEndpoints(ctx context.Context, ownerID string) ([]webhook.Endpoint, error)
	UpdateWebhookEndpoint(ctx context.Context, id string, change webhook.Change) (webhook.Endpoint, error)
	DeleteWebhookEndpoint(ctx context.Context, id string) error
	EnqueueWebhookEvent(ctx context.Context, endpointID string, e webhook.Event) (webhook.Delivery, error)
	WebhookDeliveries(ctx context.Context, endpointID string, limit int, before int64) ([]webhook.Delivery, error)
}

// deliveryPage bounds a page of an endpoint's delivery log.
var deliveryPage = video.PageRule{Default: 50, Max: 200}

// Webhooks serves WebhookService: the endpoints of signed-in users. It
// runs beside the sender of their deliveries, which Wake hurries.
type Webhooks struct {
	pb.UnimplementedWebhookServiceServer
	store        WebhookStore
	sealer       *webhook.Sealer
	policy       webhook.Policy
	resolver     webhook.Resolver
	maxEndpoints int
	wake         func()
}

// NewWebhooks returns the service; resolver looks endpoints' hosts up
// (net.DefaultResolver), wake is called when a test event is written.
func NewWebhooks(store WebhookStore, sealer *webhook.Sealer, policy webhook.Policy, resolver webhook.Resolver, maxEndpoints int, wake func()) *Webhooks {
	return &Webhooks{store: store, sealer: sealer, policy: policy, resolver: resolver, maxEndpoints: maxEndpoints, wake: wake}
}

// caller is the signed-in principal of ctx, if it may manage endpoints.
func caller(ctx context.Context) (auth.Principal, error) {
	p := auth.FromContext(ctx)
	switch {
	case p.Anonymous():
		return p, video.ErrUnauthenticated
	case !webhook.CanManage(p):
		return p, fmt.Errorf("webhooks need a credential that may upload: %w", video.ErrForbidden)
	}
	return p, nil
}

// endpoint is the endpoint with id if the caller may have it; an endpoint
// of someone else's is not found, so that its existence does not leak.
func (s *Webhooks) endpoint(ctx context.Context, id string) (webhook.Endpoint, error) {
	p, err := caller(ctx)
	if err != nil {
		return webhook.Endpoint{}, err
	}
	e, err := s.store.WebhookEndpoint(ctx, id)
	if err != nil {
		return webhook.Endpoint{}, err
	}
	if !webhook.CanAccess(p, e) {
		return webhook.Endpoint{}, fmt.Errorf("webhook endpoint %s: %w", id, video.ErrNotFound)
	}
	return e, nil
}

// webhookError maps the webhook errors rpc.Error does not know.
func webhookError(ctx context.Context, err error) error {
	if errors.Is(err, webhook.ErrTooManyEndpoints) {
		return status.Error(codes.ResourceExhausted, err.Error())
	}
	return rpc.Error(ctx, err)
}

// ListWebhooks implements [pb.WebhookServiceServer].
func (s *Webhooks) ListWebhooks(ctx context.Context, _ *pb.ListWebhooksRequest) (*pb.ListWebhooksResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	es, err := s.store.WebhookEndpoints(ctx, p.UserID)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	resp := &pb.ListWebhooksResponse{Webhooks: make([]*pb.Webhook, len(es))}
	for i, e := range es {
		resp.Webhooks[i] = endpointPB(e)
	}
	return resp, nil
}

// CreateWebhook implements [pb.WebhookServiceServer].
func (s *Webhooks) CreateWebhook(ctx context.Context, req *pb.CreateWebhookRequest) (*pb.WebhookWithSecret, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	if req.GetAllVideos() && !webhook.CanWatchAllVideos(p) {
		return nil, rpc.Error(ctx, fmt.Errorf("an endpoint for every video needs admin rights: %w", video.ErrForbidden))
	}
	events, err := webhook.ParseEvents(req.GetEvents())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	url, err := s.policy.CheckURL(ctx, s.resolver, req.GetUrl())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	secret := webhook.NewSecret()
	e, err := s.store.CreateWebhookEndpoint(ctx, webhook.Endpoint{
		ID: uuid.NewString(), OwnerID: p.UserID, URL: url, Events: events, AllVideos: req.GetAllVideos(), Secret: s.sealer.Seal(secret),
	}, s.maxEndpoints)
	if err != nil {
		return nil, webhookError(ctx, err)
	}
	return &pb.WebhookWithSecret{Webhook: endpointPB(e), Secret: secret}, nil
}

// GetWebhook implements [pb.WebhookServiceServer].
func (s *Webhooks) GetWebhook(ctx context.Context, req *pb.GetWebhookRequest) (*pb.Webhook, error) {
	e, err := s.endpoint(ctx, req.GetId())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	return endpointPB(e), nil
}

// UpdateWebhook implements [pb.WebhookServiceServer].
func (s *Webhooks) UpdateWebhook(ctx context.Context, req *pb.UpdateWebhookRequest) (*pb.Webhook, error) {
	e, err := s.endpoint(ctx, req.GetId())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	var c webhook.Change
	if req.Url != nil {
		url, err := s.policy.CheckURL(ctx, s.resolver, req.GetUrl())
		if err != nil {
			return nil, rpc.Error(ctx, err)
		}
		c.URL = &url
	}
	if req.GetSetEvents() {
		if c.Events, err = webhook.ParseEvents(req.GetEvents()); err != nil {
			return nil, rpc.Error(ctx, err)
		}
	}
	if req.AllVideos != nil {
		if req.GetAllVideos() && !webhook.CanWatchAllVideos(auth.FromContext(ctx)) {
			return nil, rpc.Error(ctx, fmt.Errorf("an endpoint for every video needs admin rights: %w", video.ErrForbidden))
		}
		all := req.GetAllVideos()
		c.AllVideos = &all
	}
	e, err = s.store.UpdateWebhookEndpoint(ctx, e.ID, c)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	return endpointPB(e), nil
}

// DeleteWebhook implements [pb.WebhookServiceServer].
func (s *Webhooks) DeleteWebhook(ctx context.Context, req *pb.DeleteWebhookRequest) (*pb.DeleteWebhookResponse, error) {
	e, err := s.endpoint(ctx, req.GetId())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	if err := s.store.DeleteWebhookEndpoint(ctx, e.ID); err != nil {
		return nil, rpc.Error(ctx, err)
	}
	return &pb.DeleteWebhookResponse{}, nil
}

// RotateWebhookSecret implements [pb.WebhookServiceServer].
func (s *Webhooks) RotateWebhookSecret(ctx context.Context, req *pb.RotateWebhookSecretRequest) (*pb.WebhookWithSecret, error) {
	e, err := s.endpoint(ctx, req.GetId())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	secret := webhook.NewSecret()
	e, err = s.store.UpdateWebhookEndpoint(ctx, e.ID, webhook.Change{Secret: s.sealer.Seal(secret)})
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	return &pb.WebhookWithSecret{Webhook: endpointPB(e), Secret: secret}, nil
}

// ListWebhookDeliveries implements [pb.WebhookServiceServer].
func (s *Webhooks) ListWebhookDeliveries(ctx context.Context, req *pb.ListWebhookDeliveriesRequest) (*pb.ListWebhookDeliveriesResponse, error) {
	size, err := deliveryPage.Size(req.PageSize)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	var before int64
	if t := req.GetPageToken(); t != "" {
		if before, err = strconv.ParseInt(t, 10, 64); err != nil || before <= 0 {
			return nil, rpc.Error(ctx, video.Invalid("page token %q is not one this list gave", t))
		}
	}
	e, err := s.endpoint(ctx, req.GetId())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	ds, err := s.store.WebhookDeliveries(ctx, e.ID, size+1, before)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	resp := &pb.ListWebhookDeliveriesResponse{}
	if len(ds) > size {
		ds = ds[:size]
		resp.NextPageToken = strconv.FormatInt(ds[size-1].ID, 10)
	}
	for _, d := range ds {
		resp.Deliveries = append(resp.Deliveries, deliveryPB(d))
	}
	return resp, nil
}

// SendTestWebhook implements [pb.WebhookServiceServer].
func (s *Webhooks) SendTestWebhook(ctx context.Context, req *pb.SendTestWebhookRequest) (*pb.WebhookDelivery, error) {
	e, err := s.endpoint(ctx, req.GetId())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	ev, err := webhook.NewTestEvent(e.ID, time.Now())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	d, err := s.store.EnqueueWebhookEvent(ctx, e.ID, ev)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	if s.wake != nil {
		s.wake()
	}
	return deliveryPB(d), nil
}

func endpointPB(e webhook.Endpoint) *pb.Webhook {
	events := make([]string, len(e.Events))
	for i, t := range e.Events {
		events[i] = string(t)
	}
	return &pb.Webhook{Id: e.ID, OwnerId: e.OwnerID, Url: e.URL, Events: events, AllVideos: e.AllVideos,
		CreatedAt: timestamppb.New(e.CreatedAt), UpdatedAt: timestamppb.New(e.UpdatedAt)}
}

func deliveryPB(d webhook.Delivery) *pb.WebhookDelivery {
	out := &pb.WebhookDelivery{
		Id: d.ID, EventId: d.EventID, EventType: string(d.EventType), VideoId: d.VideoID, State: string(d.State),
		Attempts: int32(d.Attempts), LastStatus: int32(d.LastStatus), LastLatencyMs: float64(d.LastLatency.Microseconds()) / 1000,
		LastError: d.LastError, CreatedAt: timestamppb.New(d.CreatedAt), UpdatedAt: timestamppb.New(d.UpdatedAt),
	}
	if !d.NextAttemptAt.IsZero() {
		out.NextAttemptAt = timestamppb.New(d.NextAttemptAt)
	}
	return out
}
