package router

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"

	accountsvc "github.com/cloudflix/cloudflix/account-svc"
	"github.com/cloudflix/cloudflix/internal/account"
	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/config"
	"github.com/cloudflix/cloudflix/internal/moderation"
	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/store/storetest"
	"github.com/cloudflix/cloudflix/internal/testenv"
	"github.com/cloudflix/cloudflix/internal/video"
	"github.com/cloudflix/cloudflix/internal/videocache"
	"github.com/cloudflix/cloudflix/internal/videopb"
	"github.com/cloudflix/cloudflix/internal/webhook"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
	encodesvc "github.com/cloudflix/cloudflix/video-encode-svc"
	hostsvc "github.com/cloudflix/cloudflix/video-host-svc"
	searchsvc "github.com/cloudflix/cloudflix/video-search-svc"
	uploadsvc "github.com/cloudflix/cloudflix/video-upload-svc"
)

// The authorization matrix: every route of the table, asked by every kind
// of actor, about a video of every privacy, through the real edge and the
// real services on real backends, with the status each must get. A route
// without a row fails the test, so a new route cannot go without deciding
// who may use it.

type actor int

const (
	anonymous actor = iota
	otherUser
	owner
	moderator
	admin
)

var actors = []actor{anonymous, otherUser, owner, moderator, admin}

func (a actor) String() string {
	return [...]string{"anonymous", "another user", "the owner", "a moderator", "an admin"}[a]
}

var privacies = []video.Privacy{video.PrivacyPublic, video.PrivacyUnlisted, video.PrivacyPrivate}

// expect gives the status for an actor about a video of a privacy.
type expect func(a actor, p video.Privacy) int

// every is the same status for everyone.
func every(code int) expect { return func(actor, video.Privacy) int { return code } }

// byActor is a status per actor, whatever the privacy.
func byActor(anon, other, own, mod, adm int) expect {
	return func(a actor, _ video.Privacy) int { return [...]int{anon, other, own, mod, adm}[a] }
}

// byPrivacy is one expectation for public and unlisted videos (anyone may
// see them) and another for private ones.
func byPrivacy(seen, private expect) expect {
	return func(a actor, p video.Privacy) int {
		if p == video.PrivacyPrivate {
			return private(a, p)
		}
		return seen(a, p)
	}
}

// cell is what one request works on, made fresh for it.
type cell struct {
	video, upload, username, session, token, user, signedMaster, webhook, comment string
	playlist                                                                      string
}

type row struct {
	target string // the path, with {video}, {upload}, ... from the cell
	body   string
	want   expect
}

// signedIn are the statuses of a route for a signed-in user and the 401 of
// a visitor.
func signedIn(code int) expect { return byActor(401, code, code, code, code) }

// adminOnly are the statuses of an admin's route.
func adminOnly(code int) expect { return byActor(401, 403, 403, 403, code) }

// moderators are the statuses of a moderator's route: moderators and
// admins, whatever the video.
func moderators(code int) expect { return byActor(401, 403, 403, code, code) }

// uploaderOrAdmin are the statuses of an act on an open upload: its
// uploader and admins; others do not find it.
func uploaderOrAdmin(code int) expect { return byActor(401, 404, code, 404, code) }

// editors are the statuses of an edit: the owner, moderators and admins;
// a private video is not found by anyone else.
func editors(code int) expect {
	return byPrivacy(byActor(401, 403, code, code, code), byActor(404, 404, code, code, code))
}

// arrangers are the statuses of a change of a playlist's items: its
// owner alone; a private playlist is not found by anyone else but
// moderators, who see it.
func arrangers(code int) expect {
	return byPrivacy(byActor(401, 403, code, 403, 403), byActor(404, 404, code, 403, 403))
}

// endpointOwners are the statuses of an act on a webhook endpoint of the
// owner's: the owner and admins; others do not find it.
func endpointOwners(code int) expect { return byActor(401, 404, code, 404, code) }

// commentAuthors are the statuses of an edit of a comment by another
// user: its author alone; under a private video no one else finds it.
func commentAuthors(code int) expect {
	return byPrivacy(byActor(401, code, 403, 403, 403), byActor(404, 404, 403, 403, 403))
}

// commentRemovers are the statuses of a removal of a comment by another
// user: its author, the video's owner, moderators and admins.
func commentRemovers(code int) expect {
	return byPrivacy(byActor(401, code, code, code, code), byActor(404, 404, code, code, code))
}

