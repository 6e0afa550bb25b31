// Package router is CloudFlix's only HTTP edge: it translates the REST/JSON
// API under /api/v1 into calls on the gRPC services, serves encoded media
// under /media/ and publishes the OpenAPI document that describes both.
//
// It decides nothing about videos (the services do) and must never talk to a
// database, cache or queue, never hold state between requests, and never
// serve an upload's source object: only keys under "videos/" leave through
// /media/.
package router

import (
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cloudflix/cloudflix/internal/blob"
	"github.com/cloudflix/cloudflix/internal/platform"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// OpenAPI is the OpenAPI document of the API, served at /api/openapi.json.
// It is written by hand; the tests hold it and the routes to each other.
//
//go:embed openapi.json
var OpenAPI []byte

// MediaStore opens stored objects for /media/. Only keys under "videos/"
// are ever asked for.
type MediaStore interface {
	// Open returns blob.ErrNotFound when there is no object under key.
	Open(ctx context.Context, key string) (blob.Object, error)
}

// Clients are the gRPC services the edge calls. A nil client makes the
// routes that need it answer 503: the edge was built without that service.
type Clients struct {
	Upload  pb.UploadServiceClient
	Host    pb.HostServiceClient
	Search  pb.SearchServiceClient
	Encode  pb.EncodeServiceClient
	Account pb.AccountServiceClient
	// Webhooks is served by the upload target, beside the sender of the
	// deliveries.
	Webhooks pb.WebhookServiceClient
	// Comments is the host target's CommentService, on Host's connection.
	Comments pb.CommentServiceClient
	// Moderation is served by the host target, on the Host client's
	// connection.
	Moderation pb.ModerationServiceClient
	// Caption is served by the upload target (video-upload-svc/captions.go
	// says why), on the same connection as Upload.
	Caption pb.CaptionServiceClient
	// Playlist is the host target's PlaylistService, on Host's connection.
	Playlist pb.PlaylistServiceClient
}

// Options configure the edge.
type Options struct {
	Clients Clients
	Media   MediaStore
	// PublicBaseURL is the site's address as people reach it: it prefixes
	// the media URLs in video JSON (hls_url, …), is the only Host and
	// Origin the edge answers, and makes the session cookie Secure when it
	// is https. "" gives relative URLs and believes any Host.
	PublicBaseURL string
	// MediaKey signs the links to unlisted and private media (32+ bytes);
	// every replica of the edge needs the same.
	MediaKey []byte
	// TrustedProxies are the addresses or CIDR networks of the proxies in
	// front of the edge, whose X-Forwarded-For names the client.
	TrustedProxies []string
	// Metrics is where the RED metrics are registered; nil registers none.
	Metrics prometheus.Registerer
	// Logger receives server-side failures (the 5xx a client sees only as a
	// generic message); nil uses slog.Default().
	Logger *slog.Logger
	// UI serves the web UI: every GET or HEAD outside /api/, /media/ and the
	// ops paths goes to it. nil serves no UI.
	UI http.Handler
	// UploadParts takes the part uploads of local storage, under
	// platform.UploadPartsPath; nil when storage takes them itself (S3).
	UploadParts http.Handler
	// Transfer is the slowest a part upload or a media answer may go;
	// zero takes DefaultTransfer.
	Transfer Transfer
	// Admission bounds the requests under way per route class and the
	// rate of each client; zero limits take DefaultAdmission's, a zero
	// rate sets none.
	Admission Admission
}

// partsPrefix is where local storage's part URLs point.
const partsPrefix = platform.UploadPartsPath + "/"

// route is one endpoint of the edge. The table below is the single list of
// them: New registers it and the tests compare it with the OpenAPI document
// and hold every one to the authorization matrix.
type route struct {
	method string
	path   string // http.ServeMux path pattern
	handle func(a *api, w http.ResponseWriter, r *http.Request) error
}

var routes = []route{
	{http.MethodPost, "/api/v1/auth/signup", (*api).signUp},
	{http.MethodPost, "/api/v1/auth/signin", (*api).signIn},
	{http.MethodPost, "/api/v1/auth/signout", (*api).signOut},
	{http.MethodGet, "/api/v1/auth/options", (*api).signInOptions},
	{http.MethodGet, "/auth/oidc/login", (*api).oidcLogin},
	{http.MethodGet, "/auth/oidc/callback", (*api).oidcCallback},
	{http.MethodGet, "/api/v1/me", (*api).me},
	{http.MethodPost, "/api/v1/me/password", (*api).changePassword},
	{http.MethodGet, "/api/v1/me/sessions", (*api).listSessions},
	{http.MethodDelete, "/api/v1/me/sessions/{id}", (*api).revokeSession},
	{http.MethodGet, "/api/v1/me/tokens", (*api).listTokens},
	{http.MethodPost, "/api/v1/me/tokens", (*api).createToken},
	{http.MethodDelete, "/api/v1/me/tokens/{id}", (*api).revokeToken},
	{http.MethodGet, "/api/v1/me/videos", (*api).myVideos},
	{http.MethodGet, "/api/v1/me/playlists", (*api).myPlaylists},
	{http.MethodPost, "/api/v1/invites", (*api).createInvite},
	{http.MethodGet, "/api/v1/users/{username}", (*api).getUser},
	{http.MethodGet, "/api/v1/users/{username}/videos", (*api).channelVideos},
	{http.MethodGet, "/api/v1/users/{username}/playlists", (*api).userPlaylists},
	{http.MethodGet, "/api/v1/admin/users", (*api).listUsers},
	{http.MethodPost, "/api/v1/admin/users", (*api).createUser},
	{http.MethodPatch, "/api/v1/admin/users/{id}", (*api).updateUser},
	{http.MethodPost, "/api/v1/uploads", (*api).createUpload},
	{http.MethodGet, "/api/v1/uploads/{id}", (*api).getUpload},
	{http.MethodPost, "/api/v1/uploads/{id}/parts/sign", (*api).signParts},
	{http.MethodGet, "/api/v1/uploads/{id}/parts", (*api).listParts},
	{http.MethodPost, "/api/v1/uploads/{id}/complete", (*api).completeUpload},
	{http.MethodDelete, "/api/v1/uploads/{id}", (*api).abortUpload},
	{http.MethodGet, "/api/v1/videos", (*api).listVideos},
	{http.MethodGet, "/api/v1/videos/{id}", (*api).getVideo},
	{http.MethodPatch, "/api/v1/videos/{id}", (*api).updateVideo},
	{http.MethodDelete, "/api/v1/videos/{id}", (*api).deleteVideo},
	{http.MethodPost, "/api/v1/videos/{id}/views", (*api).recordView},
	{http.MethodGet, "/api/v1/videos/{id}/like", (*api).getLikes},
	{http.MethodPut, "/api/v1/videos/{id}/like", (*api).likeVideo},
	{http.MethodDelete, "/api/v1/videos/{id}/like", (*api).unlikeVideo},
	{http.MethodGet, "/api/v1/videos/{id}/comments", (*api).listComments},
	{http.MethodPost, "/api/v1/videos/{id}/comments", (*api).postComment},
	{http.MethodGet, "/api/v1/comments/{id}/replies", (*api).listReplies},
	{http.MethodPost, "/api/v1/comments/{id}/replies", (*api).postReply},
	{http.MethodPatch, "/api/v1/comments/{id}", (*api).editComment},
	{http.MethodDelete, "/api/v1/comments/{id}", (*api).deleteComment},
	{http.MethodPost, "/api/v1/videos/{id}/reencode", (*api).reencode},
	{http.MethodGet, "/api/v1/videos/{id}/captions", (*api).listCaptions},
	{http.MethodPut, "/api/v1/videos/{id}/captions/{lang}", (*api).putCaption},
	{http.MethodDelete, "/api/v1/videos/{id}/captions/{lang}", (*api).deleteCaption},
	{http.MethodPost, "/api/v1/playlists", (*api).createPlaylist},
	{http.MethodGet, "/api/v1/playlists/{id}", (*api).getPlaylist},
	{http.MethodPatch, "/api/v1/playlists/{id}", (*api).updatePlaylist},
	{http.MethodDelete, "/api/v1/playlists/{id}", (*api).deletePlaylist},
	{http.MethodGet, "/api/v1/playlists/{id}/items", (*api).listPlaylistItems},
	{http.MethodPost, "/api/v1/playlists/{id}/items", (*api).addPlaylistItem},
	{http.MethodDelete, "/api/v1/playlists/{id}/items/{video}", (*api).removePlaylistItem},
	{http.MethodPost, "/api/v1/playlists/{id}/items/{video}/move", (*api).movePlaylistItem},
	{http.MethodGet, "/api/v1/webhooks", (*api).listWebhooks},
	{http.MethodPost, "/api/v1/webhooks", (*api).createWebhook},
	{http.MethodGet, "/api/v1/webhooks/{id}", (*api).getWebhook},
	{http.MethodPatch, "/api/v1/webhooks/{id}", (*api).updateWebhook},
	{http.MethodDelete, "/api/v1/webhooks/{id}", (*api).deleteWebhook},
	{http.MethodGet, "/api/v1/webhooks/{id}/deliveries", (*api).listWebhookDeliveries},
	{http.MethodPost, "/api/v1/webhooks/{id}/test", (*api).testWebhook},
	{http.MethodPost, "/api/v1/webhooks/{id}/rotate-secret", (*api).rotateWebhookSecret},
	{http.MethodGet, "/api/v1/search", (*api).search},
	{http.MethodGet, "/api/v1/search/suggest", (*api).suggest},
	{http.MethodPost, "/api/v1/reports", (*api).fileReport},
	{http.MethodGet, "/api/v1/moderation/reports", (*api).listCases},
	{http.MethodPost, "/api/v1/moderation/videos/{id}/hide", (*api).hideVideo},
	{http.MethodPost, "/api/v1/moderation/videos/{id}/restore", (*api).restoreVideo},
	{http.MethodPost, "/api/v1/moderation/videos/{id}/dismiss", (*api).dismissVideoReports},
	{http.MethodPost, "/api/v1/moderation/comments/{id}/hide", (*api).hideComment},
	{http.MethodPost, "/api/v1/moderation/comments/{id}/restore", (*api).restoreComment},
	{http.MethodPost, "/api/v1/moderation/comments/{id}/dismiss", (*api).dismissCommentReports},
	{http.MethodGet, "/api/v1/admin/audit", (*api).auditLog},
	{http.MethodGet, "/api/openapi.json", (*api).openAPI},
	{http.MethodGet, "/media/{key...}", (*api).serveMedia},
	{http.MethodGet, "/media/s/{expires}/{signature}/{key...}", (*api).serveSignedMedia},
}

// unauthenticated are the routes that never need to know who asks: media
// (public or signed) and the document. They cost no call to the account
// service.
func unauthenticated(path string) bool {
	return strings.HasPrefix(path, "/media/") || path == "/api/openapi.json"
}

// catchAll patterns answer, in JSON, the requests under /api/, /media/
// and /auth/ that no route takes: 405 when another method would match,
// else 404.
var catchAll = []string{"/api/", "/media/", "/auth/"}

type api struct {
	clients  Clients
	media    MediaStore
	base     string // the public URL without a trailing slash, or ""
	origin   string // its scheme://host, or ""
	host     string // its host name, or ""
	secure   bool   // whether it is https
	mediaKey []byte
	proxies  trustedProxies
	transfer Transfer
	public   publicVideos
	gates    *gates
	log      *slog.Logger
	mux      *http.ServeMux
	routed   map[string]bool // "METHOD /pattern" of every route
}

// New returns the edge's http.Handler.
func New(o Options) (http.Handler, error) {
	a, err := newAPI(o)
	if err != nil {
		return nil, err
	}
	return a.handler(o.UI), nil
}

// handler is the edge as it serves: traced, measured, and the UI beside
// the routes when there is one.
func (a *api) handler(ui http.Handler) http.Handler {
	var h http.Handler = a.mux
	if ui != nil {
		h = withUI(ui, a.mux)
	}
	return otelhttp.NewHandler(a.gates.m.instrument(h), "http.server",
		otelhttp.WithSpanNameFormatter(spanName))
}

// newAPI builds the edge and its routes.
func newAPI(o Options) (*api, error) {
	a := &api{
		clients:  o.Clients.orUnconfigured(),
		media:    o.Media,
		base:     strings.TrimRight(o.PublicBaseURL, "/"),
		mediaKey: o.MediaKey,
		log:      o.Logger,
		mux:      http.NewServeMux(),
		routed:   make(map[string]bool, len(routes)),
	}
	if a.base != "" {
		u, err := url.Parse(a.base)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("the public URL %q is not an http or https URL", o.PublicBaseURL)
		}
		a.origin, a.host, a.secure = u.Scheme+"://"+u.Host, u.Hostname(), u.Scheme == "https"
	}
	if len(a.mediaKey) < 32 {
		return nil, fmt.Errorf("the media key must be at least 32 bytes")
	}
	proxies, err := parseProxies(o.TrustedProxies)
	if err != nil {
		return nil, err
	}
	a.proxies = proxies
	if a.log == nil {
		a.log = slog.Default()
	}
	a.gates = newGates(o.Admission, newMetrics(o.Metrics))
	for _, rt := range routes {
		pattern := rt.method + " " + rt.path
		a.routed[pattern] = true
		a.mux.Handle(pattern, a.endpoint(rt.handle))
	}
	for _, p := range catchAll {
		a.mux.Handle(p, a.endpoint((*api).unmatched))
	}
	a.transfer = o.Transfer
	if a.transfer.MinRate <= 0 || a.transfer.Window <= 0 {
		a.transfer = DefaultTransfer
	}
	if o.UploadParts != nil {
		a.mux.Handle(partsPrefix, a.admit(a.partUploads(o.UploadParts)))
	}
	return a, nil
}

