package video

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cloudflix/cloudflix/internal/auth"
)

// Caption is one language's captions of a video: a WebVTT file stored at
// CaptionKey, named in the video's master playlist.
type Caption struct {
	Language  string // a BCP 47 tag in its canonical case (CanonicalLanguage)
	Label     string // what a player's captions menu shows
	SizeBytes int64  // of the stored WebVTT file
	UpdatedAt time.Time
}

// Bounds of a caption's names and of a video's captions.
const (
	// MaxLanguageTag is the longest language tag taken: a language, a
	// script, a region and a variant fit with room to spare.
	MaxLanguageTag = 35
	// MaxCaptionLabel is the most characters of a caption's label: a menu
	// entry, not a description.
	MaxCaptionLabel = 64
	// MaxCaptions is how many languages of captions one video may have.
	MaxCaptions = 50
)

// CanonicalLanguage checks that tag is written as a BCP 47 language tag (a
// language of two or three letters, then subtags of one to eight letters
// or digits, joined by hyphens) and returns it in the case RFC 5646 section
// 2.1.1 recommends: "pt-BR", "zh-Hant-TW", "sr-latn" becomes "sr-Latn". The
// tag names files and playlist entries, so one spelling per language keeps
// "en" and "EN" from being two captions. Whether the registry knows the
// subtags is not checked: players show the label, not the tag.
func CanonicalLanguage(tag string) (string, error) {
	if tag == "" || len(tag) > MaxLanguageTag {
		return "", Invalid("language %q: give a BCP 47 tag of at most %d characters, like en or pt-BR", tag, MaxLanguageTag)
	}
	subtags := strings.Split(tag, "-")
	for i, sub := range subtags {
		ok := len(sub) >= 1 && len(sub) <= 8
		for _, c := range sub {
			ok = ok && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9')
		}
		if i == 0 {
			ok = ok && len(sub) >= 2 && len(sub) <= 3
		}
		if !ok {
			return "", Invalid("language %q is not a BCP 47 tag: give one like en or pt-BR", tag)
		}
		switch sub = strings.ToLower(sub); {
		case i > 0 && len(sub) == 2 && isLetters(sub):
			sub = strings.ToUpper(sub) // region
		case i > 0 && len(sub) == 4 && isLetters(sub):
			sub = strings.ToUpper(sub[:1]) + sub[1:] // script
		}
		subtags[i] = sub
	}
	return strings.Join(subtags, "-"), nil
}

func isLetters(s string) bool {
	for _, c := range s {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// CaptionLabel checks a caption's label and returns it trimmed; an empty
// label becomes the language tag. A label is one line of printable text
// without a double quote, which the master playlist's NAME attribute
// cannot hold.
func CaptionLabel(label, language string) (string, error) {
	label = strings.TrimSpace(label)
	if label == "" {
		return language, nil
	}
	if !utf8.ValidString(label) || utf8.RuneCountInString(label) > MaxCaptionLabel {
		return "", Invalid("caption label: give at most %d characters of UTF-8 text", MaxCaptionLabel)
	}
	for _, c := range label {
		if c == '"' || !unicode.IsPrint(c) && c != ' ' {
			return "", Invalid("caption label %q: no double quotes or control characters", label)
		}
	}
	return label, nil
}

// CanEditCaptions reports whether p may add, replace or delete v's
// captions: whoever may edit its details.
func CanEditCaptions(p auth.Principal, v Video) bool { return CanEdit(p, v) }

// Object keys of captions. They lie beside the HLS folder rather than in it,
// so that a re-encode, which replaces that folder whole, keeps them.
func CaptionsPrefix(id string) string { return "videos/" + id + "/captions/" }

// CaptionKey is where the WebVTT file of a video's captions in language is.
func CaptionKey(id, language string) string { return CaptionsPrefix(id) + language + ".vtt" }

// CaptionPlaylistKey is where the HLS subtitle media playlist of a video's
// captions in language is.
func CaptionPlaylistKey(id, language string) string {
	return CaptionsPrefix(id) + language + ".m3u8"
}

// CaptionPlaylistURI is the URI of the captions' media playlist relative to
// the master playlist (MasterPlaylistKey): a relative path keeps a signed
// media link's prefix for the captions as for the renditions.
func CaptionPlaylistURI(language string) string { return "../captions/" + language + ".m3u8" }
