package webhook

import "github.com/cloudflix/cloudflix/internal/auth"

// Who may do what with webhook endpoints, decided from the principal and
// the endpoint alone.

// CanManage reports whether p may register and manage endpoints of their
// own: a signed-in user whose credential may upload, since an endpoint
// acts on what becomes of their videos.
func CanManage(p auth.Principal) bool { return p.Allows(auth.ScopeUpload) }

// CanWatchAllVideos reports whether p may register an endpoint for the
// events of every video: admins.
func CanWatchAllVideos(p auth.Principal) bool { return p.Administers() }

// CanAccess reports whether p may read, change, test or remove e: its
// owner, and admins (who may remove any that is abused).
func CanAccess(p auth.Principal, e Endpoint) bool {
	return p.Is(e.OwnerID, auth.ScopeUpload) || p.Administers()
}
