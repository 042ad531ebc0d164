package sftest

import (
	"strings"
	"testing"
)

func TestID18(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"gist-example", "a0BA0000000L2ZC", "a0BA0000000L2ZCMA0", true},
		{"gem-example", "70130000001tcyI", "70130000001tcyIAAQ", true},
		{"eighteen-unchanged", "a0BA0000000L2ZCMA0", "a0BA0000000L2ZCMA0", true},
		{"eighteen-lower-case", "a0ba0000000l2zcma0", "a0BA0000000L2ZCMA0", true},
		{"eighteen-upper-case", "70130000001TCYIAAQ", "70130000001tcyIAAQ", true},
		{"wrong-length", "a0BA0000000L2Z", "", false},
		{"not-base62", "a0BA0000000L2Z-", "", false},
		{"bad-checksum-character", "a0BA0000000L2ZCMA9", "", false},
		{"checksum-marks-digit-upper", "a0BA0000000L2ZCMAZ", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ID18(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ID18(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestNewIDIsWellFormedAndUnique(t *testing.T) {
	seen := make(map[string]bool)
	mixed := false
	for n := uint64(1); n <= 5000; n++ {
		id := newID("00T", n)
		if len(id) != 18 || !strings.HasPrefix(id, "00T") {
			t.Fatalf("newID(%d) = %q; want 18 characters starting 00T", n, id)
		}
		if got, ok := ID18(id[:15]); !ok || got != id {
			t.Fatalf("ID18(%q) = %q, %v; want %q", id[:15], got, ok, id)
		}
		key := strings.ToLower(id)
		if seen[key] {
			t.Fatalf("newID(%d) = %q repeats an earlier id ignoring case", n, id)
		}
		seen[key] = true
		mixed = mixed || strings.ToLower(id[3:15]) != id[3:15] && strings.ToUpper(id[3:15]) != id[3:15]
	}
	if !mixed {
		t.Error("no generated id mixes upper and lower case; 15-character case sensitivity goes untested")
	}
}
