// Package catalogue makes synthetic catalogues of READY videos, for trying
// and measuring CloudFlix at the scale of a real site: titles, tags and
// descriptions whose words follow a Zipf distribution as the words of real
// text do (a few words in most videos, most words in few), encode facts and
// renditions that look like a finished encode, views and creation times,
// all reproducible from a seed. It never touches a store: its caller
// imports what it makes (store.Store.ImportVideos).
package catalogue

import (
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/cloudflix/cloudflix/internal/video"
)

// The shape of the text, in words, and of the distributions words are drawn
// from: Zipf's law with exponent wordSkew over the vocabulary (rank 0 the
// most common word), and a steeper one over the tag words.
const (
	wordSkew = 1.1
	tagSkew  = 1.3
	// tagWords is how many of the most common words serve as tags.
	tagWords = 500

	minTitleWords, maxTitleWords             = 2, 6
	minTags, maxTags                         = 1, 5
	minDescriptionWords, maxDescriptionWords = 12, 48
)

// Generator makes the videos of one catalogue, the same ones for the same
// seed. It is not safe for concurrent use.
type Generator struct {
	rng         *rand.Rand
	words, tags *rand.Zipf
	views       *rand.Zipf
	owner       string
	step        time.Duration
	end         time.Time
	total, made int
}

// New returns a generator of total videos owned by the user with id owner
// ("" for none), created one every step, the last at end.
func New(seed uint64, total int, owner string, end time.Time, step time.Duration) *Generator {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return &Generator{
		rng:   rng,
		words: rand.NewZipf(rng, wordSkew, 1, uint64(len(vocabulary())-1)),
		tags:  rand.NewZipf(rng, tagSkew, 1, tagWords-1),
		views: rand.NewZipf(rng, 1.2, 1, 10_000_000),
		owner: owner,
		end:   end,
		step:  step,
		total: total,
	}
}

// Left is how many videos the generator has yet to make.
func (g *Generator) Left() int { return g.total - g.made }

// Next makes the next video, older ones first; after the last it makes no
// more (ok is false).
func (g *Generator) Next() (v video.Video, ok bool) {
	if g.made >= g.total {
		return video.Video{}, false
	}
	created := g.end.Add(-time.Duration(g.total-1-g.made) * g.step)
	g.made++
	height := heights[g.rng.IntN(len(heights))]
	duration := 10 + g.rng.Float64()*1790
	renditions := ladder(height)
	return video.Video{
		ID:              g.id(),
		OwnerID:         g.owner,
		Privacy:         video.PrivacyPublic,
		Title:           g.title(),
		Description:     g.description(),
		Tags:            g.tagList(),
		State:           video.StateReady,
		DurationSeconds: float64(int(duration*100)) / 100,
		Width:           renditions[0].Width,
		Height:          height,
		Renditions:      renditions,
		Views:           int64(g.views.Uint64()),
		SizeBytes:       int64(duration * float64(renditions[0].AverageBandwidth) / 8),
		ContentType:     "video/mp4",
		CreatedAt:       created,
	}, true
}

// Batch makes up to n more videos.
func (g *Generator) Batch(n int) []video.Video {
	out := make([]video.Video, 0, min(n, g.Left()))
	for len(out) < n {
		v, ok := g.Next()
		if !ok {
			break
		}
		out = append(out, v)
	}
	return out
}

// id is a version 4 UUID drawn from the generator's stream.
func (g *Generator) id() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], g.rng.Uint64())
	binary.LittleEndian.PutUint64(b[8:], g.rng.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return uuid.UUID(b).String()
}

func (g *Generator) between(lo, hi int) int { return lo + g.rng.IntN(hi-lo+1) }

func (g *Generator) word() string { return vocabulary()[g.words.Uint64()] }

func (g *Generator) title() string {
	n := g.between(minTitleWords, maxTitleWords)
	ws := make([]string, n)
	for i := range ws {
		ws[i] = capitalized(g.word())
	}
	return strings.Join(ws, " ")
}

func (g *Generator) tagList() []string {
	n := g.between(minTags, maxTags)
	tags := make([]string, 0, n)
	for len(tags) < n {
		t := vocabulary()[g.tags.Uint64()]
		if !contains(tags, t) {
			tags = append(tags, t)
		}
	}
	return tags
}

// description is sentences of four to twelve words.
func (g *Generator) description() string {
	n := g.between(minDescriptionWords, maxDescriptionWords)
	var b strings.Builder
	for i := 0; i < n; {
		sentence := min(g.between(4, 12), n-i)
		for j := range sentence {
			w := g.word()
			if j == 0 {
				w = capitalized(w)
			} else {
				b.WriteByte(' ')
			}
			b.WriteString(w)
		}
		b.WriteByte('.')
		i += sentence
		if i < n {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func capitalized(w string) string {
	r, size := utf8.DecodeRuneInString(w)
	return string(unicode.ToUpper(r)) + w[size:]
}

// heights are the sources' heights, drawn evenly.
var heights = []int{2160, 1080, 1080, 720, 720, 720, 480, 360}

// rungs are the renditions a source of at least their height gets.
var rungs = []video.Rendition{
	{Name: "2160p", Width: 3840, Height: 2160, Bandwidth: 18_000_000, AverageBandwidth: 14_000_000, Codecs: "avc1.640033,mp4a.40.2", FrameRate: 30},
	{Name: "1080p", Width: 1920, Height: 1080, Bandwidth: 6_000_000, AverageBandwidth: 4_500_000, Codecs: "avc1.640028,mp4a.40.2", FrameRate: 30},
	{Name: "720p", Width: 1280, Height: 720, Bandwidth: 3_000_000, AverageBandwidth: 2_400_000, Codecs: "avc1.64001f,mp4a.40.2", FrameRate: 30},
	{Name: "480p", Width: 854, Height: 480, Bandwidth: 1_400_000, AverageBandwidth: 1_100_000, Codecs: "avc1.64001e,mp4a.40.2", FrameRate: 30},
	{Name: "360p", Width: 640, Height: 360, Bandwidth: 900_000, AverageBandwidth: 700_000, Codecs: "avc1.64001e,mp4a.40.2", FrameRate: 30},
}

// ladder is the renditions of a source of height, the largest first.
func ladder(height int) []video.Rendition {
	var out []video.Rendition
	for _, r := range rungs {
		if r.Height <= height {
			out = append(out, r)
		}
	}
	return out
}
