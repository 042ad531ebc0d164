package salesforce

import "strings"

// TooLongPolicy says what happens to a summary that would not fit the
// target field.
type TooLongPolicy string

// Too-long policies.
const (
	// Reject fails the summary with a *TooLongError (dead-letter reason
	// STRING_TOO_LONG).
	Reject TooLongPolicy = "reject"
	// TruncateOldest, in append mode, drops the oldest summary blocks the
	// field holds until the new block fits; text outside summary blocks is
	// never dropped. In overwrite mode the field holds only the summary, so
	// the summary is cut as with TruncateSummary.
	TruncateOldest TooLongPolicy = "truncate-oldest"
	// TruncateSummary cuts the new summary's text so that it fits, ending it
	// with an ellipsis; the block header is kept whole.
	TruncateSummary TooLongPolicy = "truncate-summary"
)

// ellipsis ends a summary that was cut.
const ellipsis = "…"

// blockHeader opens the header line of every appended block.
const blockHeader = "--- Call summary "

// fitText returns text cut to at most room characters (UTF-16 code units),
// ending with an ellipsis, and whether it had to be cut. It reports false
// for ok when not even the ellipsis fits.
func fitText(text string, room int) (fitted string, cut, ok bool) {
	if Length(text) <= room {
		return text, false, true
	}
	if room < Length(ellipsis) {
		return "", false, false
	}
	keep := room - Length(ellipsis)
	n := 0
	for i, r := range text {
		w := 1
		if r > 0xFFFF {
			w = 2
		}
		if n+w > keep {
			return text[:i] + ellipsis, true, true
		}
		n += w
	}
	return text + ellipsis, true, true // not reached: text is longer than room
}

// blockStarts returns the offsets of the summary block headers in value,
// in order: lines that open with the header prefix and hold a marker.
// Summaries cannot hold a marker (defuseMarkers), so only headers do.
func blockStarts(value string) []int {
	var starts []int
	for i := 0; i < len(value); {
		lineEnd := strings.IndexByte(value[i:], '\n')
		if lineEnd < 0 {
			lineEnd = len(value) - i
		}
		line := value[i : i+lineEnd]
		if strings.HasPrefix(line, blockHeader) && strings.Contains(line, markerPrefix) {
			starts = append(starts, i)
		}
		i += lineEnd + 1
	}
	return starts
}

// dropOldestBlock removes the first summary block of value whose marker is
// not in keep, with the blank line that separated it, and reports whether
// there was one. A block runs from its header to the blank line before the
// next header, or to the end; text an agent typed after a block counts as
// part of it, but text before the first block is never dropped.
func dropOldestBlock(value string, keep map[string]bool) (string, bool) {
	starts := blockStarts(value)
	for k, start := range starts {
		header, _, _ := strings.Cut(value[start:], "\n")
		if keepsMarker(header, keep) {
			continue
		}
		if k+1 < len(starts) {
			next := starts[k+1]
			return value[:start] + value[next:], true
		}
		return strings.TrimSuffix(value[:start], "\n\n"), true
	}
	return value, false
}

func keepsMarker(header string, keep map[string]bool) bool {
	for marker := range keep {
		if strings.Contains(header, marker) {
			return true
		}
	}
	return false
}
