package router

import (
	"net/http"
	"net/url"

	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// The account routes: sign-up, sign-in and out, the signed-in user's own
// account (password, sessions, tokens, videos), profiles and channels, and
// the admin's user management. The account service decides every one; the
// edge keeps the session cookie.

type userJSON struct {
	ID        string `json:"id"`
	Username  string `json:"username"`
	Role      string `json:"role"`
	Disabled  bool   `json:"disabled"`
	CreatedAt string `json:"created_at"`
	// Shown to the user and admins only.
	Email *string    `json:"email,omitempty"`
	Quota *quotaJSON `json:"quota,omitempty"`
}

type quotaJSON struct {
	StorageBytes       int64 `json:"storage_bytes"`
	DailyUploadBytes   int64 `json:"daily_upload_bytes"`
	StoredBytes        int64 `json:"stored_bytes"`
	UploadedTodayBytes int64 `json:"uploaded_today_bytes"`
}

func userToJSON(u *pb.User) userJSON {
	out := userJSON{ID: u.GetId(), Username: u.GetUsername(), Role: u.GetRole(), Disabled: u.GetDisabled(), CreatedAt: formatTime(u.GetCreatedAt())}
	if u.GetEmail() != "" {
		e := u.GetEmail()
		out.Email = &e
	}
	if q := u.GetQuota(); q != nil {
		out.Quota = &quotaJSON{StorageBytes: q.GetStorageBytes(), DailyUploadBytes: q.GetDailyUploadBytes(),
			StoredBytes: q.GetStoredBytes(), UploadedTodayBytes: q.GetUploadedTodayBytes()}
	}
	return out
}

type sessionInfoJSON struct {
	ID         string `json:"id"`
	UserAgent  string `json:"user_agent"`
	IP         string `json:"ip"`
	CreatedAt  string `json:"created_at"`
	LastSeenAt string `json:"last_seen_at"`
	ExpiresAt  string `json:"expires_at"`
	Current    bool   `json:"current"`
}

type tokenJSON struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Scopes     []string `json:"scopes"`
	CreatedAt  string   `json:"created_at"`
	LastUsedAt *string  `json:"last_used_at"`
}

func tokenToJSON(t *pb.Token) tokenJSON {
	out := tokenJSON{ID: t.GetId(), Name: t.GetName(), Scopes: append([]string{}, t.GetScopes()...), CreatedAt: formatTime(t.GetCreatedAt())}
	if t.GetLastUsedAt() != nil {
		s := formatTime(t.GetLastUsedAt())
		out.LastUsedAt = &s
	}
	return out
}

type signUpBody struct {
	Username string `json:"username"`
	Email    string `json:"email"`
	Password string `json:"password"`
	Invite   string `json:"invite"`
}

func (a *api) signUp(w http.ResponseWriter, r *http.Request) error {
	var body signUpBody
	if err := readJSON(w, r, &body); err != nil {
		return err
	}
	resp, err := a.clients.Account.SignUp(r.Context(), &pb.SignUpRequest{
		Username: body.Username, Email: body.Email, Password: body.Password, Invite: body.Invite, Client: a.clientOf(r),
	})
	if err != nil {
		return err
	}
	a.setSession(w, resp.GetSessionToken(), resp.GetSession().GetExpiresAt().AsTime())
	writeJSON(w, http.StatusCreated, userToJSON(resp.GetUser()))
	return nil
}

type signInBody struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

func (a *api) signIn(w http.ResponseWriter, r *http.Request) error {
	var body signInBody
	if err := readJSON(w, r, &body); err != nil {
		return err
	}
	resp, err := a.clients.Account.SignIn(r.Context(), &pb.SignInRequest{Login: body.Login, Password: body.Password, Client: a.clientOf(r)})
	if err != nil {
		return err
	}
	a.setSession(w, resp.GetSessionToken(), resp.GetSession().GetExpiresAt().AsTime())
	writeJSON(w, http.StatusOK, userToJSON(resp.GetUser()))
	return nil
}

