package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/cloudflix/cloudflix/internal/uploader"
)

func upload(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("upload", stderr)
	server := fs.String("server", "http://localhost:8080", "CloudFlix server URL")
	title := fs.String("title", "", "video title (required)")
	desc := fs.String("description", "", "video description")
	var tags stringList
	fs.Var(&tags, "tag", "a tag; repeat for more, or separate with commas")
	parallel := fs.Int("parallel", 4, "parts uploaded at once")
	quiet := fs.Bool("quiet", false, "no progress bar")
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
	o := uploader.Options{Server: *server, Parallel: *parallel}
	if !*quiet {
		o.Progress = stderr
	}
	id, err := uploader.Upload(ctx, o, fs.Arg(0), uploader.Metadata{Title: *title, Description: *desc, Tags: all})
	if err != nil {
		return fmt.Errorf("upload %s: %w", fs.Arg(0), err)
	}
	fmt.Fprintln(stdout, id)
	return nil
}
