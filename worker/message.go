package worker

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/callsummary/connector/salesforce"
)

// MaxCallIDLength is the longest clientCallId accepted, in characters; it is
// the length of a Salesforce text field that can hold it.
const MaxCallIDLength = 255

// InvalidMessageError explains why a message body cannot be applied. Such
// messages are dead-lettered at once with reason INVALID_MESSAGE.
type InvalidMessageError struct {
	Problem string
}

// Error returns the one-line problem.
func (e *InvalidMessageError) Error() string { return "invalid message: " + e.Problem }

func invalid(format string, args ...any) error {
	return &InvalidMessageError{Problem: fmt.Sprintf(format, args...)}
}

// ParseMessage reads one queue message body into a Summary. Field names match
// case-insensitively; an SNS notification envelope is unwrapped. The
// SummaryID defaults to a hash of the call id and the summary, so that
// redeliveries and replays of the same body share it.
func ParseMessage(body []byte) (salesforce.Summary, error) {
	fields, err := decodeObject(body)
	if err != nil {
		return salesforce.Summary{}, err
	}
	if inner, ok, err := snsMessage(fields); err != nil || ok {
		if err != nil {
			return salesforce.Summary{}, err
		}
		if fields, err = decodeObject([]byte(inner)); err != nil {
			return salesforce.Summary{}, fmt.Errorf("sns envelope: %w", err)
		}
	}
	return summaryFrom(fields)
}

// object is a JSON object whose keys are folded to lower case.
type object map[string]json.RawMessage

func decodeObject(body []byte) (object, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, invalid("body is empty")
	}
	if trimmed[0] != '{' {
		return nil, invalid("body is not a JSON object")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &raw); err != nil {
		return nil, invalid("body is not valid JSON: %s", jsonProblem(err))
	}
	folded := make(object, len(raw))
	for k, v := range raw {
		key := strings.ToLower(k)
		if _, dup := folded[key]; dup {
			return nil, invalid("field %q appears twice with different case", k)
		}
		folded[key] = v
	}
	return folded, nil
}

func jsonProblem(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("%s at byte %d", syn.Error(), syn.Offset)
	}
	return err.Error()
}

// snsMessage returns the inner message of an SNS notification envelope.
func snsMessage(fields object) (string, bool, error) {
	typ, _ := stringField(fields, "type")
	switch typ {
	case "SubscriptionConfirmation", "UnsubscribeConfirmation":
		return "", false, invalid("SNS %s message, not a call summary notification", typ)
	case "Notification":
	default:
		return "", false, nil
	}
	if _, ok := fields["message"]; !ok {
		return "", false, nil
	}
	msg, err := stringField(fields, "message")
	if err != nil {
		return "", false, err
	}
	return msg, true, nil
}

func summaryFrom(fields object) (salesforce.Summary, error) {
	callID, err := callIDField(fields)
	if err != nil {
		return salesforce.Summary{}, err
	}
	text, err := requiredString(fields, "summary")
	if err != nil {
		return salesforce.Summary{}, err
	}
	id, err := optionalString(fields, "summaryid")
	if err != nil {
		return salesforce.Summary{}, err
	}
	occurred, err := occurredAt(fields)
	if err != nil {
		return salesforce.Summary{}, err
	}
	if id == "" {
		id = DefaultSummaryID(callID, text)
	}
	return salesforce.Summary{CallID: callID, Text: text, SummaryID: id, OccurredAt: occurred}, nil
}

func callIDField(fields object) (string, error) {
	raw, ok := fields["clientcallid"]
	if !ok || isNull(raw) {
		return "", invalid("clientCallId is missing")
	}
	var id string
	if err := json.Unmarshal(raw, &id); err != nil {
		// Upstream systems sometimes send numeric ids; keep their exact digits.
		var n json.Number
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if dec.Decode(&n) != nil {
			return "", invalid("clientCallId must be a string")
		}
		id = n.String()
	}
	if strings.TrimSpace(id) == "" {
		return "", invalid("clientCallId is empty")
	}
	if n := len(utf16.Encode([]rune(id))); n > MaxCallIDLength {
		return "", invalid("clientCallId has %d characters, more than %d", n, MaxCallIDLength)
	}
	return id, nil
}

func requiredString(fields object, key string) (string, error) {
	if raw, ok := fields[key]; !ok || isNull(raw) {
		return "", invalid("%s is missing", displayName(key))
	}
	s, err := stringField(fields, key)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(s) == "" {
		return "", invalid("%s is empty", displayName(key))
	}
	return s, nil
}

func optionalString(fields object, key string) (string, error) {
	if raw, ok := fields[key]; !ok || isNull(raw) {
		return "", nil
	}
	s, err := stringField(fields, key)
	return strings.TrimSpace(s), err
}

func stringField(fields object, key string) (string, error) {
	var s string
	if err := json.Unmarshal(fields[key], &s); err != nil {
		return "", invalid("%s must be a string", displayName(key))
	}
	return s, nil
}

func occurredAt(fields object) (time.Time, error) {
	s, err := optionalString(fields, "occurredat")
	if err != nil || s == "" {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, invalid("occurredAt %q is not an RFC 3339 time", s)
	}
	return t, nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

var displayNames = map[string]string{
	"clientcallid": "clientCallId",
	"summary":      "summary",
	"summaryid":    "summaryId",
	"occurredat":   "occurredAt",
	"message":      "Message",
	"type":         "Type",
}

func displayName(key string) string {
	if n, ok := displayNames[key]; ok {
		return n
	}
	return key
}

// DefaultSummaryID derives a stable summary id from the call id and text.
func DefaultSummaryID(callID, text string) string {
	h := sha256.New()
	h.Write([]byte(callID))
	h.Write([]byte{0})
	h.Write([]byte(text))
	return hex.EncodeToString(h.Sum(nil))[:24]
}
