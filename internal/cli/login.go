package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/cloudflix/cloudflix/internal/credentials"
)

// login signs in with a password, makes an API token for this machine and
// keeps it, so that later commands need no password. The password goes to
// the server once and is kept nowhere.
func login(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("login", stderr)
	server := fs.String("server", "http://localhost:8080", "CloudFlix server URL")
	username := fs.String("username", "", "username or e-mail (asked when not given)")
	passwordStdin := fs.Bool("password-stdin", false, "read the password from standard input instead of the terminal")
	scopes := fs.String("scopes", "read,upload", "what the token may do: read, upload, admin, comma separated")
	name := fs.String("name", "", "the token's name on the account page (default: cloudflix CLI on HOST)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError{"login takes no arguments"}
	}
	in := bufio.NewReader(stdin)
	if *username == "" {
		fmt.Fprint(stderr, "Username or e-mail: ")
		line, err := in.ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("read username: %w", err)
		}
		*username = strings.TrimSpace(line)
	}
	password, err := readPassword(in, stdin, stderr, *passwordStdin)
	if err != nil {
		return err
	}
	if *name == "" {
		host, _ := os.Hostname()
		*name = "cloudflix CLI on " + host
	}
	c, err := newSignIn(*server)
	if err != nil {
		return err
	}
	token, user, err := c.tokenFor(ctx, *username, password, *name, strings.Split(*scopes, ","))
	if err != nil {
		return err
	}
	path, err := credentials.File()
	if err != nil {
		return err
	}
	if err := credentials.Save(path, *server, credentials.Login{Username: user, Token: token}); err != nil {
		return fmt.Errorf("keep the token: %w", err)
	}
	fmt.Fprintf(stdout, "signed in to %s as %s; the token is kept in %s\n", strings.TrimRight(*server, "/"), user, path)
	return nil
}

// logout forgets the token kept for a server. The token itself stays valid
// until it is revoked on the account page.
func logout(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("logout", stderr)
	server := fs.String("server", "http://localhost:8080", "CloudFlix server URL")
	if err := parse(fs, args); err != nil {
		return err
	}
	path, err := credentials.File()
	if err != nil {
		return err
	}
	if err := credentials.Forget(path, *server); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "forgot the token for %s; revoke it on the account page to end it everywhere\n", strings.TrimRight(*server, "/"))
	return nil
}

// readPassword reads a password without echo from a terminal, or one line
// from standard input.
func readPassword(in *bufio.Reader, stdin io.Reader, stderr io.Writer, fromStdin bool) (string, error) {
	if f, ok := stdin.(*os.File); ok && !fromStdin && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "Password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		return string(b), nil
	}
	line, err := in.ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// signIn is what the command line uses of the API to get a token: it signs
// in, makes a token with the session that gives, and signs that session
// out again.
type signIn struct {
	server string
	origin string
	http   *http.Client
}

func newSignIn(server string) (*signIn, error) {
	u, err := url.Parse(strings.TrimRight(server, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageError{fmt.Sprintf("--server %q is not an http or https URL", server)}
	}
	jar, _ := cookiejar.New(nil)
	return &signIn{server: u.String(), origin: u.Scheme + "://" + u.Host, http: &http.Client{Jar: jar, Timeout: 30 * time.Second}}, nil
}

func (c *signIn) tokenFor(ctx context.Context, login, password, name string, scopes []string) (token, username string, err error) {
	var user struct {
		Username string `json:"username"`
	}
	if err := c.call(ctx, "POST", "/api/v1/auth/signin", map[string]string{"login": login, "password": password}, &user); err != nil {
		return "", "", fmt.Errorf("sign in: %w", err)
	}
	defer func() {
		// The session was only the way to the token.
		_ = c.call(context.WithoutCancel(ctx), "POST", "/api/v1/auth/signout", nil, nil)
	}()
	var created struct {
		Secret string `json:"secret"`
	}
	if err := c.call(ctx, "POST", "/api/v1/me/tokens", map[string]any{"name": name, "scopes": scopes}, &created); err != nil {
		return "", "", fmt.Errorf("make a token: %w", err)
	}
	return created.Secret, user.Username, nil
}

// call sends a JSON request as the site's own page would (the server
// refuses cookie requests from anywhere else) and decodes the answer.
func (c *signIn) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.server+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Origin", c.origin)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&e) == nil && e.Error.Message != "" {
			return errors.New(e.Error.Message)
		}
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	return nil
}

// tokenFor finds the API token a command uses: --token, else
// CLOUDFLIX_TOKEN, else the one `cloudflix login` kept for the server.
func tokenFor(flag, server string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if t := os.Getenv("CLOUDFLIX_TOKEN"); t != "" {
		return t, nil
	}
	path, err := credentials.File()
	if err != nil {
		return "", nil
	}
	l, ok, err := credentials.For(path, server)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", nil
	}
	return l.Token, nil
}