// likers are the statuses of a like: any signed-in user who may see the
// video; a private video is not found by anyone else.
func likers(code int) expect {
	return byPrivacy(signedIn(code), byActor(404, 404, code, code, code))
}

var matrix = map[string]row{
	"POST /api/v1/auth/signup":  {"/api/v1/auth/signup", `{"username":"{fresh}","email":"{fresh}@example.org","password":"a long password"}`, every(201)},
	"POST /api/v1/auth/signin":  {"/api/v1/auth/signin", `{"login":"{fresh}","password":"not the password"}`, every(401)},
	"POST /api/v1/auth/signout": {"/api/v1/auth/signout", "", signedIn(204)},
	"GET /api/v1/auth/options":  {"/api/v1/auth/options", "", every(200)},
	"GET /auth/oidc/login":      {"/auth/oidc/login", "", every(409)}, // no provider configured
	"GET /auth/oidc/callback":   {"/auth/oidc/callback?code=c&state=s", "", every(302)},

	"GET /api/v1/me":                         {"/api/v1/me", "", signedIn(200)},
	"POST /api/v1/me/password":               {"/api/v1/me/password", `{"current_password":"a long password","new_password":"a long password"}`, signedIn(204)},
	"GET /api/v1/me/sessions":                {"/api/v1/me/sessions", "", signedIn(200)},
	"DELETE /api/v1/me/sessions/{id}":        {"/api/v1/me/sessions/{session}", "", signedIn(204)},
	"GET /api/v1/me/tokens":                  {"/api/v1/me/tokens", "", signedIn(200)},
	"POST /api/v1/me/tokens":                 {"/api/v1/me/tokens", `{"name":"cli","scopes":["read"]}`, signedIn(201)},
	"DELETE /api/v1/me/tokens/{id}":          {"/api/v1/me/tokens/{token}", "", signedIn(204)},
	"GET /api/v1/me/videos":                  {"/api/v1/me/videos", "", signedIn(200)},
	"GET /api/v1/me/playlists":               {"/api/v1/me/playlists", "", signedIn(200)},
	"POST /api/v1/invites":                   {"/api/v1/invites", "", adminOnly(201)},
	"GET /api/v1/users/{username}":           {"/api/v1/users/{username}", "", every(200)},
	"GET /api/v1/users/{username}/videos":    {"/api/v1/users/{username}/videos", "", every(200)},
	"GET /api/v1/users/{username}/playlists": {"/api/v1/users/{username}/playlists", "", every(200)},
	"GET /api/v1/admin/users":                {"/api/v1/admin/users", "", adminOnly(200)},
	"POST /api/v1/admin/users":               {"/api/v1/admin/users", `{"username":"{fresh}","email":"{fresh}@example.org","password":"a long password","role":"user"}`, adminOnly(201)},
	"PATCH /api/v1/admin/users/{id}":         {"/api/v1/admin/users/{user}", `{"storage_quota_bytes":1000}`, adminOnly(200)},

	"POST /api/v1/uploads":                 {"/api/v1/uploads", `{"title":"x","content_type":"video/mp4","size_bytes":10,"privacy":"{privacy}"}`, signedIn(201)},
	"GET /api/v1/uploads/{id}":             {"/api/v1/uploads/{upload}", "", uploaderOrAdmin(200)},
	"POST /api/v1/uploads/{id}/parts/sign": {"/api/v1/uploads/{upload}/parts/sign", `{"part_numbers":[1]}`, uploaderOrAdmin(200)},
	"GET /api/v1/uploads/{id}/parts":       {"/api/v1/uploads/{upload}/parts", "", uploaderOrAdmin(200)},
	"POST /api/v1/uploads/{id}/complete":   {"/api/v1/uploads/{upload}/complete", "", uploaderOrAdmin(409)}, // its part is missing
	"DELETE /api/v1/uploads/{id}":          {"/api/v1/uploads/{upload}", "", uploaderOrAdmin(204)},

	"GET /api/v1/videos":                {"/api/v1/videos", "", every(200)},
	"GET /api/v1/videos/{id}":           {"/api/v1/videos/{video}", "", byPrivacy(every(200), byActor(404, 404, 200, 200, 200))},
	"PATCH /api/v1/videos/{id}":         {"/api/v1/videos/{video}", `{"title":"Edited"}`, editors(200)},
	"DELETE /api/v1/videos/{id}":        {"/api/v1/videos/{video}", "", editors(204)},
	"POST /api/v1/videos/{id}/views":    {"/api/v1/videos/{video}/views", "", byPrivacy(every(204), byActor(404, 404, 204, 204, 204))},
	"GET /api/v1/videos/{id}/like":      {"/api/v1/videos/{video}/like", "", likers(200)},
	"PUT /api/v1/videos/{id}/like":      {"/api/v1/videos/{video}/like", "", likers(200)},
	"DELETE /api/v1/videos/{id}/like":   {"/api/v1/videos/{video}/like", "", likers(200)},
	"POST /api/v1/videos/{id}/reencode": {"/api/v1/videos/{video}/reencode", "", byPrivacy(byActor(401, 403, 202, 403, 202), byActor(404, 404, 202, 403, 202))},
	"GET /api/v1/videos/{id}/captions":  {"/api/v1/videos/{video}/captions", "", byPrivacy(every(200), byActor(404, 404, 200, 200, 200))},
	"PUT /api/v1/videos/{id}/captions/{lang}": {"/api/v1/videos/{video}/captions/fr?label=Fran%C3%A7ais",
		"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nBonjour\n", editors(200)},
	"DELETE /api/v1/videos/{id}/captions/{lang}": {"/api/v1/videos/{video}/captions/en", "", editors(204)},
	"GET /api/v1/webhooks":                       {"/api/v1/webhooks", "", signedIn(200)},
	"POST /api/v1/webhooks":                      {"/api/v1/webhooks", `{"url":"http://127.0.0.1:9/hook","events":["video.ready"]}`, signedIn(201)},
	"GET /api/v1/webhooks/{id}":                  {"/api/v1/webhooks/{webhook}", "", endpointOwners(200)},
	"PATCH /api/v1/webhooks/{id}":                {"/api/v1/webhooks/{webhook}", `{"events":["video.ready","video.failed"]}`, endpointOwners(200)},
	"DELETE /api/v1/webhooks/{id}":               {"/api/v1/webhooks/{webhook}", "", endpointOwners(204)},
	"GET /api/v1/webhooks/{id}/deliveries":       {"/api/v1/webhooks/{webhook}/deliveries", "", endpointOwners(200)},
	"POST /api/v1/webhooks/{id}/test":            {"/api/v1/webhooks/{webhook}/test", "", endpointOwners(202)},
	"POST /api/v1/webhooks/{id}/rotate-secret":   {"/api/v1/webhooks/{webhook}/rotate-secret", "", endpointOwners(200)},
	"GET /api/v1/search":                         {"/api/v1/search?q=matrix", "", every(200)},
	"GET /api/v1/search/suggest":                 {"/api/v1/search/suggest?q=ma", "", every(200)},
	"GET /api/openapi.json":                      {"/api/openapi.json", "", every(200)},
	"GET /api/v1/videos/{id}/comments":           {"/api/v1/videos/{video}/comments", "", byPrivacy(every(200), byActor(404, 404, 200, 200, 200))},
	"POST /api/v1/videos/{id}/comments":          {"/api/v1/videos/{video}/comments", `{"body":"Matrix comment"}`, likers(201)},
	"GET /api/v1/comments/{id}/replies":          {"/api/v1/comments/{comment}/replies", "", byPrivacy(every(200), byActor(404, 404, 200, 200, 200))},
	"POST /api/v1/comments/{id}/replies":         {"/api/v1/comments/{comment}/replies", `{"body":"Matrix reply"}`, likers(201)},
	"PATCH /api/v1/comments/{id}":                {"/api/v1/comments/{comment}", `{"body":"Edited"}`, commentAuthors(200)},
	"DELETE /api/v1/comments/{id}":               {"/api/v1/comments/{comment}", "", commentRemovers(204)},

	"POST /api/v1/reports":                          {"/api/v1/reports", `{"kind":"video","id":"{video}","reason":"spam","note":"matrix"}`, likers(201)},
	"GET /api/v1/moderation/reports":                {"/api/v1/moderation/reports", "", moderators(200)},
	"POST /api/v1/moderation/videos/{id}/hide":      {"/api/v1/moderation/videos/{video}/hide", `{"reason":"matrix"}`, moderators(200)},
	"POST /api/v1/moderation/videos/{id}/restore":   {"/api/v1/moderation/videos/{video}/restore", `{"reason":"matrix"}`, moderators(409)}, // it is not hidden
	"POST /api/v1/moderation/videos/{id}/dismiss":   {"/api/v1/moderation/videos/{video}/dismiss", `{"reason":""}`, moderators(404)},       // it has no report
	"POST /api/v1/moderation/comments/{id}/dismiss": {"/api/v1/moderation/comments/{video}/dismiss", `{"reason":""}`, moderators(404)},     // no such comment
	"POST /api/v1/moderation/comments/{id}/hide":    {"/api/v1/moderation/comments/{comment}/hide", `{"reason":"matrix"}`, moderators(200)},
	"POST /api/v1/moderation/comments/{id}/restore": {"/api/v1/moderation/comments/{comment}/restore", `{"reason":"matrix"}`, moderators(409)}, // it is not hidden
	"GET /api/v1/admin/audit":                       {"/api/v1/admin/audit", "", adminOnly(200)},

	// The cell's playlist is the owner's, of the privacy of the row, and
	// holds the cell's video, of the same privacy.
	"POST /api/v1/playlists":                         {"/api/v1/playlists", `{"title":"Matrix list","privacy":"{privacy}"}`, signedIn(201)},
	"GET /api/v1/playlists/{id}":                     {"/api/v1/playlists/{playlist}", "", byPrivacy(every(200), byActor(404, 404, 200, 200, 200))},
	"PATCH /api/v1/playlists/{id}":                   {"/api/v1/playlists/{playlist}", `{"title":"Edited"}`, editors(200)},
	"DELETE /api/v1/playlists/{id}":                  {"/api/v1/playlists/{playlist}", "", editors(204)},
	"GET /api/v1/playlists/{id}/items":               {"/api/v1/playlists/{playlist}/items", "", byPrivacy(every(200), byActor(404, 404, 200, 200, 200))},
	"POST /api/v1/playlists/{id}/items":              {"/api/v1/playlists/{playlist}/items", `{"video_id":"{video}"}`, arrangers(200)},
	"DELETE /api/v1/playlists/{id}/items/{video}":    {"/api/v1/playlists/{playlist}/items/{video}", "", arrangers(204)},
	"POST /api/v1/playlists/{id}/items/{video}/move": {"/api/v1/playlists/{playlist}/items/{video}/move", `{"position":0}`, arrangers(200)},
	"GET /media/{key...}": {"/media/videos/{video}/hls/master.m3u8", "", byPrivacy(func(_ actor, p video.Privacy) int {
		return map[video.Privacy]int{video.PrivacyPublic: 200, video.PrivacyUnlisted: 404}[p]
	}, every(404))},
	"GET /media/s/{expires}/{signature}/{key...}": {"{signed}", "", every(200)},
}

