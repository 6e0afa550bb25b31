package video

// Playable reports whether v can be watched now: ready, or still encoding
// with the start of every rendition published already. Watching while
// encoding is a property of the processing state, not a state of its own:
// every rule about a processing video (its lease, its reclaim after a
// worker dies, no listing or search until ready) holds unchanged.
func (v Video) Playable() bool {
	return v.State == StateReady || v.State == StateProcessing && v.PlayableSeconds > 0
}
