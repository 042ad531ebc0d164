package sqstest

import (
	"context"
	"strconv"
	"time"
)

// Limits of SendMessage and SendMessageBatch.
const (
	maxDelaySeconds    = 900
	maxBatchEntries    = 10
	maxBatchEntryIDLen = 80
	maxBatchBytes      = 1 << 20
)

// outgoing is a validated message on its way into a queue.
type outgoing struct {
	m     *message
	size  int
	delay *time.Duration
}

// prepare validates what SendMessage or a batch entry sends, apart from the
// checks that need the queue's settings.
func prepare(e sendEntry, now time.Time) (*outgoing, *apiError) {
	if e.MessageBody == nil || *e.MessageBody == "" {
		return nil, errMissingParameter("MessageBody")
	}
	body := *e.MessageBody
	if err := checkBody(body); err != nil {
		return nil, err
	}
	attrs, err := parseAttributes(e.MessageAttributes)
	if err != nil {
		return nil, err
	}
	system, err := systemAttributes(e.MessageSystemAttributes)
	if err != nil {
		return nil, err
	}
	if e.MessageDeduplicationID != nil {
		return nil, kindInvalidParameterValue.errorf("Value %s for parameter "+
			"MessageDeduplicationId is invalid. Reason: The request includes a parameter that "+
			"is not valid for this queue type.", *e.MessageDeduplicationID)
	}
	o := &outgoing{size: len(body) + attributesSize(attrs)}
	if e.DelaySeconds != nil {
		if *e.DelaySeconds < 0 || *e.DelaySeconds > maxDelaySeconds {
			return nil, kindInvalidParameterValue.errorf("Value %d for parameter DelaySeconds "+
				"is invalid. Reason: DelaySeconds must be >= 0 and <= 900.", *e.DelaySeconds)
		}
		d := time.Duration(*e.DelaySeconds) * time.Second
		o.delay = &d
	}
	o.m = &message{
		id: newMessageID(), body: body, md5Body: md5Hex(body), attrs: attrs, system: system,
		sentAt: now,
	}
	if e.MessageGroupID != nil {
		o.m.groupID = *e.MessageGroupID
	}
	return o, nil
}

// result is the answer to sending o.
func (o *outgoing) result() sendResult {
	return sendResult{
		MessageID:                    o.m.id,
		MD5OfMessageBody:             o.m.md5Body,
		MD5OfMessageAttributes:       attributesMD5(o.m.attrs),
		MD5OfMessageSystemAttributes: attributesMD5(o.m.system),
	}
}

// enqueue checks o against the queue's size limit and adds it, delayed by
// its own delay or the queue's. The caller holds q.mu.
func (q *queue) enqueue(o *outgoing, now time.Time) *apiError {
	if limit := q.settings.ints[attrMaximumMessageSize]; o.size > limit {
		return kindInvalidParameterValue.errorf("One or more parameters are invalid. "+
			"Reason: Message must be shorter than %d bytes.", limit)
	}
	delay := q.seconds(attrDelaySeconds)
	if o.delay != nil {
		delay = *o.delay
	}
	q.add(o.m, delay, now)
	return nil
}

func (s *Server) sendMessageAction(_ context.Context, body []byte, _ string) (any, *apiError) {
	var req sendMessageRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	q, err := s.queueFor(req.QueueURL)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	o, err := prepare(req.sendEntry, now)
	if err != nil {
		return nil, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.deleted {
		return nil, errQueueDoesNotExist()
	}
	if err := q.enqueue(o, now); err != nil {
		return nil, err
	}
	return o.result(), nil
}

func (s *Server) sendMessageBatchAction(_ context.Context, body []byte,
	_ string) (any, *apiError) {
	var req sendMessageBatchRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	q, err := s.queueFor(req.QueueURL)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(req.Entries))
	total := 0
	for i, e := range req.Entries {
		ids[i] = e.ID
		total += wireSize(e.sendEntry)
	}
	if err := checkBatchIDs(ids, "SendMessageBatchRequestEntry"); err != nil {
		return nil, err
	}
	if total > maxBatchBytes {
		return nil, kindBatchRequestTooLong.errorf("Batch requests cannot be longer than "+
			"%d bytes. You have sent %d bytes.", maxBatchBytes, total)
	}
	return s.sendBatch(q, req.Entries, s.failedEntries("SendMessageBatch", ids)), nil
}

// sendBatch sends each entry that is valid and not made to fail.
func (s *Server) sendBatch(q *queue, entries []sendBatchEntry,
	injected map[string]bool) sendMessageBatchResponse {
	resp := sendMessageBatchResponse{
		Successful: []sendBatchResultEntry{}, Failed: []batchResultError{}}
	now := time.Now()
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, e := range entries {
		if q.deleted {
			resp.Failed = append(resp.Failed, entryError(e.ID, errQueueDoesNotExist()))
			continue
		}
		if injected[e.ID] {
			resp.Failed = append(resp.Failed, entryFailure(e.ID))
			continue
		}
		o, err := prepare(e.sendEntry, now)
		if err == nil {
			err = q.enqueue(o, now)
		}
		if err != nil {
			resp.Failed = append(resp.Failed, entryError(e.ID, err))
			continue
		}
		resp.Successful = append(resp.Successful, sendBatchResultEntry{e.ID, o.result()})
	}
	return resp
}

// wireSize is the size SQS counts for an entry before validating it.
func wireSize(e sendEntry) int {
	size := 0
	if e.MessageBody != nil {
		size = len(*e.MessageBody)
	}
	for name, a := range e.MessageAttributes {
		size += len(name) + len(a.DataType) + len(a.BinaryValue)
		if a.StringValue != nil {
			size += len(*a.StringValue)
		}
	}
	return size
}

