package store

import (
	"encoding/json"
	"fmt"

	"github.com/cloudflix/cloudflix/internal/video"
)

// rendition is the stored JSON form of a video.Rendition, the same in every
// store; its field names are part of the schemas, so they are spelled out
// here rather than derived.
type rendition struct {
	Name             string  `json:"name"`
	Width            int     `json:"width"`
	Height           int     `json:"height"`
	Bandwidth        int64   `json:"bandwidth"`
	AverageBandwidth int64   `json:"average_bandwidth"`
	Codecs           string  `json:"codecs"`
	FrameRate        float64 `json:"frame_rate"`
}

// EncodeRenditions is the JSON a store keeps in a video's renditions column.
func EncodeRenditions(rs []video.Rendition) ([]byte, error) {
	out := make([]rendition, len(rs))
	for i, r := range rs {
		out[i] = rendition(r)
	}
	return json.Marshal(out)
}

// ScannedVideo completes a video an adapter has scanned from a row of
// videos, given the row's renditions column as stored: it decodes the
// renditions, and an empty list of tags or renditions becomes nil, so that
// a video reads the same from every store.
func ScannedVideo(v video.Video, renditions []byte) (video.Video, error) {
	var rs []rendition
	if err := json.Unmarshal(renditions, &rs); err != nil {
		return video.Video{}, fmt.Errorf("renditions of %s: %w", v.ID, err)
	}
	v.Renditions = nil
	if len(rs) > 0 {
		v.Renditions = make([]video.Rendition, len(rs))
		for i, r := range rs {
			v.Renditions[i] = video.Rendition(r)
		}
	}
	if len(v.Tags) == 0 {
		v.Tags = nil
	}
	return v, nil
}

// WhyNot explains a conditional UPDATE of a video that matched no row, from
// the video's row as the adapter then finds it: found is false when there
// is none, else state is the row's. An absent video, or a deleted one when
// deletedIsGone, gives ErrNotFound; any other, ErrWrongState.
func WhyNot(state video.State, found, deletedIsGone bool) error {
	if !found || (deletedIsGone && state == video.StateDeleted) {
		return video.ErrNotFound
	}
	return fmt.Errorf("video is %s: %w", state, video.ErrWrongState)
}

// WhyNotReencode is WhyNot for Reencode, which also refuses a video whose
// source was dropped: there is nothing left to encode.
func WhyNotReencode(state video.State, found, sourceDropped bool) error {
	if found && sourceDropped && state != video.StateDeleted {
		return fmt.Errorf("video is %s and its source was removed: %w", state, video.ErrWrongState)
	}
	return WhyNot(state, found, true)
}
