package video

import (
	"errors"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/auth"
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
	public := Video{OwnerID: "o", Privacy: PrivacyPublic, State: StateReady}
	private := Video{OwnerID: "o", Privacy: PrivacyPrivate, State: StateReady}
	hidden := Video{OwnerID: "o", Privacy: PrivacyPublic, State: StateReady, HiddenAt: time.Unix(1, 0), HiddenReason: "spam"}
	hiddenUnlisted := Video{OwnerID: "o", Privacy: PrivacyUnlisted, State: StateReady, HiddenAt: time.Unix(1, 0)}
	byOther := Comment{AuthorID: "x"}
	hiddenByOther := Comment{AuthorID: "x", HiddenAt: time.Unix(2, 0), HiddenReason: "rude"}
	cases := []struct {
		name string
		got  bool
		want bool
	}{
		{"anyone views a public video", CanView(anon, public), true},
		{"anyone views an unlisted one by its link", CanView(anon, Video{Privacy: PrivacyUnlisted}), true},
		{"nobody else views a private one", CanView(other, private), false},
		{"its owner views a private one", CanView(owner, private), true},
		{"with a read token too", CanView(ownerRead, private), true},
		{"a moderator views a private one", CanView(mod, private), true},
		{"the owner edits", CanEdit(owner, public), true},
		{"a read token does not edit", CanEdit(ownerRead, public), false},
		{"another user does not edit", CanEdit(other, public), false},
		{"a moderator edits", CanEdit(mod, public), true},
		{"the owner re-encodes", CanManageEncode(owner, public), true},
		{"a moderator does not re-encode", CanManageEncode(mod, public), false},
		{"an admin re-encodes", CanManageEncode(admin, public), true},
		{"nobody owns an ownerless video", CanEdit(owner, Video{Privacy: PrivacyPublic}), false},
		{"anonymous does not like", CanLike(anon, public), false},
		{"another user likes a public video", CanLike(other, public), true},
		{"with a read token too", CanLike(ownerRead, public), true},
		{"nobody else likes a private one", CanLike(other, private), false},
		{"its owner likes a private one", CanLike(owner, private), true},
		{"anyone reads a public video's comments", CanReadComments(anon, public), true},
		{"nobody else reads a private one's", CanReadComments(other, private), false},
		{"anonymous does not comment", CanComment(anon, public), false},
		{"another user comments on a public video", CanComment(other, public), true},
		{"a read token does not comment", CanComment(ownerRead, public), false},
		{"nobody else comments on a private one", CanComment(other, private), false},
		{"its owner comments on a private one", CanComment(owner, private), true},
		{"a moderator comments on a private one", CanComment(mod, private), true},
		{"the author edits a comment", CanEditComment(other, public, byOther), true},
		{"with a read token they do not", CanEditComment(auth.Principal{UserID: "x", Role: auth.RoleUser, Scopes: []auth.Scope{auth.ScopeRead}}, public, byOther), false},
		{"the video's owner does not edit another's comment", CanEditComment(owner, public, byOther), false},
		{"a moderator does not edit another's comment", CanEditComment(mod, public, byOther), false},
		{"anonymous does not edit", CanEditComment(anon, public, Comment{}), false},
		{"the author of a comment on a video now private does not edit it", CanEditComment(other, private, byOther), false},
		{"the author removes a comment", CanRemoveComment(other, public, byOther), true},
		{"the video's owner removes any comment", CanRemoveComment(owner, public, byOther), true},
		{"with a read token they do not", CanRemoveComment(ownerRead, public, byOther), false},
		{"a moderator removes any comment", CanRemoveComment(mod, public, byOther), true},
		{"an admin removes any comment", CanRemoveComment(admin, private, byOther), true},
		{"another user does not remove it", CanRemoveComment(auth.Principal{UserID: "y", Role: auth.RoleUser}, public, byOther), false},
		{"anonymous does not remove it", CanRemoveComment(anon, public, byOther), false},
		{"anonymous does not upload", CanUpload(anon), false},
		{"a user uploads", CanUpload(owner), true},
		{"a public ready video is listed", Listed(public), true},
		{"a private one is not", Listed(private), false},
		{"a hidden one is not", Listed(hidden), false},
		{"nobody else views a hidden video", CanView(other, hidden), false},
		{"anonymous does not view a hidden video", CanView(anon, hidden), false},
		{"nor a hidden unlisted one by its link", CanView(anon, hiddenUnlisted), false},
		{"its owner views a hidden video", CanView(owner, hidden), true},
		{"a moderator views a hidden video", CanView(mod, hidden), true},
		{"an admin views a hidden video", CanView(admin, hidden), true},
		{"nobody else likes a hidden video", CanLike(other, hidden), false},
		{"the author of a hidden comment does not edit it", CanEditComment(other, public, hiddenByOther), false},
		{"the author of a hidden comment removes it", CanRemoveComment(other, public, hiddenByOther), true},
		{"the video's owner removes a hidden comment", CanRemoveComment(owner, public, hiddenByOther), true},
		{"the author reads their hidden comment", CanReadHiddenComment(other, hiddenByOther), true},
		{"with a read token too", CanReadHiddenComment(auth.Principal{UserID: "x", Role: auth.RoleUser, Scopes: []auth.Scope{auth.ScopeRead}}, hiddenByOther), true},
		{"a moderator reads a hidden comment", CanReadHiddenComment(mod, hiddenByOther), true},
		{"an admin reads a hidden comment", CanReadHiddenComment(admin, hiddenByOther), true},
		{"the video's owner does not", CanReadHiddenComment(owner, hiddenByOther), false},
		{"anonymous does not", CanReadHiddenComment(anon, hiddenByOther), false},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: got %v", c.name, c.got)
		}
	}
	if err := Refusal(other, private); !errors.Is(err, ErrNotFound) {
		t.Errorf("refusing a private video to another user: %v, want not found", err)
	}
	if err := Refusal(anon, public); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("refusing an edit to anonymous: %v", err)
	}
	if err := Refusal(other, public); !errors.Is(err, ErrForbidden) {
		t.Errorf("refusing an edit to another user: %v", err)
	}
}