func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	for _, rt := range routes {
		if _, ok := matrix[rt.method+" "+rt.path]; !ok {
			t.Errorf("route %s %s has no row in the authorization matrix", rt.method, rt.path)
		}
	}
	if len(matrix) != len(routes) {
		t.Errorf("the matrix has %d rows for %d routes: a row names no route", len(matrix), len(routes))
	}
	platformtest.Each(t, func(t *testing.T, p *platform.Process) {
		w := newWorld(t, p)
		n := 0
		for _, rt := range routes {
			r := matrix[rt.method+" "+rt.path]
			for _, a := range actors {
				for _, priv := range privacies {
					c := w.cell(t, a, priv, strings.Contains(r.target, "{playlist}"))
					got := w.ask(t, a, rt.method, c, priv, r)
					if want := r.want(a, priv); got != want {
						t.Errorf("%s %s by %s, %s video: %d, want %d", rt.method, rt.path, a, priv, got, want)
					}
					n++
				}
			}
		}
		t.Logf("%d routes × %d actors × %d privacies = %d requests", len(routes), len(actors), len(privacies), n)
	})
}

// world is the edge in front of every service, on the backends of one
// process, with a user of each kind.
type world struct {
	edge     http.Handler
	db       store.Store
	upload   *uploadsvc.Service
	webhooks *uploadsvc.Webhooks
	putMedia func(t testing.TB, key string)
	users    map[actor]account.User
	signer   *api
}

