// Package sqstest is an in-process SQS service for tests, demos and
// benchmarks. It speaks the JSON protocol that current AWS SDKs use (POST /,
// Content-Type application/x-amz-json-1.0, X-Amz-Target AmazonSQS.<Action>),
// so the real aws-sdk-go-v2 SQS client talks to it through BaseEndpoint.
//
// It keeps standard queues in memory with real visibility timeouts, delays,
// long polling, receipt handles, redrive to a dead-letter queue and SQS's
// validation and error responses, and it can inject failures: whole
// requests with FailNext and single batch entries with FailEntries.
//
// Queue URLs have the form "{base}/000000000000/{name}" and ARNs
// "arn:aws:sqs:us-east-1:000000000000:{name}". Request signatures are
// accepted without checking. FIFO queues are refused.
package sqstest
