package router

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"

	accountsvc "github.com/cloudflix/cloudflix/account-svc"
	"github.com/cloudflix/cloudflix/internal/account"
	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/cache/rediscache"
	"github.com/cloudflix/cloudflix/internal/config"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	"github.com/cloudflix/cloudflix/internal/store/pgstore"
	"github.com/cloudflix/cloudflix/internal/store/storetest"
	"github.com/cloudflix/cloudflix/internal/testenv"
	"github.com/cloudflix/cloudflix/internal/video"
	"github.com/cloudflix/cloudflix/internal/videocache"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
	hostsvc "github.com/cloudflix/cloudflix/video-host-svc"
)

// statements counts the SQL statements a pgx pool sends, by their text.
type statements struct {
	mu   sync.Mutex
	seen []string
}

func (s *statements) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	s.mu.Lock()
	s.seen = append(s.seen, strings.Join(strings.Fields(data.SQL), " "))
	s.mu.Unlock()
	return ctx
}

func (s *statements) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// take returns the statements sent since the last take.
func (s *statements) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.seen
	s.seen = nil
	return out
}

// TestWatchPageQueries counts the SQL statements that the API requests of
// a watch-page load send to PostgreSQL (behind Redis), through the real
// edge and services: the signed-in user (GET /api/v1/me), the video, the
// viewer's like (signed in only), the first page of comments, the view
// once playback starts, and, opened from a playlist, the playlist and its
// items. A
// viewer's first load fills the caches; their reload is the cached load
// whose figures the README gives. Once cached, a load costs no query for
// the video, its counts of likes and comments, the viewer's like or the
// view: only the edge's look-up of who is signed in (one indexed read of
// the session per request), the account service's answer to /api/v1/me
// and the page of comments (one keyset read of comments_video_idx, the
// count coming from the video's counter) read the database.
func TestWatchPageQueries(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	url := testenv.Postgres(t)
	must(t, pgstore.Migrate(ctx, pgstore.Options{URL: url}))
	counted := &statements{}
	db, err := pgstore.Open(ctx, pgstore.Options{URL: url, Tracer: counted})
	must(t, err)
	t.Cleanup(db.Close)
	rc, err := rediscache.Open(ctx, rediscache.Options{Addr: testenv.RedisAddr(), Prefix: testenv.RedisPrefix(t), Timeout: 5 * time.Second})
	must(t, err)
	t.Cleanup(func() { rc.Close() })

	host := hostsvc.New(db, videocache.New(rc, time.Minute, nil), rc, hostsvc.ViewRule{Window: time.Hour, Key: []byte("watch page viewers")}, nil)
	accounts, err := accountsvc.New(db, config.Account{SignUp: "open", SessionTTL: time.Hour, InviteTTL: time.Hour,
		Quotas: config.Quotas{Storage: account.Unlimited, Daily: account.Unlimited}}, platformtest.Key, nil)
	must(t, err)
	conn := platformtest.Serve(t, func(s *grpc.Server) {
		pb.RegisterHostServiceServer(s, host)
		pb.RegisterCommentServiceServer(s, hostsvc.NewComments(host, db, video.DefaultCommentRate))
		pb.RegisterAccountServiceServer(s, accounts)
		pb.RegisterPlaylistServiceServer(s, hostsvc.NewPlaylists(db, videocache.New(rc, time.Minute, nil)))
	})
	h := edge(t, Options{Logger: discardLogger(), Clients: Clients{
		Host: pb.NewHostServiceClient(conn), Account: pb.NewAccountServiceClient(conn),
		Comments: pb.NewCommentServiceClient(conn), Playlist: pb.NewPlaylistServiceClient(conn),
	}})

	owner := storetest.NewUser(t, db, testenv.Name("own"), auth.RoleUser)
	v := storetest.ReadyBy(t, db, owner.ID, video.PrivacyPublic, "Watched")
	storetest.AddComment(t, db, v.ID, owner.ID, "", "First", time.Now())
	// The page opened from a playlist (?list=) reads the playlist and its
	// items too: 40 videos, one page.
	list := storetest.NewPlaylist(t, db, owner.ID, video.PrivacyPublic, "Watched in order")
	storetest.AddToPlaylist(t, db, list.ID, v.ID)
	for i := range 39 {
		storetest.AddToPlaylist(t, db, list.ID, storetest.ReadyBy(t, db, owner.ID, video.PrivacyPublic, fmt.Sprintf("Next %d", i)).ID)
	}
	w := &world{db: db}
	cookieOf := func(name string) *http.Cookie {
		_, secret := w.newSession(t, storetest.NewUser(t, db, testenv.Name(name), auth.RoleUser))
		return &http.Cookie{Name: sessionCookie, Value: secret}
	}
	ada, bob := cookieOf("ada"), cookieOf("bob")
	loads := []struct {
		name   string
		cookie *http.Cookie
		addr   string
		cached bool // whether the video, likes and view may cost no query
	}{
		{"a signed-in viewer's first load (caches cold)", ada, "192.0.2.1", false},
		{"their reload (cached)", ada, "192.0.2.1", true},
		{"another signed-in viewer's first load (the video cached)", bob, "192.0.2.2", false},
		{"an anonymous viewer's load (cached)", nil, "192.0.2.3", true},
	}
	for _, l := range loads {
		counted.take()
		requests := []struct{ method, path string }{
			{http.MethodGet, "/api/v1/me"},
			{http.MethodGet, "/api/v1/videos/" + v.ID},
			{http.MethodGet, "/api/v1/videos/" + v.ID + "/like"},
			{http.MethodGet, "/api/v1/videos/" + v.ID + "/comments"},
			{http.MethodPost, "/api/v1/videos/" + v.ID + "/views"},
			{http.MethodGet, "/api/v1/playlists/" + list.ID},
			{http.MethodGet, "/api/v1/playlists/" + list.ID + "/items?limit=200"},
		}
		var byRequest []string
		total := 0
		for _, r := range requests {
			req := httptest.NewRequest(r.method, r.path, nil)
			req.Header.Set("Origin", "http://example.com")
			req.RemoteAddr = l.addr + ":1234"
			if l.cookie != nil {
				req.AddCookie(l.cookie)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s %s: %d %s", r.method, r.path, rec.Code, rec.Body)
			}
			sent := counted.take()
			total += len(sent)
			path := strings.Replace(strings.Replace(r.path, v.ID, "{id}", 1), list.ID, "{list}", 1)
			byRequest = append(byRequest, fmt.Sprintf("%s %s: %d → %d statements", r.method, path, rec.Code, len(sent)))
			// The page of comments, the playlist and the page of its items
			// (after the playlist, whose privacy decides who sees them) are
			// read each time, each in one statement however long.
			var reads []string
			switch {
			case strings.HasSuffix(r.path, "/comments"):
				reads = []string{"FROM comments c"}
			case strings.HasSuffix(path, "/items?limit=200"):
				reads = []string{"FROM playlists ", "FROM playlist_items"}
			case strings.HasSuffix(path, "{list}"):
				reads = []string{"FROM playlists "}
			}
			n := map[string]int{}
			for _, q := range sent {
				i := slices.IndexFunc(reads, func(read string) bool { return strings.Contains(q, read) })
				switch {
				case i >= 0:
					n[reads[i]]++
				case l.cached && r.path != "/api/v1/me" && !strings.Contains(q, "FROM sessions"):
					t.Errorf("%s: %s %s sent %q", l.name, r.method, r.path, q)
				}
			}
			for _, read := range reads {
				if n[read] != 1 {
					t.Errorf("%s: %s %s sent %d statements %s, want 1", l.name, r.method, path, n[read], read)
				}
			}
		}
		t.Logf("%s: %d statements\n\t%s", l.name, total, strings.Join(byRequest, "\n\t"))
	}
}
