package loadtest

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func TestParseRate(t *testing.T) {
	for in, want := range map[string]Rate{"": {}, "0": {}, "500": {PerSecond: 500}, "2x": {Factor: 2}, "1.5x": {Factor: 1.5}} {
		if got, err := ParseRate(in); err != nil || got != want {
			t.Errorf("ParseRate(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"-1", "x", "0x", "fast", "-2x"} {
		if _, err := ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q) accepted", in)
		}
	}
}

var titles = []string{"Harbour lights at dusk", "Mountain river crossing", "Lighthouse keeper's morning", "A B"}

func TestTitleWords(t *testing.T) {
	got := strings.Join(titleWords(titles), ",")
	if got != "crossing,dusk,harbour,keeper,lighthouse,lights,morning,mountain,river" {
		t.Fatalf("titleWords = %s", got)
	}
}

// Every query is distinct, and every word of it is what someone looking
// for a title word types: the word, a prefix of it, or one typo away.
func TestSearchQueriesAreDistinctAndNearTheTitles(t *testing.T) {
	words := titleWords(titles)
	qs := searchQueries(words, 3000)
	if len(qs) != 3000 {
		t.Fatalf("%d queries from %d words, want 3000", len(qs), len(words))
	}
	seen := map[string]bool{}
	kinds := map[string]int{}
	for _, q := range qs {
		if seen[q] {
			t.Fatalf("query %q twice", q)
		}
		seen[q] = true
		for _, part := range strings.Fields(q) {
			kind := nearest(part, words)
			if kind == "" {
				t.Fatalf("query %q: %q is no title word, prefix or typo of one", q, part)
			}
			kinds[kind]++
		}
	}
	for _, k := range []string{"word", "prefix", "typo"} {
		if kinds[k] == 0 {
			t.Errorf("no query word is a %s: %v", k, kinds)
		}
	}
	if again := searchQueries(words, 3000); strings.Join(again, "|") != strings.Join(qs, "|") {
		t.Error("two runs made different queries")
	}
}

func TestSuggestPrefixesAreDistinct(t *testing.T) {
	words := titleWords(titles)
	ps := suggestPrefixes(words, 1000)
	if len(ps) < 500 {
		t.Fatalf("%d prefixes", len(ps))
	}
	seen := map[string]bool{}
	for _, p := range ps {
		if seen[p] || strings.TrimSpace(p) == "" {
			t.Fatalf("prefix %q twice or empty", p)
		}
		seen[p] = true
	}
	if searchQueries(nil, 10) != nil || suggestPrefixes(nil, 10) != nil {
		t.Error("queries made without a word")
	}
}

// nearest says how part relates to the closest of words.
func nearest(part string, words []string) string {
	for _, w := range words {
		if part == w {
			return "word"
		}
	}
	for _, w := range words {
		if len(part) >= 2 && strings.HasPrefix(w, part) {
			return "prefix"
		}
	}
	for _, w := range words {
		if oneEdit([]rune(part), []rune(w)) {
			return "typo"
		}
	}
	return ""
}

// oneEdit reports whether a is b with one letter dropped, added, replaced,
// or two neighbours swapped.
func oneEdit(a, b []rune) bool {
	switch len(a) - len(b) {
	case 0:
		var diff []int
		for i := range a {
			if a[i] != b[i] {
				diff = append(diff, i)
			}
		}
		return len(diff) == 1 || (len(diff) == 2 && diff[1] == diff[0]+1 && a[diff[0]] == b[diff[1]] && a[diff[1]] == b[diff[0]])
	case 1:
		a, b = b, a
		fallthrough
	case -1:
		for i := range b {
			if string(b[:i])+string(b[i+1:]) == string(a) {
				return true
			}
		}
	}
	return false
}

func TestOnlyLoopbackUnlessAllowed(t *testing.T) {
	for _, raw := range []string{"http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080", "https://127.0.0.2/"} {
		u, _ := url.Parse(raw)
		if err := checkHost(u, false); err != nil {
			t.Errorf("%s refused: %v", raw, err)
		}
	}
	for _, raw := range []string{"http://192.0.2.10:8080", "http://videos.example.org", "http://0.0.0.0:8080"} {
		u, _ := url.Parse(raw)
		if err := checkHost(u, false); err == nil || !strings.Contains(err.Error(), "--allow-remote") {
			t.Errorf("%s: %v, want a refusal naming --allow-remote", raw, err)
		}
		if err := checkHost(u, true); err != nil {
			t.Errorf("%s with remote hosts allowed: %v", raw, err)
		}
	}
	u, _ := url.Parse("ftp://127.0.0.1/")
	if err := checkHost(u, true); err == nil {
		t.Error("an ftp URL was accepted")
	}
}

