package e2e

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/rpc"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// checkSameRules sends each bad value both through the edge and straight to
// the gRPC service behind it: the services own every domain rule, so both
// must refuse it with the same message (400 at the edge, InvalidArgument or
// NotFound on gRPC).
func checkSameRules(t *testing.T, pf *platform) {
	t.Helper()
	// The services are called as the edge calls them: as the uploader, the
	// principal signed with the install's key.
	key, err := hex.DecodeString(internalKey)
	if err != nil {
		t.Fatal(err)
	}
	dial := func(name string) *grpc.ClientConn {
		conn, err := rpc.Dial(pf.grpc[name], key)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	code, body := pf.do(t, "GET", "/api/v1/me", "")
	var me struct {
		ID       string `json:"id"`
		Username string `json:"username"`
		Role     string `json:"role"`
	}
	if err := json.Unmarshal(body, &me); code != http.StatusOK || err != nil {
		t.Fatalf("GET /api/v1/me = %d %s", code, body)
	}
	uploader := auth.Principal{UserID: me.ID, Username: me.Username, Role: auth.Role(me.Role)}
	upload := pb.NewUploadServiceClient(dial("upload"))
	host := pb.NewHostServiceClient(dial("host"))
	search := pb.NewSearchServiceClient(dial("search"))

	// An open upload of a 6 MiB file (two 5 MiB parts), for the signing rules.
	code, body = pf.do(t, "POST", "/api/v1/uploads", `{"title":"rules","filename":"r.mp4","size_bytes":6291456}`)
	if code != http.StatusCreated {
		t.Fatalf("create upload = %d %s", code, body)
	}
	var sess struct {
		VideoID string `json:"video_id"`
	}
	if err := json.Unmarshal(body, &sess); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pf.do(t, "DELETE", "/api/v1/uploads/"+sess.VideoID, "") })

	long := strings.Repeat("a", 201)
	many := make([]int32, 1001)
	for i := range many {
		many[i] = 1
	}
	manyJSON, _ := json.Marshal(many)
	missing := "0190a1b2-0000-7000-8000-000000000000"

	type rpcCall func(ctx context.Context) error
	cases := []struct {
		name               string
		method, path, body string
		status             int
		grpc               rpcCall
		code               codes.Code
	}{
		{"list limit 0", "GET", "/api/v1/videos?limit=0", "", 400,
			func(ctx context.Context) error {
				_, err := host.ListVideos(ctx, &pb.ListVideosRequest{PageSize: proto.Int32(0)})
				return err
			}, codes.InvalidArgument},
		{"list limit too big", "GET", "/api/v1/videos?limit=101", "", 400,
			func(ctx context.Context) error {
				_, err := host.ListVideos(ctx, &pb.ListVideosRequest{PageSize: proto.Int32(101)})
				return err
			}, codes.InvalidArgument},
		{"list foreign cursor", "GET", "/api/v1/videos?cursor=abc", "", 400,
			func(ctx context.Context) error {
				_, err := host.ListVideos(ctx, &pb.ListVideosRequest{Cursor: "abc"})
				return err
			}, codes.InvalidArgument},
		{"search without query", "GET", "/api/v1/search?q=", "", 400,
			func(ctx context.Context) error {
				_, err := search.Search(ctx, &pb.SearchRequest{})
				return err
			}, codes.InvalidArgument},
		{"search blank query", "GET", "/api/v1/search?q=" + url.QueryEscape("   "), "", 400,
			func(ctx context.Context) error {
				_, err := search.Search(ctx, &pb.SearchRequest{Query: "   "})
				return err
			}, codes.InvalidArgument},
		{"search long query", "GET", "/api/v1/search?q=" + long, "", 400,
			func(ctx context.Context) error {
				_, err := search.Search(ctx, &pb.SearchRequest{Query: long})
				return err
			}, codes.InvalidArgument},
		{"search limit too big", "GET", "/api/v1/search?q=sea&limit=101", "", 400,
			func(ctx context.Context) error {
				_, err := search.Search(ctx, &pb.SearchRequest{Query: "sea", PageSize: proto.Int32(101)})
				return err
			}, codes.InvalidArgument},
		{"suggest without prefix", "GET", "/api/v1/search/suggest?q=", "", 400,
			func(ctx context.Context) error {
				_, err := search.Suggest(ctx, &pb.SuggestRequest{})
				return err
			}, codes.InvalidArgument},
		{"suggest limit over the suggestion bound", "GET", "/api/v1/search/suggest?q=se&limit=50", "", 400,
			func(ctx context.Context) error {
				_, err := search.Suggest(ctx, &pb.SuggestRequest{Prefix: "se", Limit: proto.Int32(50)})
				return err
			}, codes.InvalidArgument},
		{"suggest limit beyond int32", "GET", "/api/v1/search/suggest?q=se&limit=99999999999", "", 400,
			func(ctx context.Context) error {
				_, err := search.Suggest(ctx, &pb.SuggestRequest{Prefix: "se", Limit: proto.Int32(1<<31 - 1)})
				return err
			}, codes.InvalidArgument},
		{"upload without title", "POST", "/api/v1/uploads", `{"title":" ","filename":"a.mp4","size_bytes":10}`, 400,
			func(ctx context.Context) error {
				_, err := upload.CreateUpload(ctx, &pb.CreateUploadRequest{Title: " ", Filename: "a.mp4", SizeBytes: 10})
				return err
			}, codes.InvalidArgument},
		{"upload title too long", "POST", "/api/v1/uploads", `{"title":"` + long + `","filename":"a.mp4","size_bytes":10}`, 400,
			func(ctx context.Context) error {
				_, err := upload.CreateUpload(ctx, &pb.CreateUploadRequest{Title: long, Filename: "a.mp4", SizeBytes: 10})
				return err
			}, codes.InvalidArgument},
		{"upload negative size", "POST", "/api/v1/uploads", `{"title":"x","filename":"a.mp4","size_bytes":-1}`, 400,
			func(ctx context.Context) error {
				_, err := upload.CreateUpload(ctx, &pb.CreateUploadRequest{Title: "x", Filename: "a.mp4", SizeBytes: -1})
				return err
			}, codes.InvalidArgument},
		{"upload too large", "POST", "/api/v1/uploads", `{"title":"x","filename":"a.mp4","size_bytes":999999999999}`, 400,
			func(ctx context.Context) error {
				_, err := upload.CreateUpload(ctx, &pb.CreateUploadRequest{Title: "x", Filename: "a.mp4", SizeBytes: 999999999999})
				return err
			}, codes.InvalidArgument},
		{"upload type not accepted", "POST", "/api/v1/uploads", `{"title":"x","filename":"a.pdf","content_type":"application/pdf","size_bytes":10}`, 400,
			func(ctx context.Context) error {
				_, err := upload.CreateUpload(ctx, &pb.CreateUploadRequest{Title: "x", Filename: "a.pdf", ContentType: "application/pdf", SizeBytes: 10})
				return err
			}, codes.InvalidArgument},
		{"sign no parts", "POST", "/api/v1/uploads/" + sess.VideoID + "/parts/sign", `{"part_numbers":[]}`, 400,
			func(ctx context.Context) error {
				_, err := upload.SignParts(ctx, &pb.SignPartsRequest{VideoId: sess.VideoID})
				return err
			}, codes.InvalidArgument},
		{"sign part 0", "POST", "/api/v1/uploads/" + sess.VideoID + "/parts/sign", `{"part_numbers":[0]}`, 400,
			func(ctx context.Context) error {
				_, err := upload.SignParts(ctx, &pb.SignPartsRequest{VideoId: sess.VideoID, PartNumbers: []int32{0}})
				return err
			}, codes.InvalidArgument},
		{"sign a part past the file", "POST", "/api/v1/uploads/" + sess.VideoID + "/parts/sign", `{"part_numbers":[3]}`, 400,
			func(ctx context.Context) error {
				_, err := upload.SignParts(ctx, &pb.SignPartsRequest{VideoId: sess.VideoID, PartNumbers: []int32{3}})
				return err
			}, codes.InvalidArgument},
		{"sign too many parts at once", "POST", "/api/v1/uploads/" + sess.VideoID + "/parts/sign", `{"part_numbers":` + string(manyJSON) + `}`, 400,
			func(ctx context.Context) error {
				_, err := upload.SignParts(ctx, &pb.SignPartsRequest{VideoId: sess.VideoID, PartNumbers: many})
				return err
			}, codes.InvalidArgument},
		{"complete an upload that does not exist", "POST", "/api/v1/uploads/" + missing + "/complete", "", 404,
			func(ctx context.Context) error {
				_, err := upload.CompleteUpload(ctx, &pb.CompleteUploadRequest{VideoId: missing})
				return err
			}, codes.NotFound},
	}
	for _, c := range cases {
		code, body := pf.do(t, c.method, c.path, c.body)
		var e struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(body, &e); err != nil || code != c.status || e.Error.Message == "" {
			t.Errorf("%s: %s %s = %d %s; want %d with a JSON error", c.name, c.method, c.path, code, body, c.status)
			continue
		}
		ctx, cancel := context.WithTimeout(auth.NewContext(context.Background(), uploader), 10*time.Second)
		err := c.grpc(ctx)
		cancel()
		st, _ := status.FromError(err)
		if st.Code() != c.code {
			t.Errorf("%s: gRPC = %v, want %s", c.name, err, c.code)
			continue
		}
		if st.Message() != e.Error.Message {
			t.Errorf("%s: the edge says %q, the service %q; want one message", c.name, e.Error.Message, st.Message())
		}
	}
}
