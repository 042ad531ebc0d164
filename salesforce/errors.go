package salesforce

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Class says what a failure means for the message that met it.
type Class int

const (
	// Transient failures are worth retrying: the same call may succeed later.
	Transient Class = iota
	// Permanent failures will not change on retry; the message is dead-lettered.
	Permanent
	// Systemic failures concern the whole connector (credentials, schema,
	// limits); the pool pauses and no message is dead-lettered.
	Systemic
)

// String returns the lowercase name of the class.
func (c Class) String() string {
	switch c {
	case Transient:
		return "transient"
	case Permanent:
		return "permanent"
	case Systemic:
		return "systemic"
	}
	return fmt.Sprintf("class(%d)", int(c))
}

// Reasons that the connector itself assigns; Salesforce's own error codes are
// used as reasons for the other permanent failures.
const (
	ReasonInvalidMessage = "INVALID_MESSAGE"
	ReasonNotFound       = "NOT_FOUND"
	ReasonAmbiguousMatch = "AMBIGUOUS_MATCH"
	ReasonStringTooLong  = "STRING_TOO_LONG"
	ReasonSetup          = "SETUP" // the object or fields do not fit the configuration
)

// APIError is an error answer from the Salesforce REST API. Status is the
// HTTP status; Code is the errorCode (or statusCode in collection results) of
// the first error in the body; Fields lists the fields it names, if any.
type APIError struct {
	Status  int
	Code    string
	Message string
	Fields  []string
}

// Error returns a one-line description without any request data.
func (e *APIError) Error() string {
	msg := oneLine(e.Message, 300)
	if e.Code == "" {
		return fmt.Sprintf("salesforce: http %d: %s", e.Status, msg)
	}
	return fmt.Sprintf("salesforce: http %d %s: %s", e.Status, e.Code, msg)
}

// TokenError is an error answer from the OAuth token endpoint, whose body is
// {error, error_description} rather than the REST error array.
type TokenError struct {
	Status      int
	Code        string
	Description string
}

// Error returns a one-line description; it never contains credentials.
func (e *TokenError) Error() string {
	return fmt.Sprintf("salesforce: token request: http %d %s: %s",
		e.Status, e.Code, oneLine(e.Description, 200))
}

// NotFoundError means no record's lookup field (nor origin field) holds the
// call id.
type NotFoundError struct {
	Object string
	Fields []string
	CallID string
}

// Error names the object and fields searched.
func (e *NotFoundError) Error() string {
	return fmt.Sprintf("salesforce: no %s record with %s = %q",
		e.Object, strings.Join(e.Fields, " or "), e.CallID)
}

// AmbiguousMatchError means several records hold the same call id.
type AmbiguousMatchError struct {
	Object    string
	Field     string
	CallID    string
	RecordIDs []string
}

// Error names the matching record ids.
func (e *AmbiguousMatchError) Error() string {
	return fmt.Sprintf("salesforce: %d %s records with %s = %q: %s",
		len(e.RecordIDs), e.Object, e.Field, e.CallID, strings.Join(e.RecordIDs, ", "))
}

// TooLongError means the new value of the target field would exceed its
// length, counted in UTF-16 code units as Salesforce counts characters.
type TooLongError struct {
	Field  string
	Length int
	Max    int
}

// Error gives both lengths.
func (e *TooLongError) Error() string {
	return fmt.Sprintf("salesforce: %s would hold %d characters, max length is %d",
		e.Field, e.Length, e.Max)
}

// SetupError means the configured object or fields do not fit what the org
// describes: the object or a field is missing, not filterable or not
// updateable. It is systemic: every message would fail the same way.
type SetupError struct {
	Problem string
}

// Error returns the problem.
func (e *SetupError) Error() string { return "salesforce: setup: " + e.Problem }

// InvalidSummaryError means a summary cannot be applied as given: its call
// id is empty or too long to look up, or append mode lacks its summary id.
// It is permanent, with reason INVALID_MESSAGE.
type InvalidSummaryError struct {
	Problem string
}

// Error returns the problem; it does not repeat the call id, which may be long.
func (e *InvalidSummaryError) Error() string { return "salesforce: invalid summary: " + e.Problem }

// Classify maps an HTTP status and Salesforce errorCode to a Class. It is
// the single place where that decision is made; see salesforce-api.md.
func Classify(status int, code string) Class {
	if c, ok := codeClass[code]; ok {
		return c
	}
	switch {
	case status == http.StatusUnauthorized:
		return Systemic
	case status == http.StatusForbidden:
		return Systemic
	case status == http.StatusGone:
		return Systemic // retired API version
	case status == http.StatusPreconditionFailed:
		return Transient // the record changed under a conditional write
	case status == http.StatusTooManyRequests, status == 420:
		return Transient
	case status >= 500:
		return Transient
	}
	return Permanent
}