func (a *api) signOut(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.clients.Account.SignOut(r.Context(), &pb.SignOutRequest{}); err != nil {
		return err
	}
	a.clearSession(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) signInOptions(w http.ResponseWriter, r *http.Request) error {
	o, err := a.clients.Account.GetSignInOptions(r.Context(), &pb.GetSignInOptionsRequest{})
	if err != nil {
		return err
	}
	var provider *string
	if o.GetOidcProvider() != "" {
		p := o.GetOidcProvider()
		provider = &p
	}
	writeJSON(w, http.StatusOK, struct {
		SignUp       string  `json:"sign_up"`
		OIDCProvider *string `json:"oidc_provider"`
	}{o.GetSignUp(), provider})
	return nil
}

// oidcStateCookie carries a sign-in at the OpenID provider across the
// round trip, for ten minutes, only to the callback.
const (
	oidcStateCookie = "cloudflix_oidc"
	oidcCallback    = "/auth/oidc/callback"
)

// oidcLogin sends the browser to the OpenID provider.
func (a *api) oidcLogin(w http.ResponseWriter, r *http.Request) error {
	resp, err := a.clients.Account.BeginOIDC(r.Context(), &pb.BeginOIDCRequest{RedirectUrl: a.callbackURL(r)})
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: oidcStateCookie, Value: resp.GetState(), Path: oidcCallback, MaxAge: 600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: a.secure})
	http.Redirect(w, r, resp.GetAuthUrl(), http.StatusFound)
	return nil
}

// oidcCallback finishes the sign-in and sends the browser home, or back to
// the sign-in page with the reason.
func (a *api) oidcCallback(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	cookie, _ := r.Cookie(oidcStateCookie)
	http.SetCookie(w, &http.Cookie{Name: oidcStateCookie, Value: "", Path: oidcCallback, MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: a.secure})
	if e := q.Get("error"); e != "" {
		http.Redirect(w, r, "/signin?error="+url.QueryEscape("the sign-in provider said: "+firstNonEmpty(q.Get("error_description"), e)), http.StatusFound)
		return nil
	}
	var state string
	if cookie != nil {
		state = cookie.Value
	}
	resp, err := a.clients.Account.FinishOIDC(r.Context(), &pb.FinishOIDCRequest{
		Code: q.Get("code"), State: q.Get("state"), CookieState: state, RedirectUrl: a.callbackURL(r), Client: a.clientOf(r),
	})
	if err != nil {
		_, detail, _ := httpError(err)
		http.Redirect(w, r, "/signin?error="+url.QueryEscape(detail.Message), http.StatusFound)
		return nil
	}
	a.setSession(w, resp.GetSessionToken(), resp.GetSession().GetExpiresAt().AsTime())
	http.Redirect(w, r, "/", http.StatusFound)
	return nil
}

