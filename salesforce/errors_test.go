package salesforce

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
)

// TestClassifyAPIErrors has one row per status and errorCode that
// salesforce-api.md names for the REST API.
func TestClassifyAPIErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		code   string
		class  Class
		reason string
	}{
		{"expired-session", 401, "INVALID_SESSION_ID", Systemic, "INVALID_SESSION_ID"},
		{"unauthorized-without-code", 401, "", Systemic, "HTTP_401"},
		{"external-id-no-match", 404, "NOT_FOUND", Permanent, "NOT_FOUND"},
		{"external-id-html-404", 404, "", Permanent, "HTTP_404"},
		{"unknown-field-in-query", 400, "INVALID_FIELD", Systemic, "INVALID_FIELD"},
		{"syntax-error", 400, "MALFORMED_QUERY", Permanent, "MALFORMED_QUERY"},
		{"unknown-sobject", 400, "INVALID_TYPE", Systemic, "INVALID_TYPE"},
		{"query-timeout", 400, "QUERY_TIMEOUT", Transient, "QUERY_TIMEOUT"},
		{"value-too-long", 400, "STRING_TOO_LONG", Permanent, "STRING_TOO_LONG"},
		{"field-read-only", 400, "INVALID_FIELD_FOR_INSERT_UPDATE", Systemic,
			"INVALID_FIELD_FOR_INSERT_UPDATE"},
		{"integrity-rule", 400, "FIELD_INTEGRITY_EXCEPTION", Permanent, "FIELD_INTEGRITY_EXCEPTION"},
		{"validation-rule", 400, "FIELD_CUSTOM_VALIDATION_EXCEPTION", Permanent,
			"FIELD_CUSTOM_VALIDATION_EXCEPTION"},
		{"record-in-recycle-bin", 404, "ENTITY_IS_DELETED", Permanent, "ENTITY_IS_DELETED"},
		{"malformed-id", 400, "MALFORMED_ID", Permanent, "MALFORMED_ID"},
		{"row-locked", 400, "UNABLE_TO_LOCK_ROW", Transient, "UNABLE_TO_LOCK_ROW"},
		{"row-locked-as-500", 500, "UNABLE_TO_LOCK_ROW", Transient, "UNABLE_TO_LOCK_ROW"},
		{"malformed-json", 400, "JSON_PARSER_ERROR", Permanent, "JSON_PARSER_ERROR"},
		{"conditional-write-refused", 412, "PRECONDITION_FAILED", Transient, "PRECONDITION_FAILED"},
		{"conditional-write-refused-empty-body", 412, "", Transient, "HTTP_412"},
		{"bad-conditional-header", 400, "", Permanent, "HTTP_400"},
		{"condition-required", 428, "", Permanent, "HTTP_428"},
		{"all-or-none-rolled-back", 400, "ALL_OR_NONE_OPERATION_ROLLED_BACK", Transient,
			"ALL_OR_NONE_OPERATION_ROLLED_BACK"},
		{"composite-processing-halted", 400, "PROCESSING_HALTED", Transient, "PROCESSING_HALTED"},
		{"collection-over-200", 400, "EXCEEDED_ID_LIMIT", Permanent, "EXCEEDED_ID_LIMIT"},
		{"uri-too-long", 414, "", Permanent, "HTTP_414"},
		{"daily-limit", 403, "REQUEST_LIMIT_EXCEEDED", Systemic, "REQUEST_LIMIT_EXCEEDED"},
		{"forbidden-without-code", 403, "", Systemic, "HTTP_403"},
		{"server-unavailable", 503, "SERVER_UNAVAILABLE", Transient, "SERVER_UNAVAILABLE"},
		{"unavailable-html", 503, "", Transient, "HTTP_503"},
		{"edge-bad-gateway", 502, "", Transient, "HTTP_502"},
		{"edge-420", 420, "", Transient, "HTTP_420"},
		{"internal-error", 500, "", Transient, "HTTP_500"},
		{"too-many-requests", 429, "", Transient, "HTTP_429"},
		{"retired-version", 410, "", Systemic, "HTTP_410"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.status, tt.code); got != tt.class {
				t.Errorf("Classify(%d, %q) = %v, want %v", tt.status, tt.code, got, tt.class)
			}
			err := fmt.Errorf("update Task 00T: %w", &APIError{Status: tt.status, Code: tt.code})
			if got := ClassOf(err); got != tt.class {
				t.Errorf("ClassOf = %v, want %v", got, tt.class)
			}
			if got := Reason(err); got != tt.reason {
				t.Errorf("Reason = %q, want %q", got, tt.reason)
			}
		})
	}
}

