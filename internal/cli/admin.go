package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	accountsvc "github.com/cloudflix/cloudflix/account-svc"
	"github.com/cloudflix/cloudflix/internal/account"
	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/config"
	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/video"
)

const adminUsage = `usage: cloudflix admin <command> [flags]

commands:
  create-user  make an account: --username U --email E [--role user|moderator|admin]
               [--password-file F]; without a file the password is read from
               standard input (asked twice on a terminal)
  set-role     change a user's role: --username U --role user|moderator|admin
  set-quota    change a user's quotas in bytes (0: the default, -1: none):
               --username U [--storage BYTES] [--daily BYTES]

The commands work on the metadata store the CLOUDFLIX_* variables name, like
migrate, whether or not the platform is running; on PostgreSQL run migrate
first.
`

// admin manages users straight in the metadata store: how an operator makes
// the first admin, before anybody can sign in to make one.
func admin(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, adminUsage)
		return usageError{"no admin command given"}
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "create-user":
		return createUser(ctx, rest, stdin, stdout, stderr)
	case "set-role":
		return setRole(ctx, rest, stdout, stderr)
	case "set-quota":
		return setQuota(ctx, rest, stdout, stderr)
	case "help", "--help", "-h":
		fmt.Fprint(stdout, adminUsage)
		return nil
	default:
		fmt.Fprint(stderr, adminUsage)
		return usageError{fmt.Sprintf("unknown admin command %q", cmd)}
	}
}

func createUser(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("admin create-user", stderr)
	username := fs.String("username", "", "the new user's username")
	email := fs.String("email", "", "the new user's e-mail address")
	role := fs.String("role", "user", "user, moderator or admin")
	passwordFile := fs.String("password-file", "", "a file whose first line is the password; empty: read it from standard input")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *username == "" || *email == "" {
		return usageError{"admin create-user needs --username and --email"}
	}
	r, err := auth.ParseRole(*role)
	if err != nil {
		return usageError{err.Error()}
	}
	pw, err := newPassword(*passwordFile, stdin, stderr)
	if err != nil {
		return err
	}
	u, hash, err := accountsvc.NewUser(*username, *email, pw, r)
	if err != nil {
		return err
	}
	return withStore(ctx, func(db store.Store) error {
		created, err := db.CreateUser(ctx, u, hash)
		if errors.Is(err, account.ErrTaken) {
			return fmt.Errorf("username %q or e-mail %q is taken", u.Username, u.Email)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created %s %s (id %s)\n", created.Role, created.Username, created.ID)
		return nil
	})
}

func setRole(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("admin set-role", stderr)
	username := fs.String("username", "", "the user's username")
	role := fs.String("role", "", "user, moderator or admin")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *username == "" || *role == "" {
		return usageError{"admin set-role needs --username and --role"}
	}
	change, err := accountsvc.ParseChange(role, nil, nil, nil)
	if err != nil {
		return usageError{err.Error()}
	}
	return updateUser(ctx, *username, change, stdout)
}

func setQuota(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("admin set-quota", stderr)
	username := fs.String("username", "", "the user's username")
	storage := fs.Int64("storage", 0, "bytes of video the user may keep; 0: the default, -1: no limit")
	daily := fs.Int64("daily", 0, "bytes the user may upload in 24 hours; 0: the default, -1: no limit")
	if err := parse(fs, args); err != nil {
		return err
	}
	var storageQuota, dailyQuota *int64
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "storage":
			storageQuota = storage
		case "daily":
			dailyQuota = daily
		}
	})
	if *username == "" || (storageQuota == nil && dailyQuota == nil) {
		return usageError{"admin set-quota needs --username and --storage or --daily"}
	}
	change, err := accountsvc.ParseChange(nil, nil, storageQuota, dailyQuota)
	if err != nil {
		return usageError{err.Error()}
	}
	return updateUser(ctx, *username, change, stdout)
}

func updateUser(ctx context.Context, username string, change account.Change, stdout io.Writer) error {
	return withStore(ctx, func(db store.Store) error {
		u, err := db.UserByName(ctx, username)
		if errors.Is(err, video.ErrNotFound) {
			return fmt.Errorf("no user is named %q", username)
		}
		if err != nil {
			return err
		}
		if u, err = db.UpdateUser(ctx, u.ID, change); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: role %s, storage quota %s, daily upload quota %s\n", u.Username, u.Role, quota(u.StorageQuota), quota(u.DailyQuota))
		return nil
	})
}

func quota(q int64) string {
	switch q {
	case 0:
		return "the default"
	case account.Unlimited:
		return "none"
	}
	return video.HumanBytes(q)
}

// withStore runs fn on the configured metadata store.
func withStore(ctx context.Context, fn func(store.Store) error) error {
	var c config.Backends
	if err := config.Load(&c); err != nil {
		return err
	}
	if err := c.Check(); err != nil {
		return err
	}
	if c.Metadata == "sqlite" {
		if err := os.MkdirAll(c.DataDir, 0o755); err != nil {
			return fmt.Errorf("data dir: %w", err)
		}
	}
	db, closeStore, err := platform.OpenStore(ctx, c)
	if err != nil {
		return err
	}
	defer closeStore()
	return fn(db)
}

// newPassword reads a new account's password from a file (its first line),
// or as login reads one, asked a second time on a terminal to catch a
// typing mistake that nobody could see.
func newPassword(file string, stdin io.Reader, stderr io.Writer) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("password file: %w", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		return strings.TrimSuffix(line, "\r"), nil
	}
	in := bufio.NewReader(stdin)
	pw, err := readPassword(in, stdin, stderr, false)
	if err != nil {
		return "", err
	}
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "Again. ")
		again, err := readPassword(in, stdin, stderr, false)
		if err != nil {
			return "", err
		}
		if again != pw {
			return "", errors.New("the two passwords differ")
		}
	}
	return pw, nil
}
