package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cloudflix/cloudflix"
	accountsvc "github.com/cloudflix/cloudflix/account-svc"
	router "github.com/cloudflix/cloudflix/api-router"
	"github.com/cloudflix/cloudflix/internal/config"
	"github.com/cloudflix/cloudflix/internal/ops"
	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/rpc"
	"github.com/cloudflix/cloudflix/internal/telemetry"
	encodesvc "github.com/cloudflix/cloudflix/video-encode-svc"
	hostsvc "github.com/cloudflix/cloudflix/video-host-svc"
	searchsvc "github.com/cloudflix/cloudflix/video-search-svc"
	uploadsvc "github.com/cloudflix/cloudflix/video-upload-svc"
)

// Targets are the roles `serve` can run, in start order.
var Targets = []string{"router", "upload", "host", "search", "encode", "account"}

// ParseTargets reads a --target value: "all", one target or a comma list.
func ParseTargets(s string) ([]string, error) {
	if s == "all" {
		return Targets, nil
	}
	var out []string
	for _, t := range strings.Split(s, ",") {
		t = strings.TrimSpace(t)
		if !slices.Contains(Targets, t) {
			return nil, usageError{fmt.Sprintf("unknown target %q: choose all or some of %s", t, strings.Join(Targets, ", "))}
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	target := fs.String("target", "all", "what to run: all, or a comma list of "+strings.Join(Targets, ", "))
	if err := parse(fs, args); err != nil {
		return err
	}
	targets, err := ParseTargets(*target)
	if err != nil {
		return err
	}

	var proc config.Process
	if err := config.Load(&proc); err != nil {
		return err
	}
	var backends config.Backends
	if err := config.Load(&backends); err != nil {
		return err
	}
	if inProc := backends.InProcess(); len(inProc) > 0 && len(targets) < len(Targets) {
		return usageError{fmt.Sprintf("%s keeps data inside one process, so every target must run in it (--target=all); "+
			"to run targets apart, use postgres, s3, redis and rabbitmq (see `cloudflix env`)", strings.Join(inProc, ", "))}
	}
	name := "cloudflix"
	if len(targets) == 1 {
		name += "-" + targets[0]
	}
	tel, err := telemetry.Setup(ctx, telemetry.Options{Service: name, Version: cloudflix.Version, OTLPEndpoint: proc.OTLPEndpoint, LogLevel: proc.LogLevel, LogOutput: stderr})
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), proc.ShutdownWait)
		defer cancel()
		if err := tel.Shutdown(sctx); err != nil {
			slog.Warn("telemetry shutdown", "err", err)
		}
	}()
	key, err := internalKey(proc.InternalKey, len(targets) == len(Targets), backends.Embedded())
	if err != nil {
		return err
	}
	p, err := platform.NewProcess(tel.Registry, proc.ShutdownWait, backends, key)
	if err != nil {
		return err
	}
	defer p.Close()
	if proc.GRPCInMemory {
		p.CallInMemory(targets...)
	}
	slog.Info("starting", append(append([]any{"version", cloudflix.Version, "targets", targets}, config.LogAttrs(&proc)...), config.LogAttrs(&backends)...)...)

	g, gctx := errgroup.WithContext(ctx)
	for _, t := range targets {
		run, cfg, err := targetRunner(t, p)
		if err != nil {
			return err
		}
		slog.Info("target config", append([]any{"target", t}, config.LogAttrs(cfg)...)...)
		if rc, ok := cfg.(*config.Router); ok {
			g.Go(func() error { announce(gctx, p, *rc, backends); return nil })
		}
		g.Go(func() error {
			if err := run(gctx); err != nil {
				return fmt.Errorf("%s: %w", t, err)
			}
			return nil
		})
	}
	admin := http.NewServeMux()
	ops.Register(admin, p.Ready, p.Metrics)
	g.Go(func() error { return ops.ServeHTTP(gctx, proc.AdminAddr, admin, proc.ShutdownWait, ops.AdminTimeouts) })

	err = g.Wait()
	if err != nil {
		slog.Error("stopped", "err", err)
		return err
	}
	slog.Info("stopped")
	return nil
}

// internalKey is the configured internal key, or, when every target runs
// in this one process on the embedded backends and none is configured, a
// new random one: nothing outside the process needs to share it then. On
// any production backend the install may span processes and replicas, so
// a key of each start's own would not do.
func internalKey(configured config.Secret, allTargets, embedded bool) (rpc.Key, error) {
	if configured == "" {
		if !allTargets || !embedded {
			return nil, usageError{"CLOUDFLIX_INTERNAL_KEY must be set when targets run in separate processes or on a production backend " +
				"(postgres, s3, redis or rabbitmq), the same in each process (for example the output of `openssl rand -hex 32`)"}
		}
		k := make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return nil, err
		}
		return k, nil
	}
	k, err := hex.DecodeString(string(configured))
	if err != nil || len(k) < rpc.MinKeyBytes {
		return nil, usageError{fmt.Sprintf("CLOUDFLIX_INTERNAL_KEY must be %d or more bytes written in hex", rpc.MinKeyBytes)}
	}
	return k, nil
}

// announce says once, when the process is ready, where a person opens the
// platform (and where its data is kept, when it is kept here).
func announce(ctx context.Context, p *platform.Process, rc config.Router, b config.Backends) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for len(p.Ready.Run(ctx, 2*time.Second)) > 0 {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
	var attrs []any
	if len(b.InProcess()) > 0 {
		dir, err := filepath.Abs(b.DataDir)
		if err != nil {
			dir = b.DataDir
		}
		attrs = append(attrs, "data_dir", dir)
	}
	slog.Info("CloudFlix is running at "+siteURL(rc), attrs...)
}

// siteURL is where a browser reaches the router: the public URL when one is
// set, else its listen address, with a wildcard host read as this machine.
func siteURL(rc config.Router) string {
	if rc.PublicURL != "" {
		return strings.TrimRight(rc.PublicURL, "/")
	}
	host, port, err := net.SplitHostPort(rc.HTTPAddr)
	if err != nil {
		return "http://" + rc.HTTPAddr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// targetRunner returns the run function of one target with its loaded config.
func targetRunner(name string, p *platform.Process) (func(context.Context) error, any, error) {
	switch name {
	case "router":
		var c config.Router
		return func(ctx context.Context) error { return router.Run(ctx, c, p) }, &c, config.Load(&c)
	case "upload":
		var c config.Upload
		return func(ctx context.Context) error { return uploadsvc.Run(ctx, c, p) }, &c, config.Load(&c)
	case "host":
		var c config.Host
		return func(ctx context.Context) error { return hostsvc.Run(ctx, c, p) }, &c, config.Load(&c)
	case "search":
		var c config.Search
		return func(ctx context.Context) error { return searchsvc.Run(ctx, c, p) }, &c, config.Load(&c)
	case "encode":
		var c config.Encode
		return func(ctx context.Context) error { return encodesvc.Run(ctx, c, p) }, &c, config.Load(&c)
	case "account":
		var c config.Account
		return func(ctx context.Context) error { return accountsvc.Run(ctx, c, p) }, &c, config.Load(&c)
	}
	return nil, nil, usageError{"unknown target " + name}
}
