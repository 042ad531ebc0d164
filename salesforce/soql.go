package salesforce

import (
	"fmt"
	"strings"
)

// maxLiteral is the longest string literal SOQL accepts in a WHERE clause.
const maxLiteral = 4000

// soqlEscapes are the escape sequences SOQL defines for quoted strings.
var soqlEscapes = map[rune]string{
	'\\': `\\`,
	'\'': `\'`,
	'"':  `\"`,
	'\n': `\n`,
	'\r': `\r`,
	'\t': `\t`,
	'\b': `\b`,
	'\f': `\f`,
}

// EscapeSOQL returns s escaped for use inside a single-quoted SOQL string
// literal compared with "=". Backslash, quotes and control characters are
// escaped; % and _ are left alone since they are special only in LIKE.
// Escaping each character once, left to right, has the effect of escaping
// backslashes first.
func EscapeSOQL(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if esc, ok := soqlEscapes[r]; ok {
			b.WriteString(esc)
			continue
		}
		if isControl(r) {
			fmt.Fprintf(&b, `\u%04X`, r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isControl reports C0 and C1 control characters and DEL.
func isControl(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r <= 0x9f)
}
