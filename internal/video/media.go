package video

import (
	"path"
	"strings"
)

// sourceTypes are the media types of the video containers people upload,
// by file extension, for clients that name a file but not its type. The
// upload service accepts the types its configuration lists; these are the
// names it and the CLI give them.
var sourceTypes = map[string]string{
	".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm",
	".mkv": "video/x-matroska", ".avi": "video/x-msvideo", ".mpg": "video/mpeg", ".mpeg": "video/mpeg",
	".ts": "video/mp2t", ".m2ts": "video/mp2t", ".ogv": "video/ogg", ".3gp": "video/3gpp", ".flv": "video/x-flv",
}

// SourceType is the media type of a video file told by its name, or "" when
// the extension names no known video container.
func SourceType(filename string) string {
	return sourceTypes[strings.ToLower(path.Ext(filename))]
}

// outputTypes are the Content-Types of the files the encoder writes under
// VideoPrefix.
var outputTypes = map[string]string{
	".m3u8": "application/vnd.apple.mpegurl",
	".m4s":  "video/iso.segment",
	".mp4":  "video/mp4",
	".jpg":  "image/jpeg",
	".vtt":  "text/vtt; charset=utf-8",
}

// OutputType is the Content-Type of an encoder output named name; files of
// any other kind are plain bytes.
func OutputType(name string) string {
	if t, ok := outputTypes[strings.ToLower(path.Ext(name))]; ok {
		return t
	}
	return "application/octet-stream"
}
