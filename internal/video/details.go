package video

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// What a video's details may be, when it is uploaded and when it is edited.
const (
	MaxTitleRunes       = 200
	MaxDescriptionRunes = 5000
	MaxTags             = 20
	MaxTagRunes         = 40
)

// NormalizeTitle trims a title and checks it.
func NormalizeTitle(s string) (string, error) { return TrimTitle(s, MaxTitleRunes) }

// NormalizeDescription trims a description and checks it.
func NormalizeDescription(s string) (string, error) {
	return TrimDescription(s, MaxDescriptionRunes)
}

// TrimTitle trims a title and checks that it has at least one and at most
// max characters: the rule of every title, a video's or a playlist's.
func TrimTitle(s string, max int) (string, error) {
	t := strings.TrimSpace(s)
	switch {
	case t == "":
		return "", Invalid("title is required")
	case utf8.RuneCountInString(t) > max:
		return "", Invalid("title is longer than %d characters", max)
	}
	return t, nil
}

// TrimDescription checks that a description has at most max characters
// and trims it: the rule of every description.
func TrimDescription(s string, max int) (string, error) {
	if utf8.RuneCountInString(s) > max {
		return "", Invalid("description is longer than %d characters", max)
	}
	return strings.TrimSpace(s), nil
}

// NormalizeTags lower-cases tags, folds their white space, drops empty ones
// and repeats, and checks the rest.
func NormalizeTags(in []string) ([]string, error) {
	if len(in) > MaxTags {
		return nil, Invalid("at most %d tags are allowed", MaxTags)
	}
	out := []string{}
	for _, t := range in {
		t = strings.ToLower(strings.Join(strings.Fields(t), " "))
		switch {
		case t == "":
			continue
		case utf8.RuneCountInString(t) > MaxTagRunes:
			return nil, Invalid("tag %q is longer than %d characters", t, MaxTagRunes)
		case !slices.Contains(out, t):
			out = append(out, t)
		}
	}
	return out, nil
}

// Normalize checks an edit and returns it with its values normalized.
func (c Change) Normalize() (Change, error) {
	var out Change
	if c.Title != nil {
		t, err := NormalizeTitle(*c.Title)
		if err != nil {
			return Change{}, err
		}
		out.Title = &t
	}
	if c.Description != nil {
		d, err := NormalizeDescription(*c.Description)
		if err != nil {
			return Change{}, err
		}
		out.Description = &d
	}
	if c.Tags != nil {
		tags, err := NormalizeTags(*c.Tags)
		if err != nil {
			return Change{}, err
		}
		out.Tags = &tags
	}
	if c.Privacy != nil {
		p, err := ParsePrivacy(string(*c.Privacy))
		if err != nil {
			return Change{}, err
		}
		out.Privacy = &p
	}
	out.CommentsOff = c.CommentsOff
	return out, nil
}

// Empty reports whether the change changes nothing.
func (c Change) Empty() bool {
	return c.Title == nil && c.Description == nil && c.Tags == nil && c.Privacy == nil && c.CommentsOff == nil
}