const matrixPassword = "a long password"

func newWorld(t testing.TB, p *platform.Process) *world {
	t.Helper()
	ctx := t.Context()
	db, err := p.Store(ctx)
	must(t, err)
	objects, _, err := p.Objects(ctx)
	must(t, err)
	c, err := p.Cache(ctx)
	must(t, err)
	q, err := p.Queue(ctx, "matrix", 1)
	must(t, err)
	vc := videocache.New(c, time.Minute, nil)
	upload := uploadsvc.New(db, objects, vc, uploadsvc.Limits{
		MaxBytes: 1 << 30, PartSize: 5 << 20, SessionTTL: time.Hour, PresignTTL: time.Minute,
		AllowedTypes: []string{"video/mp4"}, StorageQuota: account.Unlimited, DailyQuota: account.Unlimited,
	}, func() {}, nil)
	host := hostsvc.New(db, videocache.New(c, time.Minute, nil), c, hostsvc.ViewRule{Window: time.Hour, Key: []byte("matrix viewers")}, nil)
	search := searchsvc.New(db, c, 0, nil)
	encode := encodesvc.NewService(db, q, vc, func() {})
	accounts, err := accountsvc.New(db, config.Account{SignUp: "open", SessionTTL: time.Hour, InviteTTL: time.Hour,
		Quotas: config.Quotas{Storage: account.Unlimited, Daily: account.Unlimited}}, platformtest.Key, nil)
	must(t, err)
	sealer, err := webhook.NewSealer(platformtest.Key.Derive(webhook.KeyPurpose))
	must(t, err)
	// Every cell makes an endpoint of the owner's: no bound in the way.
	webhooks := uploadsvc.NewWebhooks(db, sealer, webhook.Policy{Allowed: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}},
		net.DefaultResolver, 1<<20, nil)
	conn := platformtest.Serve(t, func(s *grpc.Server) {
		pb.RegisterUploadServiceServer(s, upload)
		pb.RegisterWebhookServiceServer(s, webhooks)
		pb.RegisterHostServiceServer(s, host)
		pb.RegisterCommentServiceServer(s, hostsvc.NewComments(host, db, video.DefaultCommentRate))
		pb.RegisterPlaylistServiceServer(s, hostsvc.NewPlaylists(db, videocache.New(c, time.Minute, nil)))
		pb.RegisterSearchServiceServer(s, search)
		pb.RegisterEncodeServiceServer(s, encode)
		pb.RegisterAccountServiceServer(s, accounts)
		pb.RegisterModerationServiceServer(s, hostsvc.NewModeration(db, videocache.New(c, time.Minute, nil), moderation.DefaultReportRate))
		pb.RegisterCaptionServiceServer(s, uploadsvc.NewCaptionService(db, objects))
	})
	w := &world{db: db, upload: upload, webhooks: webhooks, users: map[actor]account.User{}, signer: &api{mediaKey: testMediaKey}}
	w.edge = edge(t, Options{Media: objects, Logger: discardLogger(), Clients: Clients{
		Upload: pb.NewUploadServiceClient(conn), Host: pb.NewHostServiceClient(conn), Playlist: pb.NewPlaylistServiceClient(conn),
		Search: pb.NewSearchServiceClient(conn),
		Encode: pb.NewEncodeServiceClient(conn), Account: pb.NewAccountServiceClient(conn),
		Webhooks:   pb.NewWebhookServiceClient(conn),
		Comments:   pb.NewCommentServiceClient(conn),
		Moderation: pb.NewModerationServiceClient(conn),
		Caption:    pb.NewCaptionServiceClient(conn),
	}})
	w.putMedia = func(t testing.TB, key string) {
		body := []byte("#EXTM3U\n")
		must(t, objects.Put(t.Context(), key, bytes.NewReader(body), int64(len(body)), "application/vnd.apple.mpegurl"))
	}
	// The admin first: the first admin adopts videos without an owner.
	for _, a := range []actor{admin, moderator, owner, otherUser} {
		role := map[actor]auth.Role{admin: auth.RoleAdmin, moderator: auth.RoleModerator}[a]
		u, hash, err := accountsvc.NewUser(testenv.Name("m"), testenv.Name("m")+"@example.org", matrixPassword, role)
		must(t, err)
		u, err = db.CreateUser(ctx, u, hash)
		must(t, err)
		w.users[a] = u
	}
	return w
}

