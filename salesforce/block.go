package salesforce

import (
	"fmt"
	"strings"
	"time"
)

// Block returns the text appended for s: a header line with the occurrence
// time (RFC 3339, UTC, when known) and Marker(s.SummaryID), then the summary.
func Block(s Summary) string {
	var b strings.Builder
	b.WriteString("--- Call summary ")
	if !s.OccurredAt.IsZero() {
		b.WriteString(s.OccurredAt.UTC().Format(time.RFC3339))
		b.WriteString(" ")
	}
	b.WriteString(Marker(s.SummaryID))
	b.WriteString(" ---\n")
	b.WriteString(defuseMarkers(s.Text))
	return b.String()
}

// markerPrefix opens every marker; only block headers may hold it.
const markerPrefix = "[summary-id "

// defuseMarkers rewrites marker-like text inside a summary, so that a
// summary quoting a header can never make another summary look applied.
func defuseMarkers(text string) string {
	return strings.ReplaceAll(text, markerPrefix, "[summary id ")
}

// Marker returns the part of a block's header that identifies summaryID.
// Distinct ids give markers that are not substrings of one another: the id
// is bracketed, and brackets, % and control characters in it are
// percent-escaped.
func Marker(summaryID string) string {
	var b strings.Builder
	b.WriteString(markerPrefix)
	for i := 0; i < len(summaryID); i++ {
		ch := summaryID[i]
		if ch == '%' || ch == '[' || ch == ']' || ch < 0x20 || ch == 0x7f {
			fmt.Fprintf(&b, "%%%02X", ch)
			continue
		}
		b.WriteByte(ch)
	}
	b.WriteString("]")
	return b.String()
}
