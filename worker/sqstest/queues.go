package sqstest

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxQueueNameLength is SQS's limit on a queue name.
const maxQueueNameLength = 80

// maxListedQueues is how many queue URLs ListQueues returns at most.
const maxListedQueues = 1000

// CreateQueue creates a standard queue, or returns the existing one when
// attrs do not contradict it, and returns its URL,
// "{base}/000000000000/{name}" where base is URL(). Before Start the URL is
// the path alone; the server accepts it all the same. The queue's ARN is
// "arn:aws:sqs:us-east-1:000000000000:{name}".
func (s *Server) CreateQueue(name string, attrs map[string]string) (string, error) {
	u, err := s.createQueue(name, attrs, s.URL())
	if err != nil {
		return "", fmt.Errorf("sqstest: create queue %s: %w", name, err)
	}
	return u, nil
}

func (s *Server) createQueue(name string, attrs map[string]string,
	base string) (string, *apiError) {
	if err := checkQueueName(name); err != nil {
		return "", err
	}
	patch, err := parsePatch(attrs, func(n string) bool { return s.lookup(n) != nil })
	if err != nil {
		return "", err
	}

	s.mu.Lock()
	q := s.queues[name]
	if q == nil {
		set := defaultSettings()
		set.apply(patch)
		s.queues[name] = newQueue(name, set, time.Now())
		s.mu.Unlock()
		return queueURL(base, name), nil
	}
	s.mu.Unlock()

	q.mu.Lock()
	conflict := q.settings.conflict(patch)
	q.mu.Unlock()
	if conflict != "" {
		return "", kindQueueNameExists.errorf("A queue already exists with the same name "+
			"and a different value for attribute %s", conflict)
	}
	return queueURL(base, name), nil
}

// checkQueueName enforces SQS's queue naming rules and refuses FIFO names.
func checkQueueName(name string) *apiError {
	if name == "" {
		return errMissingParameter("QueueName")
	}
	if strings.HasSuffix(name, ".fifo") {
		return kindUnsupportedOperation.errorf("FIFO queues are not supported by this server.")
	}
	valid := len(name) <= maxQueueNameLength
	for _, r := range name {
		valid = valid && (isAlphanumeric(r) || r == '-' || r == '_')
	}
	if !valid {
		return kindInvalidParameterValue.errorf("Can only include alphanumeric characters, " +
			"hyphens, or underscores. 1 to 80 in length")
	}
	return nil
}

func isAlphanumeric(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

func (s *Server) createQueueAction(_ context.Context, body []byte, base string) (any, *apiError) {
	var req createQueueRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	u, err := s.createQueue(req.QueueName, req.Attributes, base)
	if err != nil {
		return nil, err
	}
	return queueURLResponse{QueueURL: u}, nil
}

func (s *Server) getQueueURLAction(_ context.Context, body []byte, base string) (any, *apiError) {
	var req getQueueURLRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if req.QueueName == "" {
		return nil, errMissingParameter("QueueName")
	}
	if s.lookup(req.QueueName) == nil {
		return nil, errQueueDoesNotExist()
	}
	return queueURLResponse{QueueURL: queueURL(base, req.QueueName)}, nil
}

func (s *Server) getQueueAttributesAction(_ context.Context, body []byte,
	_ string) (any, *apiError) {
	var req getQueueAttributesRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	q, err := s.queueFor(req.QueueURL)
	if err != nil {
		return nil, err
	}
	for _, name := range req.AttributeNames {
		if !readableAttribute(name) {
			return nil, kindInvalidAttributeName.errorf("Unknown Attribute %s.", name)
		}
	}
	return attributesResponse{Attributes: q.attributes(req.AttributeNames, time.Now())}, nil
}

// attributes returns the queue attributes names ask for; "All" asks for
// every one that has a value.
func (q *queue) attributes(names []string, now time.Time) map[string]string {
	all := slices.Contains(names, "All")
	want := func(name string) bool { return all || slices.Contains(names, name) }
	out := map[string]string{}

	q.mu.Lock()
	defer q.mu.Unlock()
	visible, inFlight, delayed := q.counts(now)
	computed := map[string]string{
		attrQueueArn:         q.arn,
		attrVisible:          strconv.Itoa(visible),
		attrNotVisible:       strconv.Itoa(inFlight),
		attrDelayed:          strconv.Itoa(delayed),
		attrCreatedTimestamp: strconv.FormatInt(q.created.Unix(), 10),
		attrLastModified:     strconv.FormatInt(q.modified.Unix(), 10),
	}
	for name, v := range computed {
		if want(name) {
			out[name] = v
		}
	}
	settable := []string{attrRedrivePolicy}
	for name := range intAttributes {
		settable = append(settable, name)
	}
	for name := range opaqueAttributes {
		settable = append(settable, name)
	}
	for _, name := range settable {
		if v, ok := q.settings.value(name); ok && want(name) {
			out[name] = v
		}
	}
	return out
}

func (s *Server) setQueueAttributesAction(_ context.Context, body []byte,
	_ string) (any, *apiError) {
	var req setQueueAttributesRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	q, err := s.queueFor(req.QueueURL)
	if err != nil {
		return nil, err
	}
	if req.Attributes == nil {
		return nil, errMissingParameter("Attributes")
	}
	patch, err := parsePatch(req.Attributes, func(n string) bool { return s.lookup(n) != nil })
	if err != nil {
		return nil, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.settings.apply(patch)
	q.modified = time.Now()
	return emptyResponse{}, nil
}

func (s *Server) listQueuesAction(_ context.Context, body []byte, base string) (any, *apiError) {
	var req listQueuesRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	limit := maxListedQueues
	if req.MaxResults != nil {
		if *req.MaxResults < 1 || *req.MaxResults > maxListedQueues {
			return nil, kindInvalidParameterValue.errorf("Value %d for parameter MaxResults is "+
				"invalid. Reason: MaxResults must be an integer between 1 and 1000.",
				*req.MaxResults)
		}
		limit = int(*req.MaxResults)
	}
	after, err := base64.RawURLEncoding.DecodeString(req.NextToken)
	if err != nil {
		return nil, kindInvalidParameterValue.errorf("Invalid NextToken value.")
	}

	names := s.queueNames(req.QueueNamePrefix, string(after))
	var resp listQueuesResponse
	for i, name := range names {
		if i == limit {
			if req.MaxResults != nil {
				resp.NextToken = base64.RawURLEncoding.EncodeToString([]byte(names[i-1]))
			}
			break
		}
		resp.QueueURLs = append(resp.QueueURLs, queueURL(base, name))
	}
	return resp, nil
}

// queueNames returns, in order, the names of queues that start with prefix
// and sort after after.
func (s *Server) queueNames(prefix, after string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var names []string
	for name := range s.queues {
		if strings.HasPrefix(name, prefix) && name > after {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

func (s *Server) deleteQueueAction(_ context.Context, body []byte, _ string) (any, *apiError) {
	var req queueURLRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	q, err := s.queueFor(req.QueueURL)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.queues[q.name] == q {
		delete(s.queues, q.name)
	}
	s.mu.Unlock()

	q.mu.Lock()
	defer q.mu.Unlock()
	q.deleted = true
	q.purge()
	q.signal()
	return emptyResponse{}, nil
}

func (s *Server) purgeQueueAction(_ context.Context, body []byte, _ string) (any, *apiError) {
	var req queueURLRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	q, err := s.queueFor(req.QueueURL)
	if err != nil {
		return nil, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.purge()
	return emptyResponse{}, nil
}
