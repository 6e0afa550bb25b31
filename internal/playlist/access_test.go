package playlist

import (
	"errors"
	"testing"

	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/video"
)

func TestAccessRules(t *testing.T) {
	var (
		anon      = auth.Principal{}
		owner     = auth.Principal{UserID: "o", Role: auth.RoleUser}
		ownerRead = auth.Principal{UserID: "o", Role: auth.RoleUser, Scopes: []auth.Scope{auth.ScopeRead}}
		other     = auth.Principal{UserID: "x", Role: auth.RoleUser}
		mod       = auth.Principal{UserID: "m", Role: auth.RoleModerator}
		admin     = auth.Principal{UserID: "a", Role: auth.RoleAdmin}
	)
	public := Playlist{OwnerID: "o", Privacy: video.PrivacyPublic}
	unlisted := Playlist{OwnerID: "o", Privacy: video.PrivacyUnlisted}
	private := Playlist{OwnerID: "o", Privacy: video.PrivacyPrivate}
	othersPrivateVideo := video.Video{OwnerID: "y", Privacy: video.PrivacyPrivate}
	publicVideo := video.Video{OwnerID: "y", Privacy: video.PrivacyPublic}
	cases := []struct {
		name string
		got  bool
		want bool
	}{
		{"anyone views a public playlist", CanView(anon, public), true},
		{"anyone views an unlisted one by its link", CanView(anon, unlisted), true},
		{"nobody else views a private one", CanView(other, private), false},
		{"its owner views a private one", CanView(owner, private), true},
		{"with a read token too", CanView(ownerRead, private), true},
		{"a moderator views a private one", CanView(mod, private), true},
		{"anonymous makes none", CanCreate(anon), false},
		{"a user makes one", CanCreate(owner), true},
		{"a read token makes none", CanCreate(ownerRead), false},
		{"the owner edits", CanEdit(owner, public), true},
		{"a read token does not edit", CanEdit(ownerRead, public), false},
		{"another user does not edit", CanEdit(other, public), false},
		{"a moderator edits", CanEdit(mod, private), true},
		{"an admin edits", CanEdit(admin, public), true},
		{"the owner arranges", CanArrange(owner, private), true},
		{"another user does not arrange", CanArrange(other, public), false},
		{"a moderator does not arrange", CanArrange(mod, public), false},
		{"the owner adds a video they see", CanAdd(owner, public, publicVideo), true},
		{"nor one they do not", CanAdd(owner, public, othersPrivateVideo), false},
		{"a moderator's own playlist takes what they see", CanAdd(mod, Playlist{OwnerID: "m"}, othersPrivateVideo), true},
		{"the owner sees all theirs", SeesEverything(owner, "o"), true},
		{"another user does not", SeesEverything(other, "o"), false},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: got %v", c.name, c.got)
		}
	}
	if err := Refusal(other, private); !errors.Is(err, video.ErrNotFound) {
		t.Errorf("refusing a private playlist to another user: %v, want not found", err)
	}
	if err := Refusal(anon, public); !errors.Is(err, video.ErrUnauthenticated) {
		t.Errorf("refusing an edit to anonymous: %v", err)
	}
	if err := Refusal(other, public); !errors.Is(err, video.ErrForbidden) {
		t.Errorf("refusing an edit to another user: %v", err)
	}
}

func TestNormalize(t *testing.T) {
	pl, err := Playlist{Title: "  Mix  ", Description: " d "}.Normalize()
	if err != nil || pl.Title != "Mix" || pl.Description != "d" || pl.Privacy != video.PrivacyPublic {
		t.Fatalf("Normalize = %+v, %v", pl, err)
	}
	for _, bad := range []Playlist{{Title: " "}, {Title: "x", Privacy: "secret"}, {Title: string(make([]rune, MaxTitleRunes+1))}} {
		if _, err := bad.Normalize(); !video.IsInvalid(err) {
			t.Errorf("Normalize(%+v) = %v, want invalid", bad, err)
		}
	}
	empty := ""
	if _, err := (Change{Title: &empty}).Normalize(); !video.IsInvalid(err) {
		t.Errorf("an empty title is taken: %v", err)
	}
}