// cell makes what one request of actor a about a video of privacy p works
// on: a ready video and an open upload of the owner's, a session and a
// token of a's own (the owner's for a visitor), a user for the admin to
// change, and when the request names one, a playlist of the owner's of
// privacy p holding the video (only then, since a user keeps a bounded
// number of playlists).
func (w *world) cell(t testing.TB, a actor, p video.Privacy, withPlaylist bool) cell {
	t.Helper()
	ctx := t.Context()
	own := w.users[owner]
	v := storetest.ReadyBy(t, w.db, own.ID, p, "Matrix video")
	master := video.MasterPlaylistKey(v.ID)
	w.putMedia(t, master)
	// Captions in English, for the route that deletes them.
	if _, err := w.db.PutCaption(ctx, v.ID, video.Caption{Language: "en", Label: "English"}); err != nil {
		t.Fatal(err)
	}
	upload, err := w.upload.CreateUpload(storetest.SignedIn(ctx, own), &pb.CreateUploadRequest{
		Title: "Matrix upload", ContentType: "video/mp4", SizeBytes: 10, Privacy: videopb.Privacy(p)})
	must(t, err)
	holder := w.users[a]
	if a == anonymous {
		holder = own
	}
	sid, _ := w.newSession(t, holder)
	tok := w.newToken(t, holder)
	target := storetest.NewUser(t, w.db, testenv.Name("t"), auth.RoleUser)
	hook, err := w.webhooks.CreateWebhook(storetest.SignedIn(ctx, own), &pb.CreateWebhookRequest{
		Url: "http://127.0.0.1:9/hook", Events: []string{"video.ready"}})
	must(t, err)
	comment := storetest.AddComment(t, w.db, v.ID, w.users[otherUser].ID, "", "Another user's comment", time.Now())
	var playlist string
	if withPlaylist {
		pl := storetest.NewPlaylist(t, w.db, own.ID, p, "Matrix list")
		storetest.AddToPlaylist(t, w.db, pl.ID, v.ID)
		playlist = pl.ID
	}
	return cell{
		video: v.ID, upload: upload.GetVideoId(), username: own.Username, session: sid, token: tok, user: target.ID,
		signedMaster: w.signer.signedMediaPath(v.ID, master, time.Now()), comment: comment.ID, webhook: hook.GetWebhook().GetId(),
		playlist: playlist,
	}
}

