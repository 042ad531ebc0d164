package sqstest

// The request and response bodies of the SQS JSON protocol. Member names
// are the SQS model's; numbers that SQS treats as optional are pointers so
// that an absent member can be told apart from zero (the AWS SDKs omit
// zero-valued optional numbers).

type queueURLRequest struct {
	QueueURL string `json:"QueueUrl"`
}

type createQueueRequest struct {
	QueueName  string            `json:"QueueName"`
	Attributes map[string]string `json:"Attributes"`
	Tags       map[string]string `json:"tags"`
}

type getQueueURLRequest struct {
	QueueName string `json:"QueueName"`
}

type getQueueAttributesRequest struct {
	QueueURL       string   `json:"QueueUrl"`
	AttributeNames []string `json:"AttributeNames"`
}

type setQueueAttributesRequest struct {
	QueueURL   string            `json:"QueueUrl"`
	Attributes map[string]string `json:"Attributes"`
}

type listQueuesRequest struct {
	QueueNamePrefix string `json:"QueueNamePrefix"`
	NextToken       string `json:"NextToken"`
	MaxResults      *int64 `json:"MaxResults"`
}

type queueURLResponse struct {
	QueueURL string `json:"QueueUrl"`
}

type attributesResponse struct {
	Attributes map[string]string `json:"Attributes,omitempty"`
}

type listQueuesResponse struct {
	QueueURLs []string `json:"QueueUrls,omitempty"`
	NextToken string   `json:"NextToken,omitempty"`
}

// wireAttribute is a MessageAttributeValue or MessageSystemAttributeValue.
// Binary members travel base64-encoded, which is how encoding/json treats
// []byte.
type wireAttribute struct {
	DataType         string   `json:"DataType"`
	StringValue      *string  `json:"StringValue,omitempty"`
	BinaryValue      []byte   `json:"BinaryValue,omitempty"`
	StringListValues []string `json:"StringListValues,omitempty"`
	BinaryListValues [][]byte `json:"BinaryListValues,omitempty"`
}

// sendEntry is the part SendMessage and a SendMessageBatch entry share.
type sendEntry struct {
	MessageBody             *string                  `json:"MessageBody"`
	DelaySeconds            *int64                   `json:"DelaySeconds"`
	MessageAttributes       map[string]wireAttribute `json:"MessageAttributes"`
	MessageSystemAttributes map[string]wireAttribute `json:"MessageSystemAttributes"`
	MessageDeduplicationID  *string                  `json:"MessageDeduplicationId"`
	MessageGroupID          *string                  `json:"MessageGroupId"`
}

type sendMessageRequest struct {
	QueueURL string `json:"QueueUrl"`
	sendEntry
}

type sendBatchEntry struct {
	ID string `json:"Id"`
	sendEntry
}

type sendMessageBatchRequest struct {
	QueueURL string           `json:"QueueUrl"`
	Entries  []sendBatchEntry `json:"Entries"`
}

type sendResult struct {
	MessageID                    string `json:"MessageId"`
	MD5OfMessageBody             string `json:"MD5OfMessageBody"`
	MD5OfMessageAttributes       string `json:"MD5OfMessageAttributes,omitempty"`
	MD5OfMessageSystemAttributes string `json:"MD5OfMessageSystemAttributes,omitempty"`
}

type sendBatchResultEntry struct {
	ID string `json:"Id"`
	sendResult
}

type batchResultError struct {
	ID          string `json:"Id"`
	SenderFault bool   `json:"SenderFault"`
	Code        string `json:"Code"`
	Message     string `json:"Message,omitempty"`
}

type sendMessageBatchResponse struct {
	Successful []sendBatchResultEntry `json:"Successful"`
	Failed     []batchResultError     `json:"Failed"`
}

type receiveMessageRequest struct {
	QueueURL                    string   `json:"QueueUrl"`
	AttributeNames              []string `json:"AttributeNames"`
	MessageSystemAttributeNames []string `json:"MessageSystemAttributeNames"`
	MessageAttributeNames       []string `json:"MessageAttributeNames"`
	MaxNumberOfMessages         *int64   `json:"MaxNumberOfMessages"`
	VisibilityTimeout           *int64   `json:"VisibilityTimeout"`
	WaitTimeSeconds             *int64   `json:"WaitTimeSeconds"`
}

type wireMessage struct {
	MessageID              string                   `json:"MessageId"`
	ReceiptHandle          string                   `json:"ReceiptHandle"`
	MD5OfBody              string                   `json:"MD5OfBody"`
	Body                   string                   `json:"Body"`
	Attributes             map[string]string        `json:"Attributes,omitempty"`
	MD5OfMessageAttributes string                   `json:"MD5OfMessageAttributes,omitempty"`
	MessageAttributes      map[string]wireAttribute `json:"MessageAttributes,omitempty"`
}

type receiveMessageResponse struct {
	Messages []wireMessage `json:"Messages,omitempty"`
}

type deleteMessageRequest struct {
	QueueURL      string `json:"QueueUrl"`
	ReceiptHandle string `json:"ReceiptHandle"`
}

type deleteBatchEntry struct {
	ID            string `json:"Id"`
	ReceiptHandle string `json:"ReceiptHandle"`
}

type deleteMessageBatchRequest struct {
	QueueURL string             `json:"QueueUrl"`
	Entries  []deleteBatchEntry `json:"Entries"`
}

type changeVisibilityRequest struct {
	QueueURL          string `json:"QueueUrl"`
	ReceiptHandle     string `json:"ReceiptHandle"`
	VisibilityTimeout *int64 `json:"VisibilityTimeout"`
}

type changeVisibilityBatchEntry struct {
	ID                string `json:"Id"`
	ReceiptHandle     string `json:"ReceiptHandle"`
	VisibilityTimeout *int64 `json:"VisibilityTimeout"`
}

type changeVisibilityBatchRequest struct {
	QueueURL string                       `json:"QueueUrl"`
	Entries  []changeVisibilityBatchEntry `json:"Entries"`
}

// batchIDResult is a successful entry of DeleteMessageBatch and
// ChangeMessageVisibilityBatch.
type batchIDResult struct {
	ID string `json:"Id"`
}

type batchIDResponse struct {
	Successful []batchIDResult    `json:"Successful"`
	Failed     []batchResultError `json:"Failed"`
}

type emptyResponse struct{}
