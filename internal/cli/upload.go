package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"

	"github.com/cloudflix/cloudflix"
	"github.com/cloudflix/cloudflix/internal/telemetry"
	"github.com/cloudflix/cloudflix/internal/uploader"
)

func upload(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("upload", stderr)
	server := fs.String("server", "http://localhost:8080", "CloudFlix server URL")
	token := fs.String("token", "", "API token (default: $CLOUDFLIX_TOKEN, else the one `cloudflix login` kept)")
	title := fs.String("title", "", "video title (required)")
	privacy := fs.String("privacy", "public", "who may see the video: public, unlisted or private")
	desc := fs.String("description", "", "video description")
	var tags stringList
	fs.Var(&tags, "tag", "a tag; repeat for more, or separate with commas")
	parallel := fs.Int("parallel", 4, "parts uploaded at once")
	quiet := fs.Bool("quiet", false, "no progress bar")
	wait := fs.Bool("wait", false, "after the upload, wait until the video is encoded; fail if it cannot be")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"upload takes exactly one FILE"}
	}
	if strings.TrimSpace(*title) == "" {
		return usageError{"--title is required"}
	}
	var all []string
	for _, t := range tags {
		all = append(all, strings.Split(t, ",")...)
	}

	// Every request of this upload carries one trace context, so the
	// upload, its encode and the waiting read as one trace on the server
	// side; with CLOUDFLIX_OTLP_ENDPOINT set, the client's spans go there
	// too.
	tp, err := telemetry.SetupTracing(ctx, "cloudflix-cli", cloudflix.Version, os.Getenv("CLOUDFLIX_OTLP_ENDPOINT"))
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := tp.Shutdown(sctx); err != nil {
			slog.Warn("flush traces", "err", err)
		}
	}()
	ctx, span := otel.Tracer("github.com/cloudflix/cloudflix/internal/cli").Start(ctx, "upload "+filepath.Base(fs.Arg(0)))
	defer span.End()

	bearer, err := tokenFor(*token, *server)
	if err != nil {
		return err
	}
	if bearer == "" {
		return usageError{"sign in first: cloudflix login --server " + *server + " (or pass --token, or set CLOUDFLIX_TOKEN)"}
	}
	o := uploader.Options{Server: *server, Token: bearer, Parallel: *parallel, HTTPClient: &http.Client{Transport: otelhttp.NewTransport(http.DefaultTransport)}}
	if !*quiet {
		o.Progress = stderr
	}
	id, err := uploader.Upload(ctx, o, fs.Arg(0), uploader.Metadata{Title: *title, Description: *desc, Tags: all, Privacy: *privacy})
	if err != nil {
		return err // it names the file already
	}
	fmt.Fprintln(stdout, id)
	if !*wait {
		return nil
	}
	settled, err := uploader.Wait(ctx, o, id)
	if err != nil {
		return fmt.Errorf("wait for %s: %w", id, err)
	}
	if settled.State == "failed" {
		return errors.New("video " + id + " could not be encoded: " + settled.FailureReason)
	}
	return nil
}