func TestCommentAsSeen(t *testing.T) {
	at := time.Unix(100, 0)
	c := Comment{
		ID: "c", VideoID: "v", ParentID: "p", AuthorID: "x", AuthorName: "xena", Body: "rude words",
		Replies: 3, CreatedAt: at, EditedAt: at.Add(time.Minute), HiddenAt: at.Add(time.Hour), HiddenReason: "abuse",
	}
	placeholder := Comment{ID: "c", VideoID: "v", ParentID: "p", Replies: 3, CreatedAt: at, HiddenAt: at.Add(time.Hour)}
	for _, tc := range []struct {
		name string
		p    auth.Principal
		want Comment
	}{
		{"anonymous", auth.Principal{}, placeholder},
		{"another user", auth.Principal{UserID: "y", Role: auth.RoleUser}, placeholder},
		{"the video's owner", auth.Principal{UserID: "o", Role: auth.RoleUser}, placeholder},
		{"a moderator's read token", auth.Principal{UserID: "m", Role: auth.RoleModerator, Scopes: []auth.Scope{auth.ScopeRead}}, placeholder},
		{"its author", auth.Principal{UserID: "x", Role: auth.RoleUser}, c},
		{"a moderator", auth.Principal{UserID: "m", Role: auth.RoleModerator}, c},
		{"an admin", auth.Principal{UserID: "a", Role: auth.RoleAdmin}, c},
	} {
		if got := CommentAsSeen(tc.p, c); got != tc.want {
			t.Errorf("%s is shown %+v, want %+v", tc.name, got, tc.want)
		}
	}
	shown := c
	shown.HiddenAt, shown.HiddenReason = time.Time{}, ""
	if got := CommentAsSeen(auth.Principal{}, shown); got != shown {
		t.Errorf("a comment that shows is shown %+v, want it whole", got)
	}
	if !placeholder.Hidden() || shown.Hidden() {
		t.Error("Hidden() does not follow HiddenAt")
	}
}
