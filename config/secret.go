package config

import (
	"encoding/json"
	"fmt"
)

// redacted is what a non-empty Secret shows instead of its value.
const redacted = "[redacted]"

// Secret holds a credential, such as the Salesforce client secret.
//
// Every way of printing or encoding a Secret gives "[redacted]", or "" when
// the Secret is empty: String, GoString, every fmt verb with any flags,
// MarshalText and MarshalJSON. A Config can therefore be printed with %+v,
// encoded as JSON or passed to a logger without revealing the value. The one
// exception is fmt's %p, which prints the operand's raw value when it is not a
// pointer; go vet reports %p used on a non-pointer.
//
// Reveal returns the value, for the code that sends it to the server.
type Secret string

// Reveal returns the credential itself. Call it only where the value leaves
// the process for the server that expects it.
func (s Secret) Reveal() string {
	return string(s)
}

// String returns "[redacted]", or "" when s is empty, so that a missing
// secret can still be told from a present one.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString returns the same text as String, for the %#v verb.
func (s Secret) GoString() string {
	return s.String()
}

// Format prints String's text for every verb, keeping the width, precision
// and flags given, so that no verb can reach the value.
func (s Secret) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, fmt.FormatString(f, 's'), s.String())
}

// MarshalText returns String's text, for encoders that use
// encoding.TextMarshaler.
func (s Secret) MarshalText() ([]byte, error) {
	return []byte(s.String()), nil
}

// MarshalJSON returns String's text as a JSON string.
func (s Secret) MarshalJSON() ([]byte, error) {
	return json.Marshal(s.String())
}
