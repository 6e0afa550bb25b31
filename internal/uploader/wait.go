package uploader

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Settled is how an encode ended.
type Settled struct {
	State         string // "ready" or "failed"
	FailureReason string
}

// Wait polls the video until it is ready or failed, writing its state and
// encoding progress to o.Progress (when set) as it changes.
func Wait(ctx context.Context, o Options, videoID string) (Settled, error) {
	o, err := o.withDefaults()
	if err != nil {
		return Settled{}, err
	}
	c := &client{server: o.Server, token: o.Token, http: o.HTTPClient, retries: o.MaxRetries}
	var last string
	for {
		var v struct {
			State         string  `json:"state"`
			FailureReason string  `json:"failure_reason"`
			Progress      float64 `json:"progress"`
		}
		if err := c.callRetrying(ctx, http.MethodGet, "/api/v1/videos/"+videoID, nil, &v); err != nil {
			return Settled{}, fmt.Errorf("video %s: %w", videoID, err)
		}
		line := v.State
		if v.State == "processing" {
			line = fmt.Sprintf("processing %3.0f%%", 100*v.Progress)
		}
		if o.Progress != nil && line != last {
			fmt.Fprintf(o.Progress, "\r%-20s", line)
			last = line
		}
		if v.State == "ready" || v.State == "failed" {
			if o.Progress != nil {
				io.WriteString(o.Progress, "\n")
			}
			return Settled{State: v.State, FailureReason: v.FailureReason}, nil
		}
		if err := sleep(ctx, time.Second); err != nil {
			return Settled{}, err
		}
	}
}
