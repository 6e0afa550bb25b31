package transcode

import (
	"strings"
	"testing"
)

func TestCheckToolsExplainsWhatIsMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := Options{}.CheckTools()
	if err == nil || !strings.Contains(err.Error(), "apt-get install ffmpeg") {
		t.Fatalf("CheckTools with no ffmpeg = %v", err)
	}
}