// TestClassifyTokenErrors has one row per token-endpoint error that
// salesforce-api.md names. Refused credentials must pause, never drain.
func TestClassifyTokenErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		code   string
		class  Class
	}{
		{"unknown-consumer-key", 400, "invalid_client_id", Systemic},
		{"wrong-secret", 400, "invalid_client", Systemic},
		{"wrong-secret-basic-auth", 401, "invalid_client", Systemic},
		{"no-run-as-user", 400, "invalid_grant", Systemic},
		{"unsupported-grant", 400, "unsupported_grant_type", Systemic},
		{"flow-not-enabled", 400, "unauthorized_client", Systemic},
		{"missing-parameter", 400, "invalid_request", Systemic},
		{"inactive-user", 400, "inactive_user", Systemic},
		{"inactive-org", 400, "inactive_org", Systemic},
		{"rate-limited", 400, "rate_limit_exceeded", Systemic},
		{"retry-your-request", 400, "unknown_error", Transient},
		{"server-error-html", 503, "", Transient},
		{"too-many-requests", 429, "", Transient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := fmt.Errorf("describe Task: %w", &TokenError{Status: tt.status, Code: tt.code})
			if got := ClassOf(err); got != tt.class {
				t.Errorf("ClassOf = %v, want %v", got, tt.class)
			}
			want := tt.code
			if want == "" {
				want = fmt.Sprintf("HTTP_%d", tt.status)
			}
			if got := Reason(err); got != want {
				t.Errorf("Reason = %q, want %q", got, want)
			}
		})
	}
}

func TestClassOfClientErrors(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		class  Class
		reason string
	}{
		{"not-found", &NotFoundError{Object: "Task", Fields: []string{"A"}, CallID: "c"},
			Permanent, ReasonNotFound},
		{"ambiguous", &AmbiguousMatchError{Object: "Task", RecordIDs: []string{"1", "2"}},
			Permanent, ReasonAmbiguousMatch},
		{"too-long", &TooLongError{Field: "F", Length: 10, Max: 5}, Permanent, ReasonStringTooLong},
		{"invalid-summary", &InvalidSummaryError{Problem: "x"}, Permanent, ReasonInvalidMessage},
		{"setup", &SetupError{Problem: "x"}, Systemic, ReasonSetup},
		{"cancelled", context.Canceled, Transient, "UNKNOWN"},
		{"network", &net.OpError{Op: "dial", Err: errors.New("refused")}, Transient, "UNKNOWN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := fmt.Errorf("apply: %w", tt.err)
			if got := ClassOf(err); got != tt.class {
				t.Errorf("ClassOf = %v, want %v", got, tt.class)
			}
			if got := Reason(err); got != tt.reason {
				t.Errorf("Reason = %q, want %q", got, tt.reason)
			}
		})
	}
}

func TestAPIErrorMessageIsOneLine(t *testing.T) {
	e := &APIError{Status: 400, Code: "INVALID_FIELD",
		Message: "\nSELECT Id FROM Task\n ^\nERROR at Row:1:Column:12\n" + strings.Repeat("x", 500)}
	got := e.Error()
	if strings.Contains(got, "\n") {
		t.Errorf("Error() has a newline: %q", got)
	}
	if len(got) > 400 {
		t.Errorf("Error() is %d bytes, want it shortened", len(got))
	}
}

func TestAPIErrorOmitsEchoedValue(t *testing.T) {
	body := `[{"message":"Comments: data value too large: private words of the customer\nmore (max length=500)",` +
		`"errorCode":"STRING_TOO_LONG","fields":["Description"]}]`
	r := &response{status: 400, body: []byte(body)}
	got := r.apiError()
	if strings.Contains(got.Error(), "private words") {
		t.Fatalf("error repeats the value: %q", got.Error())
	}
	if want := "Comments: data value too large: [value omitted] (max length=500)"; got.Message != want {
		t.Errorf("message: got %q, want %q", got.Message, want)
	}
}