// ask sends the row's request as a, the way a browser would (the session
// cookie, the site's Origin, JSON), and returns its status.
func (w *world) ask(t *testing.T, a actor, method string, c cell, p video.Privacy, r row) int {
	t.Helper()
	fresh := testenv.Name("f")
	replace := strings.NewReplacer("{video}", c.video, "{upload}", c.upload, "{username}", c.username, "{session}", c.session,
		"{token}", c.token, "{user}", c.user, "{signed}", c.signedMaster, "{webhook}", c.webhook, "{fresh}", fresh, "{privacy}", string(p),
		"{comment}", c.comment, "{playlist}", c.playlist)
	target, body := replace.Replace(r.target), replace.Replace(r.body)
	var req *http.Request
	if body == "" {
		req = httptest.NewRequest(method, target, nil)
	} else {
		req = httptest.NewRequest(method, target, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Origin", "http://example.com")
	req.RemoteAddr = fmt.Sprintf("192.0.2.%d:1234", 1+len(fresh)%200)
	if a != anonymous {
		_, secret := w.newSession(t, w.users[a])
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: secret})
	}
	rec := httptest.NewRecorder()
	w.edge.ServeHTTP(rec, req)
	if rec.Code >= 500 {
		t.Logf("%s %s by %s: %d %s", method, target, a, rec.Code, rec.Body)
	}
	return rec.Code
}

func (w *world) newSession(t testing.TB, u account.User) (id, secret string) {
	t.Helper()
	secret, hash, err := auth.NewSecret(auth.SessionPrefix)
	must(t, err)
	now := time.Now()
	s := account.Session{ID: uuid.NewString(), UserID: u.ID, Hash: hash, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	must(t, w.db.CreateSession(t.Context(), s))
	return s.ID, secret
}

func (w *world) newToken(t testing.TB, u account.User) string {
	t.Helper()
	_, hash, err := auth.NewSecret(auth.TokenPrefix)
	must(t, err)
	tok := account.Token{ID: uuid.NewString(), UserID: u.ID, Name: "matrix", Hash: hash, Scopes: []auth.Scope{auth.ScopeRead}, CreatedAt: time.Now()}
	must(t, w.db.CreateToken(t.Context(), tok))
	return tok.ID
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
