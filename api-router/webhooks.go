package router

import (
	"net/http"

	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// webhookJSON is a webhook endpoint as the API shows it; its secret only
// ever comes beside it, once.
type webhookJSON struct {
	ID        string   `json:"id"`
	OwnerID   string   `json:"owner_id"`
	URL       string   `json:"url"`
	Events    []string `json:"events"`
	AllVideos bool     `json:"all_videos"`
	CreatedAt string   `json:"created_at"`
	UpdatedAt string   `json:"updated_at"`
}

func webhookToJSON(w *pb.Webhook) webhookJSON {
	events := w.GetEvents()
	if events == nil {
		events = []string{}
	}
	return webhookJSON{ID: w.GetId(), OwnerID: w.GetOwnerId(), URL: w.GetUrl(), Events: events, AllVideos: w.GetAllVideos(),
		CreatedAt: formatTime(w.GetCreatedAt()), UpdatedAt: formatTime(w.GetUpdatedAt())}
}

// webhookSecretJSON is an endpoint with its signing secret, shown once.
type webhookSecretJSON struct {
	Secret  string      `json:"secret"`
	Webhook webhookJSON `json:"webhook"`
}

// deliveryJSON is one line of an endpoint's delivery log.
type deliveryJSON struct {
	ID            int64   `json:"id"`
	EventID       string  `json:"event_id"`
	EventType     string  `json:"event_type"`
	VideoID       string  `json:"video_id,omitempty"`
	State         string  `json:"state"`
	Attempts      int32   `json:"attempts"`
	LastStatus    int32   `json:"last_status"`
	LastLatencyMs float64 `json:"last_latency_ms"`
	LastError     string  `json:"last_error"`
	NextAttemptAt string  `json:"next_attempt_at,omitempty"`
	CreatedAt     string  `json:"created_at"`
	UpdatedAt     string  `json:"updated_at"`
}

func deliveryToJSON(d *pb.WebhookDelivery) deliveryJSON {
	out := deliveryJSON{ID: d.GetId(), EventID: d.GetEventId(), EventType: d.GetEventType(), VideoID: d.GetVideoId(),
		State: d.GetState(), Attempts: d.GetAttempts(), LastStatus: d.GetLastStatus(), LastLatencyMs: d.GetLastLatencyMs(),
		LastError: d.GetLastError(), CreatedAt: formatTime(d.GetCreatedAt()), UpdatedAt: formatTime(d.GetUpdatedAt())}
	if d.GetNextAttemptAt() != nil {
		out.NextAttemptAt = formatTime(d.GetNextAttemptAt())
	}
	return out
}

func (a *api) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	resp, err := a.clients.Webhooks.ListWebhooks(r.Context(), &pb.ListWebhooksRequest{})
	if err != nil {
		return err
	}
	out := make([]webhookJSON, 0, len(resp.GetWebhooks()))
	for _, h := range resp.GetWebhooks() {
		out = append(out, webhookToJSON(h))
	}
	writeJSON(w, http.StatusOK, struct {
		Webhooks []webhookJSON `json:"webhooks"`
	}{out})
	return nil
}

type createWebhookBody struct {
	URL       string   `json:"url"`
	Events    []string `json:"events"`
	AllVideos bool     `json:"all_videos"`
}

func (a *api) createWebhook(w http.ResponseWriter, r *http.Request) error {
	var body createWebhookBody
	if err := readJSON(w, r, &body); err != nil {
		return err
	}
	resp, err := a.clients.Webhooks.CreateWebhook(r.Context(), &pb.CreateWebhookRequest{Url: body.URL, Events: body.Events, AllVideos: body.AllVideos})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, webhookSecretJSON{Secret: resp.GetSecret(), Webhook: webhookToJSON(resp.GetWebhook())})
	return nil
}

func (a *api) getWebhook(w http.ResponseWriter, r *http.Request) error {
	h, err := a.clients.Webhooks.GetWebhook(r.Context(), &pb.GetWebhookRequest{Id: r.PathValue("id")})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, webhookToJSON(h))
	return nil
}

type updateWebhookBody struct {
	URL       *string   `json:"url"`
	Events    *[]string `json:"events"`
	AllVideos *bool     `json:"all_videos"`
}

func (a *api) updateWebhook(w http.ResponseWriter, r *http.Request) error {
	var body updateWebhookBody
	if err := readJSON(w, r, &body); err != nil {
		return err
	}
	req := &pb.UpdateWebhookRequest{Id: r.PathValue("id"), Url: body.URL, AllVideos: body.AllVideos}
	if body.Events != nil {
		req.Events, req.SetEvents = *body.Events, true
	}
	h, err := a.clients.Webhooks.UpdateWebhook(r.Context(), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, webhookToJSON(h))
	return nil
}

func (a *api) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.clients.Webhooks.DeleteWebhook(r.Context(), &pb.DeleteWebhookRequest{Id: r.PathValue("id")}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) listWebhookDeliveries(w http.ResponseWriter, r *http.Request) error {
	limit, err := limitParam(r)
	if err != nil {
		return err
	}
	resp, err := a.clients.Webhooks.ListWebhookDeliveries(r.Context(), &pb.ListWebhookDeliveriesRequest{
		Id: r.PathValue("id"), PageSize: limit, PageToken: r.URL.Query().Get("cursor")})
	if err != nil {
		return err
	}
	out := make([]deliveryJSON, 0, len(resp.GetDeliveries()))
	for _, d := range resp.GetDeliveries() {
		out = append(out, deliveryToJSON(d))
	}
	var next *string
	if t := resp.GetNextPageToken(); t != "" {
		next = &t
	}
	writeJSON(w, http.StatusOK, struct {
		Deliveries []deliveryJSON `json:"deliveries"`
		NextCursor *string        `json:"next_cursor"`
	}{out, next})
	return nil
}

func (a *api) testWebhook(w http.ResponseWriter, r *http.Request) error {
	d, err := a.clients.Webhooks.SendTestWebhook(r.Context(), &pb.SendTestWebhookRequest{Id: r.PathValue("id")})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, deliveryToJSON(d))
	return nil
}

func (a *api) rotateWebhookSecret(w http.ResponseWriter, r *http.Request) error {
	resp, err := a.clients.Webhooks.RotateWebhookSecret(r.Context(), &pb.RotateWebhookSecretRequest{Id: r.PathValue("id")})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, webhookSecretJSON{Secret: resp.GetSecret(), Webhook: webhookToJSON(resp.GetWebhook())})
	return nil
}