// codeClass holds the errorCodes whose class does not follow from the status.
var codeClass = map[string]Class{
	// Session and org-wide limits: every call would fail alike.
	"INVALID_SESSION_ID":     Systemic,
	"REQUEST_LIMIT_EXCEEDED": Systemic,
	"API_DISABLED_FOR_ORG":   Systemic,
	"API_CURRENTLY_DISABLED": Systemic,
	// Configuration: a misnamed or unwritable object or field.
	"INVALID_FIELD":                   Systemic,
	"INVALID_FIELD_FOR_INSERT_UPDATE": Systemic,
	"INVALID_TYPE":                    Systemic,
	"INSUFFICIENT_ACCESS":             Systemic,
	// Contention and passing trouble.
	"UNABLE_TO_LOCK_ROW":                Transient,
	"SERVER_UNAVAILABLE":                Transient,
	"QUERY_TIMEOUT":                     Transient,
	"PRECONDITION_FAILED":               Transient,
	"ALL_OR_NONE_OPERATION_ROLLED_BACK": Transient,
	"PROCESSING_HALTED":                 Transient,
	// This record or this value.
	"STRING_TOO_LONG":                               Permanent,
	"ENTITY_IS_DELETED":                             Permanent,
	"NOT_FOUND":                                     Permanent,
	"FIELD_CUSTOM_VALIDATION_EXCEPTION":             Permanent,
	"FIELD_INTEGRITY_EXCEPTION":                     Permanent,
	"INSUFFICIENT_ACCESS_OR_READONLY":               Permanent,
	"INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY": Permanent,
	"CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY":          Permanent,
	"MALFORMED_ID":                                  Permanent,
	"MALFORMED_QUERY":                               Permanent,
	"JSON_PARSER_ERROR":                             Permanent,
	"DUPLICATE_VALUE":                               Permanent,
	"INVALID_CROSS_REFERENCE_KEY":                   Permanent,
}

// tokenCodeClass classifies token-endpoint error codes. Anything not listed
// that comes with a 4xx is systemic: the credentials or the connected app
// are wrong, and retrying message by message would not help.
var tokenCodeClass = map[string]Class{
	"unknown_error": Transient,
}

// ClassOf classifies any error returned by this package. Errors it does not
// know, such as network failures and timeouts, are transient; a cancelled
// context is transient too, so that a message interrupted by shutdown is
// left on the queue.
func ClassOf(err error) Class {
	var (
		apiErr   *APIError
		tokErr   *TokenError
		setupErr *SetupError
		notFound *NotFoundError
		ambig    *AmbiguousMatchError
		tooLong  *TooLongError
		invalid  *InvalidSummaryError
	)
	switch {
	case errors.As(err, &setupErr):
		return Systemic
	case errors.As(err, &notFound), errors.As(err, &ambig), errors.As(err, &tooLong),
		errors.As(err, &invalid):
		return Permanent
	case errors.As(err, &tokErr):
		return classifyToken(tokErr)
	case errors.As(err, &apiErr):
		return Classify(apiErr.Status, apiErr.Code)
	}
	return Transient
}

func classifyToken(e *TokenError) Class {
	if c, ok := tokenCodeClass[e.Code]; ok {
		return c
	}
	if e.Status >= 500 || e.Status == http.StatusTooManyRequests {
		return Transient
	}
	return Systemic
}

// Reason returns the dead-letter reason for a permanent error: one of the
// Reason constants or Salesforce's errorCode. For other errors it names the
// cause for logs: the token endpoint's error code, or HTTP_<status>.
func Reason(err error) string {
	var (
		apiErr   *APIError
		tokErr   *TokenError
		notFound *NotFoundError
		ambig    *AmbiguousMatchError
		tooLong  *TooLongError
		invalid  *InvalidSummaryError
		setupErr *SetupError
	)
	switch {
	case errors.As(err, &invalid):
		return ReasonInvalidMessage
	case errors.As(err, &setupErr):
		return ReasonSetup
	case errors.As(err, &notFound):
		return ReasonNotFound
	case errors.As(err, &ambig):
		return ReasonAmbiguousMatch
	case errors.As(err, &tooLong):
		return ReasonStringTooLong
	case errors.As(err, &apiErr) && apiErr.Code != "":
		return apiErr.Code
	case errors.As(err, &apiErr):
		return fmt.Sprintf("HTTP_%d", apiErr.Status)
	case errors.As(err, &tokErr) && tokErr.Code != "":
		return tokErr.Code
	case errors.As(err, &tokErr):
		return fmt.Sprintf("HTTP_%d", tokErr.Status)
	}
	return "UNKNOWN"
}

// oneLine folds newlines and shortens s to at most max bytes on a rune
// boundary, for error texts that must stay on one line.
func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