// endpoint adapts a handler that returns its failure to an http.Handler
// that writes the failure as the JSON error body, after the request is
// admitted, guarded, its principal found and its client's rate checked.
func (a *api) endpoint(h func(a *api, w http.ResponseWriter, r *http.Request) error) http.Handler {
	return a.admit(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.serve(h, w, r); err != nil {
			a.writeError(w, r, err)
		}
	}))
}

func (a *api) serve(h func(a *api, w http.ResponseWriter, r *http.Request) error, w http.ResponseWriter, r *http.Request) error {
	// Path and query values become the services' protobuf strings, which
	// are UTF-8: a request naming anything else names nothing here.
	if !utf8.ValidString(r.URL.Path) || !utf8Query(r.URL.Query()) {
		return badRequest("the request's path and query must be UTF-8 text")
	}
	fromCookie := false
	if !unauthenticated(r.URL.Path) {
		var err error
		if r, fromCookie, err = a.authenticate(w, r); err != nil {
			return err
		}
	}
	if err := a.guard(r, fromCookie); err != nil {
		return err
	}
	if err := a.withinRate(r); err != nil {
		return err
	}
	return h(a, w, r)
}

func utf8Query(q url.Values) bool {
	for k, vs := range q {
		if !utf8.ValidString(k) || slices.ContainsFunc(vs, func(v string) bool { return !utf8.ValidString(v) }) {
			return false
		}
	}
	return true
}

