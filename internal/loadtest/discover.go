package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// catalogue is what a run learns of a platform before it measures it,
// through the same public API a visitor uses.
type catalogue struct {
	ids      []string // ready public videos, newest first
	titles   []string
	segments []string // media segment URLs of the first segmentVideos of them
}

// segmentVideos is how many videos' segments are read: enough that a
// run does not read one file over and over.
const segmentVideos = 20

// maxSegments bounds the segment URLs kept.
const maxSegments = 2000

// listPage is the most the list API gives at once.
const listPage = 100

type listedVideo struct {
	ID     string  `json:"id"`
	Title  string  `json:"title"`
	HLSURL *string `json:"hls_url"`
}

// discover pages through the latest videos until it has want of them,
// then reads the playlists of the first few for their segments.
func discover(ctx context.Context, client *http.Client, base *url.URL, want int, allowRemote bool) (catalogue, error) {
	var c catalogue
	var playlists []string
	cursor := ""
	for len(c.ids) < want {
		q := url.Values{"limit": {fmt.Sprint(min(listPage, want-len(c.ids)))}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page struct {
			Videos     []listedVideo `json:"videos"`
			NextCursor *string       `json:"next_cursor"`
		}
		if err := getJSON(ctx, client, base.JoinPath("/api/v1/videos").String()+"?"+q.Encode(), &page); err != nil {
			return c, err
		}
		for _, v := range page.Videos {
			c.ids = append(c.ids, v.ID)
			c.titles = append(c.titles, v.Title)
			if v.HLSURL != nil && len(playlists) < segmentVideos {
				playlists = append(playlists, *v.HLSURL)
			}
		}
		if page.NextCursor == nil || *page.NextCursor == "" || len(page.Videos) == 0 {
			break
		}
		cursor = *page.NextCursor
	}
	if len(c.ids) == 0 {
		return c, fmt.Errorf("%s lists no ready public video: upload some first", base)
	}
	for _, p := range playlists {
		master, err := base.Parse(p)
		if err != nil {
			return c, fmt.Errorf("playlist URL %q: %w", p, err)
		}
		if err := checkHost(master, allowRemote); err != nil {
			return c, err
		}
		segs, err := segmentsOf(ctx, client, master)
		if err != nil {
			return c, err
		}
		c.segments = append(c.segments, segs...)
		if len(c.segments) >= maxSegments {
			c.segments = c.segments[:maxSegments]
			break
		}
	}
	return c, nil
}

// segmentsOf reads a master playlist and its first variant's playlist and
// returns the URLs of that variant's init section and segments.
func segmentsOf(ctx context.Context, client *http.Client, master *url.URL) ([]string, error) {
	variants, _, err := playlistURIs(ctx, client, master)
	if err != nil {
		return nil, err
	}
	if len(variants) == 0 {
		return nil, fmt.Errorf("%s names no variant", master)
	}
	segs, mapURI, err := playlistURIs(ctx, client, variants[0])
	if err != nil {
		return nil, err
	}
	if mapURI != nil {
		segs = append([]*url.URL{mapURI}, segs...)
	}
	out := make([]string, 0, len(segs))
	for _, s := range segs {
		out = append(out, s.String())
	}
	return out, nil
}

// playlistURIs returns the URIs an HLS playlist names, resolved against
// it, and its EXT-X-MAP init section if it has one.
func playlistURIs(ctx context.Context, client *http.Client, playlist *url.URL) ([]*url.URL, *url.URL, error) {
	body, err := get(ctx, client, playlist.String())
	if err != nil {
		return nil, nil, err
	}
	var uris []*url.URL
	var mapURI *url.URL
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		ref := line
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, "#EXT-X-MAP:"):
			_, after, ok := strings.Cut(line, `URI="`)
			if !ok {
				continue
			}
			ref, _, _ = strings.Cut(after, `"`)
		case strings.HasPrefix(line, "#"):
			continue
		}
		u, err := playlist.Parse(ref)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: URI %q: %w", playlist, ref, err)
		}
		if strings.HasPrefix(line, "#EXT-X-MAP:") {
			mapURI = u
		} else {
			uris = append(uris, u)
		}
	}
	return uris, mapURI, nil
}

// maxDiscoveryBody bounds what one discovery request reads.
const maxDiscoveryBody = 16 << 20

func get(ctx context.Context, client *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDiscoveryBody))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", u, resp.Status, bytes.TrimSpace(body))
	}
	return body, nil
}

func getJSON(ctx context.Context, client *http.Client, u string, v any) error {
	body, err := get(ctx, client, u)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	return nil
}

// processCPU reads the CPU seconds the process behind base has used, from
// its Prometheus metrics.
func processCPU(ctx context.Context, client *http.Client, base *url.URL) (float64, error) {
	body, err := get(ctx, client, base.JoinPath("/metrics").String())
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "process_cpu_seconds_total "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("%s/metrics has no process_cpu_seconds_total", base)
}

// checkHost refuses a URL whose host is not this machine's loopback,
// unless remote hosts are allowed: a load test aimed at someone else's
// server by a typo is an attack.
func checkHost(u *url.URL, allowRemote bool) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%s: only http and https URLs can be measured", u.Redacted())
	}
	if allowRemote {
		return nil
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%s is not a loopback address (127.0.0.1, ::1, localhost); measuring another host needs --allow-remote", host)
}
