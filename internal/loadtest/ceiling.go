package loadtest

import (
	"fmt"
	"net"
	"net/http"
	"time"
)

// ceiling is the bare handler a run measures first: the most this
// machine's HTTP stack answers, with the same client and connections.
type ceiling struct {
	URL string
	srv *http.Server
}

// ceilingBody is the small JSON object the ceiling answers.
var ceilingBody = []byte(`{"status":"ok"}` + "\n")

func startCeiling() (*ceiling, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("ceiling: %w", err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(ceilingBody)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
	}
	go func() { _ = srv.Serve(lis) }()
	return &ceiling{URL: "http://" + lis.Addr().String() + "/", srv: srv}, nil
}

func (c *ceiling) Close() { _ = c.srv.Close() }