// unmatched answers a request under /api/ or /media/ that no route takes.
func (a *api) unmatched(w http.ResponseWriter, r *http.Request) error {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host}
		if _, pattern := a.mux.Handler(probe); a.routed[pattern] {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		return &edgeError{status: http.StatusMethodNotAllowed, code: "method_not_allowed",
			msg: "method " + r.Method + " is not allowed here; allowed: " + strings.Join(allow, ", ")}
	}
	return &edgeError{status: http.StatusNotFound, code: "not_found", msg: "no route for " + r.URL.Path}
}

// uiRoute is the route label of every request the UI serves: its pages
// and files are one series, whatever their paths.
const uiRoute = "ui"

// withUI sends the page and file reads of a browser to ui and everything
// else to api.
func withUI(ui, api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && forUI(r.URL.Path) {
			r.Pattern = uiRoute
			ui.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

// forUI reports whether path is the UI's: not the API's, media's, upload
// parts' or an ops endpoint's.
func forUI(path string) bool {
	for _, p := range catchAll {
		if strings.HasPrefix(path, p) || path == strings.TrimSuffix(p, "/") {
			return false
		}
	}
	if strings.HasPrefix(path, partsPrefix) {
		return false
	}
	switch path {
	case "/healthz", "/readyz", "/metrics":
		return false
	}
	return true
}

// routeOf is the path part of a ServeMux pattern ("GET /a/{id}" -> "/a/{id}").
func routeOf(pattern string) string {
	if i := strings.IndexByte(pattern, '/'); i >= 0 {
		return pattern[i:]
	}
	return pattern
}

// spanName names a server span by method and route, never by the raw path,
// so that one endpoint is one span name. otelhttp calls it again after the
// mux has set r.Pattern.
func spanName(_ string, r *http.Request) string {
	if r.Pattern == "" {
		return r.Method
	}
	return r.Method + " " + routeOf(r.Pattern)
}

// orUnconfigured fills each nil client with one whose every call answers
// Unavailable, so that handlers call their service without asking first.
func (c Clients) orUnconfigured() Clients {
	if c.Upload == nil {
		c.Upload = pb.NewUploadServiceClient(unconfigured("upload"))
	}
	if c.Host == nil {
		c.Host = pb.NewHostServiceClient(unconfigured("host"))
	}
	if c.Playlist == nil {
		c.Playlist = pb.NewPlaylistServiceClient(unconfigured("host"))
	}
	if c.Search == nil {
		c.Search = pb.NewSearchServiceClient(unconfigured("search"))
	}
	if c.Encode == nil {
		c.Encode = pb.NewEncodeServiceClient(unconfigured("encode"))
	}
	if c.Account == nil {
		c.Account = pb.NewAccountServiceClient(unconfigured("account"))
	}
	if c.Webhooks == nil {
		c.Webhooks = pb.NewWebhookServiceClient(unconfigured("upload"))
	}
	if c.Moderation == nil {
		c.Moderation = pb.NewModerationServiceClient(unconfigured("moderation"))
	}
	if c.Caption == nil {
		c.Caption = pb.NewCaptionServiceClient(unconfigured("upload"))
	}
	return c
}

// unconfigured is the connection of a service this edge was built without.
type unconfigured string

func (u unconfigured) Invoke(context.Context, string, any, any, ...grpc.CallOption) error {
	return u.err()
}

func (u unconfigured) NewStream(context.Context, *grpc.StreamDesc, string, ...grpc.CallOption) (grpc.ClientStream, error) {
	return nil, u.err()
}

func (u unconfigured) err() error {
	return status.Error(codes.Unavailable, "the "+string(u)+" service is not configured")
}
