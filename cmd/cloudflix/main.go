// Command cloudflix is the one binary of the CloudFlix video platform: it
// serves any set of targets, migrates the schema, uploads videos and tells
// its version.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/cloudflix/cloudflix/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "cloudflix:", err)
		os.Exit(cli.ExitCode(err))
	}
}
