package hostsvc

import (
	"context"
	"slices"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cloudflix/cloudflix/internal/account"
	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	"github.com/cloudflix/cloudflix/internal/store/storetest"
	"github.com/cloudflix/cloudflix/internal/testenv"
	"github.com/cloudflix/cloudflix/internal/video"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

func playlistClient(t *testing.T, f fixture) pb.PlaylistServiceClient {
	t.Helper()
	svc := NewPlaylists(f.store, f.cache)
	return pb.NewPlaylistServiceClient(platformtest.Serve(t, func(s *grpc.Server) { pb.RegisterPlaylistServiceServer(s, svc) }))
}

// items pages through a playlist with pages of size and returns, page by
// page, the titles of the videos shown ("-" for a place without its
// video).
func items(t *testing.T, client pb.PlaylistServiceClient, ctx context.Context, id string, size int32) [][]string {
	t.Helper()
	var pages [][]string
	cursor := ""
	for {
		resp, err := client.ListPlaylistItems(ctx, &pb.ListPlaylistItemsRequest{Id: id, PageSize: &size, Cursor: cursor})
		if err != nil {
			t.Fatalf("ListPlaylistItems: %v", err)
		}
		var page []string
		for _, it := range resp.GetItems() {
			title := "-"
			if it.GetVideo() != nil {
				title = it.GetVideo().GetTitle()
			}
			page = append(page, title)
		}
		pages = append(pages, page)
		if cursor = resp.GetNextCursor(); cursor == "" {
			return pages
		}
	}
}

// A public playlist shows each viewer the videos they may see, in order:
// someone else's private video and a deleted one are skipped for everyone
// but the owner, who sees their places, and the pages fill from the items
// after them.
func TestPlaylistShowsWhatTheViewerMaySee(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, func(t *testing.T, p *platform.Process) {
		f := newFixture(t, p)
		client := playlistClient(t, f)
		ctx := t.Context()
		owner := storetest.NewUser(t, f.store, testenv.Name("own"), auth.RoleUser)
		other := storetest.NewUser(t, f.store, testenv.Name("oth"), auth.RoleUser)
		as := func(u account.User) context.Context { return storetest.SignedIn(ctx, u) }

		pl, err := client.CreatePlaylist(as(owner), &pb.CreatePlaylistRequest{Title: " Mix ", Privacy: pb.VideoPrivacy_VIDEO_PRIVACY_PUBLIC})
		if err != nil || pl.GetTitle() != "Mix" || pl.GetOwnerUsername() != owner.Username {
			t.Fatalf("CreatePlaylist = %v, %v", pl, err)
		}
		a := storetest.ReadyBy(t, f.store, other.ID, video.PrivacyPublic, "A")
		third := storetest.NewUser(t, f.store, testenv.Name("thi"), auth.RoleUser)
		hidden := storetest.ReadyBy(t, f.store, third.ID, video.PrivacyPrivate, "Someone else's private")
		b := storetest.ReadyBy(t, f.store, owner.ID, video.PrivacyPrivate, "B")
		gone := storetest.ReadyBy(t, f.store, owner.ID, video.PrivacyPublic, "Gone")
		d := storetest.ReadyBy(t, f.store, other.ID, video.PrivacyUnlisted, "D")
		for _, v := range []video.Video{a, b, gone, d} {
			if _, err := client.AddPlaylistItem(as(owner), &pb.AddPlaylistItemRequest{Id: pl.GetId(), VideoId: v.ID}); err != nil {
				t.Fatalf("add %s: %v", v.Title, err)
			}
		}
		// The owner may not add what they may not see; it got there when
		// they could (it was public then).
		_, err = client.AddPlaylistItem(as(owner), &pb.AddPlaylistItemRequest{Id: pl.GetId(), VideoId: hidden.ID})
		if status.Code(err) != codes.NotFound {
			t.Fatalf("adding someone else's private video: %v, want NotFound", err)
		}
		storetest.AddToPlaylist(t, f.store, pl.GetId(), hidden.ID)
		if _, err := client.MovePlaylistItem(as(owner), &pb.MovePlaylistItemRequest{Id: pl.GetId(), VideoId: hidden.ID, Position: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.DeleteVideo(ctx, gone.ID); err != nil {
			t.Fatal(err)
		}

		want := map[string][][]string{
			"anonymous":     {{"A"}, {"D"}},
			"another user":  {{"A"}, {"D"}},
			"the owner":     {{"A"}, {"-"}, {"B"}, {"-"}, {"D"}},
			"a moderator":   {{"A"}, {"Someone else's private"}, {"B"}, {"D"}},
			"a bigger page": {{"A", "D"}},
		}
		mod := storetest.NewUser(t, f.store, testenv.Name("mod"), auth.RoleModerator)
		for name, c := range map[string]context.Context{"anonymous": ctx, "another user": as(other), "the owner": as(owner), "a moderator": as(mod)} {
			if got := items(t, client, c, pl.GetId(), 1); !slices.EqualFunc(got, want[name], slices.Equal) {
				t.Errorf("%s sees %q, want %q", name, got, want[name])
			}
		}
		if got := items(t, client, ctx, pl.GetId(), 10); !slices.EqualFunc(got, want["a bigger page"], slices.Equal) {
			t.Errorf("a page of 10 is %q, want %q", got, want["a bigger page"])
		}
		got, err := client.GetPlaylist(ctx, &pb.GetPlaylistRequest{Id: pl.GetId()})
		if err != nil || got.GetItemCount() != 5 {
			t.Errorf("GetPlaylist = %v, %v; want 5 items counted, those hidden included", got, err)
		}
	})
}

// Who may do what, over real gRPC: the rules of playlist/access.go, with
// their codes.
func TestPlaylistRules(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, func(t *testing.T, p *platform.Process) {
		f := newFixture(t, p)
		client := playlistClient(t, f)
		ctx := t.Context()
		owner := storetest.NewUser(t, f.store, testenv.Name("own"), auth.RoleUser)
		other := storetest.NewUser(t, f.store, testenv.Name("oth"), auth.RoleUser)
		mod := storetest.NewUser(t, f.store, testenv.Name("mod"), auth.RoleModerator)
		as := func(u account.User) context.Context { return storetest.SignedIn(ctx, u) }
		readToken := auth.NewContext(ctx, auth.Principal{UserID: owner.ID, Role: auth.RoleUser, Scopes: []auth.Scope{auth.ScopeRead}})

		wantCode := func(what string, err error, want codes.Code) {
			t.Helper()
			if status.Code(err) != want {
				t.Errorf("%s: %v, want %s", what, err, want)
			}
		}
		_, err := client.CreatePlaylist(ctx, &pb.CreatePlaylistRequest{Title: "x"})
		wantCode("anonymous makes a playlist", err, codes.Unauthenticated)
		_, err = client.CreatePlaylist(readToken, &pb.CreatePlaylistRequest{Title: "x"})
		wantCode("a read token makes a playlist", err, codes.PermissionDenied)
		_, err = client.CreatePlaylist(as(owner), &pb.CreatePlaylistRequest{Title: "  "})
		wantCode("a playlist without a title", err, codes.InvalidArgument)

		private, err := client.CreatePlaylist(as(owner), &pb.CreatePlaylistRequest{Title: "Mine", Privacy: pb.VideoPrivacy_VIDEO_PRIVACY_PRIVATE})
		if err != nil {
			t.Fatal(err)
		}
		public, err := client.CreatePlaylist(as(owner), &pb.CreatePlaylistRequest{Title: "Ours"})
		if err != nil || public.GetPrivacy() != pb.VideoPrivacy_VIDEO_PRIVACY_PUBLIC {
			t.Fatalf("a playlist without a privacy = %v, %v; want public", public, err)
		}
		v := storetest.Ready(t, f.store, "V")

		_, err = client.GetPlaylist(as(other), &pb.GetPlaylistRequest{Id: private.GetId()})
		wantCode("another user reads a private playlist", err, codes.NotFound)
		_, err = client.ListPlaylistItems(ctx, &pb.ListPlaylistItemsRequest{Id: private.GetId()})
		wantCode("anonymous reads a private playlist's items", err, codes.NotFound)
		_, err = client.GetPlaylist(readToken, &pb.GetPlaylistRequest{Id: private.GetId()})
		wantCode("the owner's read token reads it", err, codes.OK)
		_, err = client.AddPlaylistItem(as(other), &pb.AddPlaylistItemRequest{Id: public.GetId(), VideoId: v.ID})
		wantCode("another user adds to a public playlist", err, codes.PermissionDenied)
		_, err = client.AddPlaylistItem(as(mod), &pb.AddPlaylistItemRequest{Id: private.GetId(), VideoId: v.ID})
		wantCode("a moderator adds to someone's playlist", err, codes.PermissionDenied)
		_, err = client.AddPlaylistItem(as(owner), &pb.AddPlaylistItemRequest{Id: public.GetId()})
		wantCode("an add without a video", err, codes.InvalidArgument)
		_, err = client.MovePlaylistItem(as(owner), &pb.MovePlaylistItemRequest{Id: public.GetId(), VideoId: v.ID, Position: 0})
		wantCode("moving what the playlist does not hold", err, codes.NotFound)
		added, err := client.AddPlaylistItem(as(owner), &pb.AddPlaylistItemRequest{Id: public.GetId(), VideoId: v.ID})
		if err != nil || !added.GetAdded() || added.GetItem().GetVideo().GetId() != v.ID {
			t.Fatalf("AddPlaylistItem = %v, %v", added, err)
		}
		_, err = client.MovePlaylistItem(as(owner), &pb.MovePlaylistItemRequest{Id: public.GetId(), VideoId: v.ID, Position: -1})
		wantCode("a move to -1", err, codes.InvalidArgument)
		_, err = client.ListPlaylistItems(ctx, &pb.ListPlaylistItemsRequest{Id: public.GetId(), Cursor: "not ours"})
		wantCode("a cursor the service did not give", err, codes.InvalidArgument)

		title := "Renamed"
		_, err = client.UpdatePlaylist(as(other), &pb.UpdatePlaylistRequest{Id: public.GetId(), Title: &title})
		wantCode("another user renames", err, codes.PermissionDenied)
		renamed, err := client.UpdatePlaylist(as(mod), &pb.UpdatePlaylistRequest{Id: private.GetId(), Title: &title})
		if err != nil || renamed.GetTitle() != title || renamed.GetPrivacy() != pb.VideoPrivacy_VIDEO_PRIVACY_PRIVATE {
			t.Fatalf("a moderator renames = %v, %v", renamed, err)
		}

		// A channel lists the public playlists; the user sees all theirs.
		list := func(c context.Context, username string) int {
			t.Helper()
			resp, err := client.ListPlaylists(c, &pb.ListPlaylistsRequest{Username: username})
			if err != nil {
				t.Fatal(err)
			}
			return len(resp.GetPlaylists())
		}
		if n := list(as(other), owner.Username); n != 1 {
			t.Errorf("another user sees %d of the owner's playlists, want the public one", n)
		}
		if n := list(as(owner), ""); n != 2 {
			t.Errorf("the owner sees %d of their playlists, want 2", n)
		}
		_, err = client.ListPlaylists(ctx, &pb.ListPlaylistsRequest{})
		wantCode("anonymous lists their own playlists", err, codes.Unauthenticated)
		_, err = client.ListPlaylists(ctx, &pb.ListPlaylistsRequest{Username: "nobody-here"})
		wantCode("the playlists of nobody", err, codes.NotFound)

		_, err = client.DeletePlaylist(as(other), &pb.DeletePlaylistRequest{Id: public.GetId()})
		wantCode("another user deletes", err, codes.PermissionDenied)
		_, err = client.DeletePlaylist(as(owner), &pb.DeletePlaylistRequest{Id: public.GetId()})
		wantCode("the owner deletes", err, codes.OK)
		_, err = client.GetPlaylist(as(owner), &pb.GetPlaylistRequest{Id: public.GetId()})
		wantCode("a deleted playlist", err, codes.NotFound)
		if _, err := f.store.Video(ctx, v.ID); err != nil {
			t.Errorf("the video of a deleted playlist: %v", err)
		}
	})
}