// callbackURL is where the provider sends the browser back: under the
// public URL when one is set, else the address this request came to.
func (a *api) callbackURL(r *http.Request) string {
	if a.base != "" {
		return a.base + oidcCallback
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + oidcCallback
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func (a *api) me(w http.ResponseWriter, r *http.Request) error {
	u, err := a.clients.Account.GetUser(r.Context(), &pb.GetUserRequest{})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userToJSON(u))
	return nil
}

type passwordBody struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

func (a *api) changePassword(w http.ResponseWriter, r *http.Request) error {
	var body passwordBody
	if err := readJSON(w, r, &body); err != nil {
		return err
	}
	if _, err := a.clients.Account.ChangePassword(r.Context(), &pb.ChangePasswordRequest{CurrentPassword: body.CurrentPassword, NewPassword: body.NewPassword}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) listSessions(w http.ResponseWriter, r *http.Request) error {
	resp, err := a.clients.Account.ListSessions(r.Context(), &pb.ListSessionsRequest{})
	if err != nil {
		return err
	}
	out := make([]sessionInfoJSON, 0, len(resp.GetSessions()))
	for _, s := range resp.GetSessions() {
		out = append(out, sessionInfoJSON{ID: s.GetId(), UserAgent: s.GetUserAgent(), IP: s.GetIp(), CreatedAt: formatTime(s.GetCreatedAt()),
			LastSeenAt: formatTime(s.GetLastSeenAt()), ExpiresAt: formatTime(s.GetExpiresAt()), Current: s.GetCurrent()})
	}
	writeJSON(w, http.StatusOK, struct {
		Sessions []sessionInfoJSON `json:"sessions"`
	}{out})
	return nil
}

func (a *api) revokeSession(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.clients.Account.RevokeSession(r.Context(), &pb.RevokeSessionRequest{Id: r.PathValue("id")}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) listTokens(w http.ResponseWriter, r *http.Request) error {
	resp, err := a.clients.Account.ListTokens(r.Context(), &pb.ListTokensRequest{})
	if err != nil {
		return err
	}
	out := make([]tokenJSON, 0, len(resp.GetTokens()))
	for _, t := range resp.GetTokens() {
		out = append(out, tokenToJSON(t))
	}
	writeJSON(w, http.StatusOK, struct {
		Tokens []tokenJSON `json:"tokens"`
	}{out})
	return nil
}

type tokenBody struct {
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
}

func (a *api) createToken(w http.ResponseWriter, r *http.Request) error {
	var body tokenBody
	if err := readJSON(w, r, &body); err != nil {
		return err
	}
	resp, err := a.clients.Account.CreateToken(r.Context(), &pb.CreateTokenRequest{Name: body.Name, Scopes: body.Scopes})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, struct {
		Secret string    `json:"secret"`
		Token  tokenJSON `json:"token"`
	}{resp.GetSecret(), tokenToJSON(resp.GetToken())})
	return nil
}

func (a *api) revokeToken(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.clients.Account.RevokeToken(r.Context(), &pb.RevokeTokenRequest{Id: r.PathValue("id")}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) createInvite(w http.ResponseWriter, r *http.Request) error {
	resp, err := a.clients.Account.CreateInvite(r.Context(), &pb.CreateInviteRequest{})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, struct {
		Code      string `json:"code"`
		ExpiresAt string `json:"expires_at"`
	}{resp.GetCode(), formatTime(resp.GetExpiresAt())})
	return nil
}

func (a *api) getUser(w http.ResponseWriter, r *http.Request) error {
	u, err := a.clients.Account.GetUser(r.Context(), &pb.GetUserRequest{Username: r.PathValue("username")})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userToJSON(u))
	return nil
}

// channelVideos lists a user's videos: the ones anyone may see, or all of
// them for the user and moderators.
func (a *api) channelVideos(w http.ResponseWriter, r *http.Request) error {
	return a.videoList(w, r, r.PathValue("username"))
}

// myVideos lists the signed-in user's videos in every state and privacy.
func (a *api) myVideos(w http.ResponseWriter, r *http.Request) error {
	u, err := a.clients.Account.GetUser(r.Context(), &pb.GetUserRequest{})
	if err != nil {
		return err
	}
	return a.videoList(w, r, u.GetUsername())
}

func (a *api) listUsers(w http.ResponseWriter, r *http.Request) error {
	limit, err := limitParam(r)
	if err != nil {
		return err
	}
	resp, err := a.clients.Account.ListUsers(r.Context(), &pb.ListUsersRequest{PageSize: limit, Cursor: r.URL.Query().Get("cursor")})
	if err != nil {
		return err
	}
	out := make([]userJSON, 0, len(resp.GetUsers()))
	for _, u := range resp.GetUsers() {
		out = append(out, userToJSON(u))
	}
	writeJSON(w, http.StatusOK, struct {
		Users      []userJSON `json:"users"`
		NextCursor *string    `json:"next_cursor"`
	}{out, cursor(resp.GetNextCursor())})
	return nil
}

type createUserBody struct {
	Username string `json:"username"`
	Email    string `json:"email"`
	Password string `json:"password"`
	Role     string `json:"role"`
}

func (a *api) createUser(w http.ResponseWriter, r *http.Request) error {
	var body createUserBody
	if err := readJSON(w, r, &body); err != nil {
		return err
	}
	u, err := a.clients.Account.CreateUser(r.Context(), &pb.CreateUserRequest{Username: body.Username, Email: body.Email, Password: body.Password, Role: body.Role})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, userToJSON(u))
	return nil
}

type updateUserBody struct {
	Role                  *string `json:"role"`
	Disabled              *bool   `json:"disabled"`
	StorageQuotaBytes     *int64  `json:"storage_quota_bytes"`
	DailyUploadQuotaBytes *int64  `json:"daily_upload_quota_bytes"`
}

func (a *api) updateUser(w http.ResponseWriter, r *http.Request) error {
	var body updateUserBody
	if err := readJSON(w, r, &body); err != nil {
		return err
	}
	u, err := a.clients.Account.UpdateUser(r.Context(), &pb.UpdateUserRequest{
		Id: r.PathValue("id"), Role: body.Role, Disabled: body.Disabled,
		StorageQuotaBytes: body.StorageQuotaBytes, DailyUploadQuotaBytes: body.DailyUploadQuotaBytes,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userToJSON(u))
	return nil
}
