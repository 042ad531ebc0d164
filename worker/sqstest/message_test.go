package sqstest

import (
	"strings"
	"testing"
)

func TestAttributesMD5(t *testing.T) {
	tests := []struct {
		name  string
		attrs map[string]MessageAttribute
		want  string
	}{
		{name: "none", attrs: nil, want: ""},
		// A digest that SQS itself returned for this attribute.
		{name: "one-string", want: "9fd5e217089075be61cd1d67e35e5117",
			attrs: map[string]MessageAttribute{
				"AtTimestamp": {DataType: "String", StringValue: "2021-02-15T12:00:33+09:00"}}},
		// The same digest fauxqs computes independently.
		{name: "string-and-binary", want: "ca481d4c10a53ccded816896e953e407",
			attrs: map[string]MessageAttribute{
				"k": {DataType: "String", StringValue: "v"},
				"b": {DataType: "Binary", BinaryValue: []byte{1, 2, 3}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := attributesMD5(tt.attrs); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBodyMD5(t *testing.T) {
	// The MD5OfBody SQS returned for this body.
	if got, want := md5Hex("foobar2"), "cbac77acf401ef89c3297bd9fc41ec0b"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestCheckBody(t *testing.T) {
	tests := []struct {
		name string
		body string
		ok   bool
	}{
		{"plain", "hello", true},
		{"tab-newline-return", "\t\n\r", true},
		{"last-bmp-before-surrogates", "\uD7FF", true},
		{"private-use", "\uE000", true},
		{"supplementary", "\U0010FFFF", true},
		{"nul", "\x00", false},
		{"unit-separator", "\x1f", false},
		{"fffe", "\uFFFE", false},
		{"ffff", "\uFFFF", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkBody(tt.body) == nil; got != tt.ok {
				t.Errorf("accepted: got %v, want %v", got, tt.ok)
			}
		})
	}
}

func TestValidNumber(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"0", true},
		{"-12.5", true},
		{"1e126", true},
		{"1e127", false},
		{"-1e128", true},
		{strings.Repeat("9", 38), true},
		{strings.Repeat("9", 39), false},
		{"0.000" + strings.Repeat("1", 38), true},
		{"NaN", false},
		{"Inf", false},
		{"0x10", false},
		{"12a", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := validNumber(tt.in); got != tt.ok {
				t.Errorf("got %v, want %v", got, tt.ok)
			}
		})
	}
}

func TestAttributeWanted(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		want     bool
	}{
		{"call.id", []string{"All"}, true},
		{"call.id", []string{".*"}, true},
		{"call.id", []string{"call.*"}, true},
		{"call.id", []string{"call.id"}, true},
		{"callid", []string{"call.*"}, false},
		{"call.id", []string{"call*"}, false},
		{"call.id", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name+"-"+strings.Join(tt.patterns, ","), func(t *testing.T) {
			if got := attributeWanted(tt.name, tt.patterns); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
