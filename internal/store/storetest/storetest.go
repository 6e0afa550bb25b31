// Package storetest is the contract of a CloudFlix metadata store, written
// once as a test suite that every adapter (PostgreSQL, SQLite) runs against a
// real database of its kind. It must never depend on an adapter: what it
// asserts is what services may rely on, whichever store they are given.
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/store"
)

// Store is the port the suite holds adapters to.
type Store = store.Store

// Run runs the contract against stores made by open, one fresh, empty and
// migrated store per subtest; open registers its own cleanup with t.
func Run(t *testing.T, open func(t *testing.T) Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Store)
	}{
		{"Ping", testPing},
		{"CreateAndRead", testCreateAndRead},
		{"UnknownAndMalformedIDs", testUnknownAndMalformedIDs},
		{"EncodeLifecycle", testEncodeLifecycle},
		{"NoMovingBackwards", testNoMovingBackwards},
		{"FailAndReencode", testFailAndReencode},
		{"LeaseTakeover", testLeaseTakeover},
		{"ReleaseEncode", testReleaseEncode},
		{"Outbox", testOutbox},
		{"RequeueStuck", testRequeueStuck},
		{"ExpireLeases", testExpireLeases},
		{"DeleteVideo", testDeleteVideo},
		{"LatestVideos", testLatestVideos},
		{"AddViews", testAddViews},
		{"SearchWords", testSearchWords},
		{"SearchPrefix", testSearchPrefix},
		{"SearchTypo", testSearchTypo},
		{"SearchRanking", testSearchRanking},
		{"SearchReadyOnly", testSearchReadyOnly},
		{"SearchSanitisesQuery", testSearchSanitisesQuery},
		{"SearchPaging", testSearchPaging},
		{"Suggest", testSuggest},
		{"OutboxCarriesTrace", testOutboxCarriesTrace},
		{"EncodeBacklog", testEncodeBacklog},
		{"ConcurrentMarkUploaded", testConcurrentMarkUploaded},
		{"ConcurrentClaimEncode", testConcurrentClaimEncode},
		{"ConcurrentAddViews", testConcurrentAddViews},
		{"CreateUser", testCreateUser},
		{"UsernameAndEmailUnique", testUsernameAndEmailUnique},
		{"UsersPaging", testUsersPaging},
		{"UnknownUsers", testUnknownUsers},
		{"UpdateUser", testUpdateUser},
		{"SetPassword", testSetPassword},
		{"Sessions", testSessions},
		{"LastUseThrottled", testLastUseThrottled},
		{"Tokens", testTokens},
		{"Invites", testInvites},
		{"ConcurrentUseInvite", testConcurrentUseInvite},
		{"Identities", testIdentities},
		{"SignInFailures", testSignInFailures},
		{"OwnerAndPrivacy", testOwnerAndPrivacy},
		{"ListedOnlyPublic", testListedOnlyPublic},
		{"VocabularyOnlyPublic", testVocabularyOnlyPublic},
		{"UpdateVideo", testUpdateVideo},
		{"ChannelVideos", testChannelVideos},
		{"UploadUsage", testUploadUsage},
		{"FirstAdminAdopts", testFirstAdminAdopts},
		{"PromotedFirstAdminAdopts", testPromotedFirstAdminAdopts},
		{"ConcurrentFirstAdmins", testConcurrentFirstAdmins},
		{"TakeLease", testTakeLease},
		{"ExpiredUploads", testExpiredUploads},
		{"PurgeOutbox", testPurgeOutbox},
		{"DropFailedSources", testDropFailedSources},
		{"LiveVideos", testLiveVideos},
		{"ImportVideos", testImportVideos},
		{"Likes", testLikes},
		{"Playable", testPlayable},
		{"Chunks", testChunks},
		{"ConcurrentClaimChunk", testConcurrentClaimChunk},
		{"LikesOfWhatIsGone", testLikesOfWhatIsGone},
		{"ConcurrentLikes", testConcurrentLikes},
		{"Trending", testTrending},
		{"TrendingPaging", testTrendingPaging},
		{"ReportsQueue", testReportsQueue},
		{"ReportRules", testReportRules},
		{"HideAndRestore", testHideAndRestore},
		{"HideAndRestoreComment", testHideAndRestoreComment},
		{"DismissReports", testDismissReports},
		{"ConcurrentReports", testConcurrentReports},
		{"WebhookEndpoints", testWebhookEndpoints},
		{"WebhookEndpointBound", testWebhookEndpointBound},
		{"WebhookEventsWithChanges", testWebhookEventsWithChanges},
		{"WebhookClaims", testWebhookClaims},
		{"ConcurrentWebhookClaims", testConcurrentWebhookClaims},
		{"WebhookLogPaging", testWebhookLogPaging},
		{"WebhookCommentEvents", testWebhookCommentEvents},
		{"PurgeWebhookDeliveries", testPurgeWebhookDeliveries},
		{"Playlists", testPlaylists},
		{"PlaylistsPerOwner", testPlaylistsPerOwner},
		{"PlaylistItems", testPlaylistItems},
		{"ConcurrentPlaylistChanges", testConcurrentPlaylistChanges},
		{"Captions", testCaptions},
		{"CaptionsRefused", testCaptionsRefused},
		{"ConcurrentCaptionLimit", testConcurrentCaptionLimit},
		{"Comments", testComments},
		{"CommentsPaging", testCommentsPaging},
		{"CommentsOfWhatIsGone", testCommentsOfWhatIsGone},
		{"CommentsOff", testCommentsOff},
		{"CommentAllowance", testCommentAllowance},
		{"ConcurrentComments", testConcurrentComments},
		{"ConcurrentCommentAllowance", testConcurrentCommentAllowance},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// Long enough that no lease in these tests runs out unless it is meant to.
const longLease = time.Hour

func ctxFor(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