// checkBatchIDs validates the entry ids of a batch request.
func checkBatchIDs(ids []string, entryType string) *apiError {
	if len(ids) == 0 {
		return kindEmptyBatchRequest.errorf("There should be at least one %s in the request.",
			entryType)
	}
	if len(ids) > maxBatchEntries {
		return kindTooManyEntries.errorf("Maximum number of entries per request are %d. "+
			"You have sent %d.", maxBatchEntries, len(ids))
	}
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if !validBatchID(id) {
			return kindInvalidBatchEntryID.errorf("A batch entry id can only contain " +
				"alphanumeric characters, hyphens and underscores. It can be at most 80 " +
				"letters long.")
		}
		if seen[id] {
			return kindBatchEntryIdsNotDistinct.errorf("Id %s repeated.", id)
		}
		seen[id] = true
	}
	return nil
}

func validBatchID(id string) bool {
	if id == "" || len(id) > maxBatchEntryIDLen {
		return false
	}
	for _, r := range id {
		if !isAlphanumeric(r) && r != '-' && r != '_' {
			return false
		}
	}
	return true
}

// entryError is the Failed entry for an entry that err refused.
func entryError(id string, err *apiError) batchResultError {
	return batchResultError{
		ID: id, SenderFault: err.kind.sender, Code: err.batchCode(), Message: err.message}
}

func (s *Server) deleteMessageAction(_ context.Context, body []byte, _ string) (any, *apiError) {
	var req deleteMessageRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	q, err := s.queueFor(req.QueueURL)
	if err != nil {
		return nil, err
	}
	if err := s.deleteOne(q, req.ReceiptHandle); err != nil {
		return nil, err
	}
	return emptyResponse{}, nil
}

// deleteOne deletes the message a receipt handle names. A stale handle, or
// one of a message already deleted, succeeds without deleting anything.
func (s *Server) deleteOne(q *queue, handle string) *apiError {
	if handle == "" {
		return errMissingParameter("ReceiptHandle")
	}
	id, receive, ok := s.receipts.open(q.name, handle)
	if !ok {
		return errInvalidReceiptHandle(handle)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.deleteReceived(id, receive)
	return nil
}

func (s *Server) deleteMessageBatchAction(_ context.Context, body []byte,
	_ string) (any, *apiError) {
	var req deleteMessageBatchRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	q, err := s.queueFor(req.QueueURL)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(req.Entries))
	for i, e := range req.Entries {
		ids[i] = e.ID
	}
	return s.idBatch("DeleteMessageBatch", "DeleteMessageBatchRequestEntry", ids,
		func(i int) *apiError { return s.deleteOne(q, req.Entries[i].ReceiptHandle) })
}

// idBatch validates the entry ids of a DeleteMessageBatch or a
// ChangeMessageVisibilityBatch, then runs do for each entry not made to
// fail and reports each entry's outcome by id.
func (s *Server) idBatch(action, entryType string, ids []string,
	do func(i int) *apiError) (any, *apiError) {
	if err := checkBatchIDs(ids, entryType); err != nil {
		return nil, err
	}
	injected := s.failedEntries(action, ids)
	resp := batchIDResponse{Successful: []batchIDResult{}, Failed: []batchResultError{}}
	for i, id := range ids {
		if injected[id] {
			resp.Failed = append(resp.Failed, entryFailure(id))
			continue
		}
		if err := do(i); err != nil {
			resp.Failed = append(resp.Failed, entryError(id, err))
			continue
		}
		resp.Successful = append(resp.Successful, batchIDResult{ID: id})
	}
	return resp, nil
}

func (s *Server) changeVisibilityAction(_ context.Context, body []byte,
	_ string) (any, *apiError) {
	var req changeVisibilityRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	q, err := s.queueFor(req.QueueURL)
	if err != nil {
		return nil, err
	}
	if err := s.changeOne(q, req.ReceiptHandle, req.VisibilityTimeout); err != nil {
		return nil, err
	}
	return emptyResponse{}, nil
}

// changeOne changes the visibility timeout of the in-flight message a
// receipt handle names.
func (s *Server) changeOne(q *queue, handle string, timeout *int64) *apiError {
	switch {
	case handle == "":
		return errMissingParameter("ReceiptHandle")
	case timeout == nil:
		return errMissingParameter("VisibilityTimeout")
	case *timeout < 0 || *timeout > maxVisibilityTimeout:
		return kindInvalidParameterValue.errorf("Value %d for parameter VisibilityTimeout is "+
			"invalid. Reason: Must be between 0 and 43200, if provided.", *timeout)
	}
	id, receive, ok := s.receipts.open(q.name, handle)
	if !ok {
		return errInvalidReceiptHandle(handle)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.changeVisibility(id, receive, time.Duration(*timeout)*time.Second, time.Now())
}

func (s *Server) changeVisibilityBatchAction(_ context.Context, body []byte,
	_ string) (any, *apiError) {
	var req changeVisibilityBatchRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	q, err := s.queueFor(req.QueueURL)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(req.Entries))
	for i, e := range req.Entries {
		ids[i] = e.ID
	}
	return s.idBatch("ChangeMessageVisibilityBatch", "ChangeMessageVisibilityBatchRequestEntry",
		ids, func(i int) *apiError {
			e := req.Entries[i]
			return s.changeOne(q, e.ReceiptHandle, e.VisibilityTimeout)
		})
}

// formatMillis renders t as SQS renders message timestamps: epoch
// milliseconds.
func formatMillis(t time.Time) string {
	return strconv.FormatInt(t.UnixMilli(), 10)
}
