package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/cloudflix/cloudflix/internal/loadtest"
)

func loadTest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("loadtest", stderr)
	var servers stringList
	fs.Var(&servers, "server", "CloudFlix server URL (default http://localhost:8080); repeat as NAME=URL to measure several side by side, endpoint by endpoint")
	var metrics stringList
	fs.Var(&metrics, "metrics", "admin address of the server, whose /metrics gives its CPU time a request, e.g. http://127.0.0.1:9100; NAME=URL with several servers")
	endpoints := fs.String("endpoints", strings.Join(loadtest.Endpoints, ","), "endpoints to measure, comma separated")
	duration := fs.Duration("duration", 10*time.Second, "how long each endpoint is driven on each server (at most "+loadtest.MaxDuration.String()+")")
	connections := fs.Int("connections", 64, "requests in flight at full speed, each on its own connection")
	rate := fs.String("rate", "0", "0: full speed; N: N requests a second; Nx: N times the rate a full-speed run of the endpoint reached just before")
	maxWorkers := fs.Int("max-workers", 1000, "at a fixed rate, the most requests in flight")
	maxRequests := fs.Int("max-requests", 1_000_000, "the most requests sent to one endpoint on one server")
	timeout := fs.Duration("timeout", 10*time.Second, "time allowed for each request")
	videos := fs.Int("videos", 100, "video ids that video info cycles through, from the latest list")
	queries := fs.Int("queries", 100_000, "distinct search queries and suggestion prefixes made from the titles")
	rangeBytes := fs.Int("range-bytes", 64<<10, "bytes each segment read asks for with Range")
	jsonOut := fs.String("json", "", "also write the results as JSON to this file")
	svgOut := fs.String("svg", "", "also draw the latency over time as SVG to this file")
	allowRemote := fs.Bool("allow-remote", false, "allow servers that are not loopback addresses")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError{"loadtest takes no arguments, only flags"}
	}
	r, err := loadtest.ParseRate(*rate)
	if err != nil {
		return usageError{err.Error()}
	}
	if len(servers) == 0 {
		servers = stringList{"http://localhost:8080"}
	}
	var targets []loadtest.Target
	for _, s := range servers {
		t := loadtest.Target{URL: s}
		if name, u, ok := strings.Cut(s, "="); ok && !strings.Contains(name, "/") {
			t = loadtest.Target{Name: name, URL: u}
		} else if len(servers) > 1 {
			return usageError{"with several --server flags, name each: --server NAME=URL"}
		}
		targets = append(targets, t)
	}
	for _, m := range metrics {
		name, u, named := strings.Cut(m, "=")
		if !named || strings.Contains(name, "/") {
			name, u = "", m
		}
		found := false
		for i := range targets {
			if targets[i].Name == name {
				targets[i].Metrics, found = u, true
			}
		}
		if !found {
			return usageError{fmt.Sprintf("--metrics %s names no --server", m)}
		}
	}
	o := loadtest.Options{
		Targets: targets, AllowRemote: *allowRemote, Endpoints: strings.Split(*endpoints, ","),
		Duration: *duration, Connections: *connections, Rate: r, MaxWorkers: *maxWorkers, MaxRequests: *maxRequests,
		Timeout: *timeout, Videos: *videos, Queries: *queries, RangeBytes: *rangeBytes, Log: stderr,
	}
	o.Defaults()
	if err := o.Check(); err != nil {
		return usageError{err.Error()}
	}
	rep, err := loadtest.Run(ctx, o)
	if rep == nil {
		return err
	}
	if werr := rep.WriteTable(stdout); werr != nil {
		return werr
	}
	for _, out := range []struct {
		path  string
		write func(io.Writer) error
	}{{*jsonOut, rep.WriteJSON}, {*svgOut, rep.WriteSVG}} {
		if out.path == "" {
			continue
		}
		if werr := writeFileWith(out.path, out.write); werr != nil {
			return werr
		}
	}
	if err != nil {
		return err
	}
	if failed := rep.Failed(); len(failed) > 0 {
		return errors.New("requests failed:\n  " + strings.Join(failed, "\n  "))
	}
	return nil
}

func writeFileWith(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
