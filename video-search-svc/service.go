// Package searchsvc finds ready videos by the words of their title, tags
// and description, by word prefix as the user types, and despite small
// typos; the matching itself is the metadata store's full-text and trigram
// search. Hot queries are answered from the cache for a few seconds. It never
// returns a video that is not ready.
package searchsvc

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	"github.com/cloudflix/cloudflix/internal/cache"
	"github.com/cloudflix/cloudflix/internal/rpc"
	"github.com/cloudflix/cloudflix/internal/video"
	"github.com/cloudflix/cloudflix/internal/videocache"
	"github.com/cloudflix/cloudflix/internal/videopb"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// Store is the search side of the metadata store.
type Store interface {
	Search(ctx context.Context, query string, limit, offset int) ([]video.SearchHit, error)
	Suggest(ctx context.Context, prefix string, limit int) ([]string, error)
}

// Cache holds hot result pages.
type Cache interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
}

const (
	maxOffset     = 1000
	maxQueryRunes = 200
)

// The pages of results and of suggestions.
var (
	resultPage  = video.PageRule{Default: 20, Max: 100}
	suggestPage = video.PageRule{Default: 8, Max: 20}
)

// Service implements the SearchService gRPC API.
type Service struct {
	pb.UnimplementedSearchServiceServer
	store   Store
	cache   Cache
	ttl     time.Duration
	latency *prometheus.HistogramVec
}

// New returns the service; results are cached for ttl (0: not cached).
func New(store Store, c Cache, ttl time.Duration, reg prometheus.Registerer) *Service {
	s := &Service{store: store, cache: c, ttl: ttl, latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "cloudflix_search_duration_seconds",
		Help:    "Time to answer a search or suggestion, by kind and whether the cache answered.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"kind", "cache"})}
	if reg != nil {
		reg.MustRegister(s.latency)
	}
	return s
}

// normalize folds the query's white space and checks it: a query is
// required and bounded.
func normalize(q string) (string, error) {
	q = strings.Join(strings.Fields(q), " ")
	switch {
	case q == "":
		return "", video.Invalid("query is required")
	case utf8.RuneCountInString(q) > maxQueryRunes:
		return "", video.Invalid("query is longer than %d characters", maxQueryRunes)
	}
	return q, nil
}

// Search returns a page of ready videos matching the query, best first.
func (s *Service) Search(ctx context.Context, req *pb.SearchRequest) (*pb.SearchResponse, error) {
	q, err := normalize(req.GetQuery())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	size, err := resultPage.Size(req.PageSize)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	offset, err := decodeOffset(req.GetCursor())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	resp := &pb.SearchResponse{}
	err = s.cached(ctx, "search", fmt.Sprintf("%s\x00%d\x00%d", strings.ToLower(q), size, offset), resp, func() error {
		hits, err := s.store.Search(ctx, q, size+1, offset)
		if err != nil {
			return fmt.Errorf("search %q: %w", q, err)
		}
		if len(hits) > size {
			hits = hits[:size]
			resp.NextCursor = encodeOffset(offset + size)
		}
		for _, h := range hits {
			resp.Results = append(resp.Results, &pb.SearchResult{Video: videopb.ToProto(h.Video), Score: h.Score})
		}
		return nil
	})
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	return resp, nil
}

// Suggest completes a partly typed query.
func (s *Service) Suggest(ctx context.Context, req *pb.SuggestRequest) (*pb.SuggestResponse, error) {
	q, err := normalize(req.GetPrefix())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	limit, err := suggestPage.Size(req.Limit)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	resp := &pb.SuggestResponse{}
	err = s.cached(ctx, "suggest", fmt.Sprintf("%s\x00%d", strings.ToLower(q), limit), resp, func() error {
		out, err := s.store.Suggest(ctx, q, limit)
		resp.Suggestions = out
		if err != nil {
			return fmt.Errorf("suggest %q: %w", q, err)
		}
		return nil
	})
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	return resp, nil
}

// cached fills resp from the cache, or by calling load and caching what it
// put in resp. A cache failure only costs speed.
func (s *Service) cached(ctx context.Context, kind, key string, resp proto.Message, load func() error) error {
	start := time.Now()
	if s.ttl > 0 {
		// Pages are cached per generation: a change of any video starts a
		// new one, so what a change hides or shows is seen at once.
		if gen, err := s.cache.Get(ctx, videocache.SearchGenerationKey); err == nil {
			key += "\x00" + string(gen)
		}
	}
	sum := sha256.Sum256([]byte(key))
	ckey := kind + ":" + hex.EncodeToString(sum[:16])
	if s.ttl > 0 {
		b, err := s.cache.Get(ctx, ckey)
		if err == nil && proto.Unmarshal(b, resp) == nil {
			s.latency.WithLabelValues(kind, "hit").Observe(time.Since(start).Seconds())
			return nil
		}
		if err != nil && !errors.Is(err, cache.ErrMiss) {
			slog.WarnContext(ctx, "search cache unavailable", "err", err)
		}
		proto.Reset(resp)
	}
	if err := load(); err != nil {
		return err
	}
	s.latency.WithLabelValues(kind, "miss").Observe(time.Since(start).Seconds())
	if s.ttl > 0 {
		if b, err := proto.Marshal(resp); err == nil {
			if err := s.cache.Set(ctx, ckey, b, s.ttl); err != nil {
				slog.WarnContext(ctx, "search cache set failed", "err", err)
			}
		}
	}
	return nil
}

func encodeOffset(n int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o" + strconv.Itoa(n)))
}

func decodeOffset(c string) (int, error) {
	if c == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) < 2 || b[0] != 'o' {
		return 0, video.Invalid("cursor is not one this API returned")
	}
	// Only the cursor encodeOffset wrote is read: "o+5", "o05" or other
	// bits in the last character would be other cursors of the same page,
	// ones this API never returned.
	n, err := strconv.Atoi(string(b[1:]))
	if err != nil || n < 0 || n > maxOffset || encodeOffset(n) != c {
		return 0, video.Invalid("cursor is not one this API returned")
	}
	return n, nil
}
