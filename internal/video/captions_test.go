package video

import "testing"

func TestCanonicalLanguage(t *testing.T) {
	for in, want := range map[string]string{
		"en": "en", "EN": "en", "pt-br": "pt-BR", "zh-hant-tw": "zh-Hant-TW", "sr-LATN": "sr-Latn",
		"es-419": "es-419", "de-CH-1996": "de-CH-1996", "en-x-sdh": "en-x-sdh", "yue": "yue",
	} {
		if got, err := CanonicalLanguage(in); err != nil || got != want {
			t.Errorf("CanonicalLanguage(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "e", "english", "en_US", "en-", "-en", "en--US", "1en", "en-toolongsubtag", "en/../x", "en US", "ü"} {
		if got, err := CanonicalLanguage(bad); !IsInvalid(err) {
			t.Errorf("CanonicalLanguage(%q) = %q, %v; want invalid", bad, got, err)
		}
	}
}

func TestCaptionLabel(t *testing.T) {
	if got, err := CaptionLabel("  Français ", "fr"); err != nil || got != "Français" {
		t.Errorf("CaptionLabel = %q, %v", got, err)
	}
	if got, err := CaptionLabel("", "fr"); err != nil || got != "fr" {
		t.Errorf("CaptionLabel of nothing = %q, %v; want the language", got, err)
	}
	for _, bad := range []string{`say "hi"`, "two\nlines", "tab\there", "\xff", string(make([]rune, MaxCaptionLabel+1))} {
		if _, err := CaptionLabel(bad, "en"); !IsInvalid(err) {
			t.Errorf("CaptionLabel(%q) = %v; want invalid", bad, err)
		}
	}
}
