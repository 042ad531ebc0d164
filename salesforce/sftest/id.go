package sftest

import (
	"math/bits"
	"strings"
)

// base62 holds the characters a record id is made of, in the order used to
// encode numbers.
const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// checksumAlphabet maps a 5-bit chunk value to the checksum character.
const checksumAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

// ID18 returns the 18-character form of a 15- or 18-character record id,
// and whether id is a well-formed id. An 18-character id is read
// case-insensitively; its checksum restores the case of the first 15
// characters.
func ID18(id string) (string, bool) {
	id15, ok := canonicalID(id)
	if !ok {
		return "", false
	}
	return id15 + checksum(id15), true
}

// canonicalID returns the case-sensitive 15-character key of id.
func canonicalID(id string) (string, bool) {
	switch len(id) {
	case 15:
		if !isBase62(id) {
			return "", false
		}
		return id, true
	case 18:
		return restoreCase(id)
	}
	return "", false
}

// restoreCase rebuilds the 15-character id from an 18-character id in any
// case: bit i of checksum character k says whether character 5k+i is an
// upper-case letter.
func restoreCase(id string) (string, bool) {
	if !isBase62(id[:15]) {
		return "", false
	}
	out := []byte(id[:15])
	for chunk := range 3 {
		mask := strings.IndexByte(checksumAlphabet, upperASCII(id[15+chunk]))
		if mask < 0 {
			return "", false
		}
		for i := range 5 {
			c := &out[chunk*5+i]
			upper := mask&(1<<i) != 0
			switch {
			case isLetter(*c) && upper:
				*c = upperASCII(*c)
			case isLetter(*c):
				*c = lowerASCII(*c)
			case upper:
				return "", false // a digit cannot be upper-case
			}
		}
	}
	return string(out), true
}

// checksum computes the three-character suffix that makes a 15-character
// id case-insensitive.
func checksum(id15 string) string {
	var sum [3]byte
	for chunk := range 3 {
		mask := 0
		for i := range 5 {
			c := id15[chunk*5+i]
			if c >= 'A' && c <= 'Z' {
				mask |= 1 << i
			}
		}
		sum[chunk] = checksumAlphabet[mask]
	}
	return string(sum[:])
}

// idSpace is the number of distinct 10-character base-62 record numbers.
const idSpace = 839299365868340224 // 62^10

// idMultiplier is coprime with 62, so multiplying by it modulo idSpace
// permutes record numbers: ids stay unique but look random and mix case.
const idMultiplier = 608135816305313031

// podCode stands for the server pod that real ids carry after the prefix.
const podCode = "5g"

// newID builds the 18-character id of the n-th record with the given key
// prefix: prefix, pod code, ten scrambled base-62 characters, checksum.
func newID(prefix string, n uint64) string {
	hi, lo := bits.Mul64(n%idSpace, idMultiplier)
	_, v := bits.Div64(hi%idSpace, lo, idSpace)

	id15 := prefix + podCode + encodeBase62(v, 10)
	return id15 + checksum(id15)
}

// encodeBase62 writes n in base 62, padded with zeros to width.
func encodeBase62(n uint64, width int) string {
	out := make([]byte, width)
	for i := width - 1; i >= 0; i-- {
		out[i] = base62[n%62]
		n /= 62
	}
	return string(out)
}

func isBase62(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isLetter(c) && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }

func upperASCII(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c - 'A' + 'a'
	}
	return c
}
