package sqstest

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// maxMessageAttributes is how many user attributes one message may carry.
const maxMessageAttributes = 10

// maxAttributeNameLength and maxDataTypeLength are SQS's limits on an
// attribute's name and type, in characters.
const (
	maxAttributeNameLength = 256
	maxDataTypeLength      = 256
)

// Transport type bytes that SQS digests before an attribute value.
const (
	transportString byte = 1
	transportBinary byte = 2
)

// validBodyRune reports whether SQS accepts r in a message body or a string
// attribute value: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD |
// #x10000-#x10FFFF.
func validBodyRune(r rune) bool {
	switch {
	case r == 0x9 || r == 0xA || r == 0xD:
		return true
	case r >= 0x20 && r <= 0xD7FF:
		return true
	case r >= 0xE000 && r <= 0xFFFD:
		return true
	default:
		return r >= 0x10000 && r <= 0x10FFFF
	}
}

// checkBody rejects a body holding a character SQS does not accept.
func checkBody(body string) *apiError {
	for _, r := range body {
		if !validBodyRune(r) {
			return kindInvalidMessageContents.errorf(
				"Invalid binary character '#x%X' was found in the message body, the set "+
					"of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | "+
					"#xE000 to #xFFFD | #x10000 to #x10FFFF", r)
		}
	}
	return nil
}

// md5Hex is the hex MD5 digest of s, as SQS reports MD5OfBody.
func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// attributesMD5 digests attributes the way SQS computes MD5OfMessageAttributes:
// names in byte order; for each, the name, the data type, a transport byte and
// the value, every string and value preceded by its length as a 4-byte
// big-endian integer. It returns "" for no attributes.
func attributesMD5(attrs map[string]MessageAttribute) string {
	if len(attrs) == 0 {
		return ""
	}
	h := md5.New()
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		a := attrs[name]
		writeLengthPrefixed(h, []byte(name))
		writeLengthPrefixed(h, []byte(a.DataType))
		if a.BinaryValue != nil {
			h.Write([]byte{transportBinary})
			writeLengthPrefixed(h, a.BinaryValue)
		} else {
			h.Write([]byte{transportString})
			writeLengthPrefixed(h, []byte(a.StringValue))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func writeLengthPrefixed(w io.Writer, b []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(b)))
	w.Write(n[:])
	w.Write(b)
}

// attributesSize is what attributes add to a message's size: the bytes of
// each name, data type and value.
func attributesSize(attrs map[string]MessageAttribute) int {
	size := 0
	for name, a := range attrs {
		size += len(name) + len(a.DataType) + len(a.StringValue) + len(a.BinaryValue)
	}
	return size
}

// parseAttributes validates user message attributes as SQS does and
// converts them to their stored form.
func parseAttributes(in map[string]wireAttribute) (map[string]MessageAttribute, *apiError) {
	if len(in) > maxMessageAttributes {
		return nil, kindInvalidParameterValue.errorf(
			"Number of message attributes [%d] exceeds the allowed maximum [%d].",
			len(in), maxMessageAttributes)
	}
	if len(in) == 0 {
		return nil, nil
	}
	out := make(map[string]MessageAttribute, len(in))
	// Sorted, so that of several faults the same one is always reported.
	for _, name := range slices.Sorted(maps.Keys(in)) {
		if err := checkAttributeName(name); err != nil {
			return nil, err
		}
		a, err := parseAttribute(name, in[name])
		if err != nil {
			return nil, err
		}
		out[name] = a
	}
	return out, nil
}

// checkAttributeName enforces SQS's rules for user attribute names.
func checkAttributeName(name string) *apiError {
	bad := func(reason string) *apiError {
		return kindInvalidParameterValue.errorf("Message (user) attribute name '%s' is invalid. %s",
			name, reason)
	}
	switch {
	case name == "":
		return bad("The attribute name must not be empty.")
	case len(name) > maxAttributeNameLength:
		return bad("The attribute name must be at most 256 characters long.")
	case strings.HasPrefix(name, ".") || strings.HasSuffix(name, "."):
		return bad("The attribute name must not start or end with a period (.).")
	case strings.Contains(name, ".."):
		return bad("The attribute name must not contain successive periods (.).")
	}
	lower := strings.ToLower(name)
	if strings.HasPrefix(lower, "aws.") || strings.HasPrefix(lower, "amazon.") {
		return bad("The attribute name must not start with AWS-reserved prefixes AWS. or Amazon.")
	}
	for _, r := range name {
		if !isAttributeNameRune(r) {
			return bad("The attribute name can contain only A-Z, a-z, 0-9, " +
				"underscore (_), hyphen (-), and period (.).")
		}
	}
	return nil
}

func isAttributeNameRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		r == '_' || r == '-' || r == '.'
}

// parseAttribute checks one attribute's data type and value.
func parseAttribute(name string, w wireAttribute) (MessageAttribute, *apiError) {
	base, _, _ := strings.Cut(w.DataType, ".")
	if len(w.DataType) > maxDataTypeLength || (base != "String" && base != "Number" &&
		base != "Binary") {
		return MessageAttribute{}, kindInvalidParameterValue.errorf(
			"The type of message (user) attribute '%s' is invalid. You must use only the "+
				"following supported type prefixes: Binary, Number, String.", name)
	}
	if len(w.StringListValues) > 0 || len(w.BinaryListValues) > 0 {
		return MessageAttribute{}, kindInvalidParameterValue.errorf(
			"Message (user) attribute '%s': list values are not supported.", name)
	}
	empty := kindInvalidParameterValue.errorf(
		"Message (user) attribute '%s' must contain a non-empty value of type '%s'.", name, base)
	if base == "Binary" {
		if len(w.BinaryValue) == 0 {
			return MessageAttribute{}, empty
		}
		return MessageAttribute{DataType: w.DataType, BinaryValue: w.BinaryValue}, nil
	}
	if w.StringValue == nil || *w.StringValue == "" {
		return MessageAttribute{}, empty
	}
	v := *w.StringValue
	if base == "Number" && !validNumber(v) {
		return MessageAttribute{}, kindInvalidParameterValue.errorf(
			"Can't cast the value of message (user) attribute '%s' to a number.", name)
	}
	for _, r := range v {
		if !validBodyRune(r) {
			return MessageAttribute{}, kindInvalidParameterValue.errorf(
				"Message (user) attribute '%s' contains invalid character '#x%X'.", name, r)
		}
	}
	return MessageAttribute{DataType: w.DataType, StringValue: v}, nil
}

// validNumber accepts the decimal numbers SQS accepts for a Number attribute:
// at most 38 significant digits, between -10^128 and 10^126.
func validNumber(s string) bool {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return false
	}
	if strings.ContainsAny(s, "xXpP_") {
		return false
	}
	if f > 1e126 || f < -1e128 {
		return false
	}
	return significantDigits(s) <= 38
}

func significantDigits(s string) int {
	mantissa, _, _ := strings.Cut(strings.ToLower(s), "e")
	digits := strings.TrimLeft(strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, mantissa), "0")
	return len(digits)
}

// systemAttributes converts the MessageSystemAttributes of a send. SQS
// accepts only AWSTraceHeader, a String.
func systemAttributes(in map[string]wireAttribute) (map[string]MessageAttribute, *apiError) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make(map[string]MessageAttribute, len(in))
	for name, w := range in {
		if name != "AWSTraceHeader" {
			return nil, kindInvalidParameterValue.errorf(
				"Message system attribute name '%s' is invalid.", name)
		}
		if w.DataType != "String" || w.StringValue == nil || *w.StringValue == "" {
			return nil, kindInvalidParameterValue.errorf(
				"Message system attribute '%s' must contain a non-empty value of type 'String'.",
				name)
		}
		out[name] = MessageAttribute{DataType: w.DataType, StringValue: *w.StringValue}
	}
	return out, nil
}

// toWire converts stored attributes back to their wire form.
func toWire(attrs map[string]MessageAttribute) map[string]wireAttribute {
	if len(attrs) == 0 {
		return nil
	}
	out := make(map[string]wireAttribute, len(attrs))
	for name, a := range attrs {
		w := wireAttribute{DataType: a.DataType}
		if a.BinaryValue != nil {
			w.BinaryValue = a.BinaryValue
		} else {
			v := a.StringValue
			w.StringValue = &v
		}
		out[name] = w
	}
	return out
}

// selectAttributes returns the attributes that the MessageAttributeNames of
// a receive ask for: "All" or ".*" for all, "prefix.*" for a prefix, or
// exact names.
func selectAttributes(attrs map[string]MessageAttribute,
	names []string) map[string]MessageAttribute {
	if len(attrs) == 0 || len(names) == 0 {
		return nil
	}
	out := make(map[string]MessageAttribute)
	for name, a := range attrs {
		if attributeWanted(name, names) {
			out[name] = a
		}
	}
	return out
}

func attributeWanted(name string, patterns []string) bool {
	for _, p := range patterns {
		if p == "All" || p == ".*" || p == name {
			return true
		}
		if prefix, ok := strings.CutSuffix(p, "*"); ok && strings.HasSuffix(prefix, ".") &&
			strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}
