// Keyboard shortcuts, for the whole page while it shows the player:
// space or k plays and pauses, the arrows seek and change the volume,
// f is full screen, m mutes.

const seekStep = 5;
const volumeStep = 0.1;

export function keyboardShortcuts(video, { togglePlay, toggleFullscreen, wake }, signal) {
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
    const t = e.target;
    // Keys typed into a field, or moving through a menu, are theirs.
    if (t.closest?.("input:not([type=range]), textarea, select, [contenteditable], [role=menu]")) return;
    const onControl = t.closest?.("button, a, input[type=range]");
    switch (e.key) {
      case " ":
      case "k":
        if (e.key === " " && onControl && !t.matches("input[type=range]")) return;
        togglePlay();
        break;
      case "ArrowLeft":
      case "ArrowRight":
        if (t.matches?.("input[type=range]")) return;
        video.currentTime = Math.max(0, Math.min(video.duration || Infinity,
          video.currentTime + (e.key === "ArrowLeft" ? -seekStep : seekStep)));
        break;
      case "ArrowUp":
      case "ArrowDown":
        if (t.matches?.("input[type=range]")) return;
        video.muted = false;
        video.volume = Math.max(0, Math.min(1, video.volume + (e.key === "ArrowUp" ? volumeStep : -volumeStep)));
        break;
      case "f":
        toggleFullscreen();
        break;
      case "m":
        video.muted = !video.muted;
        break;
      default:
        return;
    }
    e.preventDefault();
    wake();
  }, { signal });
}
