package sqstest

import (
	"fmt"
	"net/http"
)

// errorKind is one SQS error code with the wire details SQS sends with it:
// the HTTP status, the error shape name that goes into "__type", and the
// legacy query-protocol code that goes into the x-amzn-query-error header.
type errorKind struct {
	status    int
	shape     string
	queryCode string
	sender    bool
}

// The error kinds this server produces. Shapes, statuses and query codes
// follow the SQS service model (the awsQueryError traits of each shape);
// codes that the model does not describe (InvalidParameterValue,
// MissingParameter, InternalError) are SQS's common errors.
var (
	kindQueueDoesNotExist = errorKind{
		http.StatusBadRequest, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", true}
	kindQueueNameExists = errorKind{
		http.StatusBadRequest, "QueueNameExists", "QueueAlreadyExists", true}
	kindInvalidAttributeName = errorKind{
		http.StatusBadRequest, "InvalidAttributeName", "InvalidAttributeName", true}
	kindInvalidAttributeValue = errorKind{
		http.StatusBadRequest, "InvalidAttributeValue", "InvalidAttributeValue", true}
	kindInvalidParameterValue = errorKind{
		http.StatusBadRequest, "InvalidParameterValue", "InvalidParameterValue", true}
	kindMissingParameter = errorKind{
		http.StatusBadRequest, "MissingParameter", "MissingParameter", true}
	kindInvalidMessageContents = errorKind{
		http.StatusBadRequest, "InvalidMessageContents", "InvalidMessageContents", true}
	kindReceiptHandleIsInvalid = errorKind{
		http.StatusNotFound, "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", true}
	kindMessageNotInflight = errorKind{
		http.StatusBadRequest, "MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight", true}
	kindEmptyBatchRequest = errorKind{
		http.StatusBadRequest, "EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest", true}
	kindTooManyEntries = errorKind{
		http.StatusBadRequest, "TooManyEntriesInBatchRequest",
		"AWS.SimpleQueueService.TooManyEntriesInBatchRequest", true}
	kindBatchEntryIdsNotDistinct = errorKind{
		http.StatusBadRequest, "BatchEntryIdsNotDistinct",
		"AWS.SimpleQueueService.BatchEntryIdsNotDistinct", true}
	kindInvalidBatchEntryID = errorKind{
		http.StatusBadRequest, "InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId", true}
	kindBatchRequestTooLong = errorKind{
		http.StatusBadRequest, "BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong", true}
	kindUnsupportedOperation = errorKind{
		http.StatusBadRequest, "UnsupportedOperation",
		"AWS.SimpleQueueService.UnsupportedOperation", true}
	kindInvalidAction = errorKind{
		http.StatusBadRequest, "InvalidAction", "InvalidAction", true}
	kindSerialization = errorKind{
		http.StatusBadRequest, "SerializationException", "SerializationException", true}
	kindInternalError = errorKind{
		http.StatusInternalServerError, "InternalError", "InternalError", false}
)

// apiError is an SQS error response: a kind and a human-readable message.
type apiError struct {
	kind    errorKind
	message string
}

func (k errorKind) errorf(format string, args ...any) *apiError {
	return &apiError{kind: k, message: fmt.Sprintf(format, args...)}
}

// Error returns the code and the message, as the SDKs print them.
func (e *apiError) Error() string {
	return e.kind.shape + ": " + e.message
}

// queryErrorHeader is the value of the x-amzn-query-error header.
func (e *apiError) queryErrorHeader() string {
	fault := "Receiver"
	if e.kind.sender {
		fault = "Sender"
	}
	return e.kind.queryCode + ";" + fault
}

// batchCode is the code a batch result entry carries for this error.
func (e *apiError) batchCode() string {
	return e.kind.queryCode
}

func errQueueDoesNotExist() *apiError {
	return kindQueueDoesNotExist.errorf("The specified queue does not exist.")
}

func errMissingParameter(name string) *apiError {
	return kindMissingParameter.errorf("The request must contain the parameter %s.", name)
}

func errInternal() *apiError {
	return kindInternalError.errorf("We encountered an internal error. Please try again.")
}

func errInvalidReceiptHandle(handle string) *apiError {
	return kindReceiptHandleIsInvalid.errorf(
		"The input receipt handle %q is not a valid receipt handle.", handle)
}

func errNotInflight() *apiError {
	return kindMessageNotInflight.errorf(
		"Message does not exist or is not available for visibility timeout change.")
}
