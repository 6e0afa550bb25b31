package video

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzNormalizeDetails normalizes any title, description and tags (tags
// separated by commas), as an upload or an edit sends them. What is
// accepted is within the limits, and normalizing it again changes nothing
// and is accepted again.
func FuzzNormalizeDetails(f *testing.F) {
	f.Fuzz(func(t *testing.T, title, description, tags string) {
		if tt, err := NormalizeTitle(title); err == nil {
			if again, err := NormalizeTitle(tt); tt == "" || utf8.RuneCountInString(tt) > MaxTitleRunes || err != nil || again != tt {
				t.Fatalf("title %q normalized as %q, then as %q, %v", title, tt, again, err)
			}
		}
		if d, err := NormalizeDescription(description); err == nil {
			if again, err := NormalizeDescription(d); utf8.RuneCountInString(d) > MaxDescriptionRunes || err != nil || again != d {
				t.Fatalf("description %q normalized as %q, then as %q, %v", description, d, again, err)
			}
		}
		in := strings.Split(tags, ",")
		out, err := NormalizeTags(in)
		if err != nil {
			return
		}
		if len(out) > MaxTags {
			t.Fatalf("%d tags", len(out))
		}
		for i, tag := range out {
			if tag == "" || utf8.RuneCountInString(tag) > MaxTagRunes || slices.Contains(out[:i], tag) {
				t.Fatalf("tags %q normalized as %q", in, out)
			}
		}
		if again, err := NormalizeTags(out); err != nil || !slices.Equal(again, out) {
			t.Fatalf("tags %q normalized as %q, then as %q, %v", in, out, again, err)
		}
	})
}