func TestOptionsAreBounded(t *testing.T) {
	good := Options{Targets: []Target{{URL: "http://127.0.0.1:8080"}}}
	good.Defaults()
	if err := good.Check(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for name, change := range map[string]func(*Options){
		"no target":         func(o *Options) { o.Targets = nil },
		"an hour":           func(o *Options) { o.Duration = time.Hour },
		"a million workers": func(o *Options) { o.Connections = 1_000_000 },
		"no request":        func(o *Options) { o.MaxRequests = -1 },
		"an unknown one":    func(o *Options) { o.Endpoints = []string{"upload"} },
		"two of one name":   func(o *Options) { o.Targets = []Target{{Name: "a"}, {Name: "a"}} },
	} {
		o := good
		change(&o)
		if err := o.Check(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// The chart is well-formed SVG with two lines per scenario, and the table
// has a row per scenario with its ratio to the ceiling.
func TestReportRenders(t *testing.T) {
	series := []Point{{At: 0.125, P50: 0.2, P99: 1.5}, {At: 0.375, P50: 0.3, P99: 2}}
	rep := &Report{
		Started: time.Date(2026, 12, 2, 11, 0, 0, 0, time.UTC), Machine: Machine{CPUs: 2, Load: "3.10"}, Connections: 64, Duration: 0.5,
		Ceiling: Result{Endpoint: "ceiling", Mode: "max", Connections: 64, Seconds: 0.5, Requests: 1000, Throughput: 2000,
			Codes: map[string]int{"200": 1000}, VsCeiling: 1, Series: series},
		Runs: []Result{
			{Endpoint: "video", Target: "tcp", Mode: "max", Connections: 64, Offset: 0.5, Seconds: 0.5, Requests: 400, Throughput: 700,
				OKP99: 3.25, RefusedP99: 0.75, Refused: 20, Errors: 10, Codes: map[string]int{"200": 370, "503": 20, "none": 10}, VsCeiling: 0.35, Series: series},
			{Endpoint: "search", Target: "tcp & <more>", Mode: "rate", Rate: 1400, Offset: 1, Seconds: 0.5, Requests: 700, Throughput: 650,
				Codes: map[string]int{"200": 700}, VsCeiling: 0.325, Series: series},
		},
	}
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ceiling", "200:370 503:20 none:10", "0.350", "1400/s", "64 conns", "3.25", "0.75", "refused p99"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, table.String())
		}
	}
	if failed := rep.Failed(); len(failed) != 1 || !strings.Contains(failed[0], "video on tcp: 10 errors") {
		t.Errorf("Failed() = %v", failed)
	}

	var svg bytes.Buffer
	if err := rep.WriteSVG(&svg); err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(&svg)
	lines := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed: %v", err)
		}
		if el, ok := tok.(xml.StartElement); ok && el.Name.Local == "polyline" {
			lines++
		}
	}
	if lines != 6 {
		t.Errorf("%d lines drawn, want 6", lines)
	}
}

// An attack on the ceiling stops at its request bound at full speed, and
// never sends faster than its rate at a fixed rate.
func TestAttackIsBounded(t *testing.T) {
	c, err := startCeiling()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sc := scenario{endpoint: "ceiling", targets: []vegeta.Target{{Method: http.MethodGet, URL: c.URL}}}
	o := Options{Targets: []Target{{URL: c.URL}}, Duration: time.Minute, Connections: 4, MaxRequests: 50}
	o.Defaults()
	full := attack(t.Context(), time.Now(), sc, Rate{}, o)
	if full.Requests != 50 || full.Errors != 0 || full.Codes["200"] != 50 || full.Mode != "max" || full.Connections != 4 {
		t.Errorf("full speed, bounded to 50 requests: %+v", full)
	}

	o.Duration, o.MaxRequests = time.Second, 1000
	paced := attack(t.Context(), time.Now(), sc, Rate{PerSecond: 20}, o)
	if paced.Requests == 0 || paced.Requests > 21 || paced.Errors != 0 || paced.Mode != "rate" || paced.Rate != 20 {
		t.Errorf("20 a second for a second: %+v", paced)
	}
}

// A video listed ready whose playlist is not stored (as catalogue generate
// makes them) is passed over for segments; the others' segments are read.
func TestDiscoverySkipsVideosWithoutMedia(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/videos", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"videos":[
			{"id":"a","title":"Synthetic","hls_url":"/media/videos/a/master.m3u8"},
			{"id":"b","title":"Encoded","hls_url":"/media/videos/b/master.m3u8"}]}`)
	})
	mux.HandleFunc("GET /media/videos/b/master.m3u8", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n240p/index.m3u8\n")
	})
	mux.HandleFunc("GET /media/videos/b/240p/index.m3u8", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:2,\nseg0.m4s\n#EXT-X-ENDLIST\n")
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	base, _ := url.Parse(srv.URL)
	c, err := discover(t.Context(), srv.Client(), base, 2, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{srv.URL + "/media/videos/b/240p/init.mp4", srv.URL + "/media/videos/b/240p/seg0.m4s"}
	if !slices.Equal(c.ids, []string{"a", "b"}) || !slices.Equal(c.segments, want) {
		t.Fatalf("discovered ids %v, segments %v; want a and b, segments %v", c.ids, c.segments, want)
	}
}
