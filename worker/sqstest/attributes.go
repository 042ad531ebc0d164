package sqstest

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// Account, region and ARN conventions of the queues this server makes.
const (
	accountID = "000000000000"
	region    = "us-east-1"
	arnPrefix = "arn:aws:sqs:" + region + ":" + accountID + ":"
)

// Names of the queue attributes the server reads itself.
const (
	attrVisibilityTimeout  = "VisibilityTimeout"
	attrDelaySeconds       = "DelaySeconds"
	attrMaximumMessageSize = "MaximumMessageSize"
	attrRetentionPeriod    = "MessageRetentionPeriod"
	attrReceiveWaitTime    = "ReceiveMessageWaitTimeSeconds"
	attrRedrivePolicy      = "RedrivePolicy"
	attrFifoQueue          = "FifoQueue"
)

// maxVisibilityTimeout is SQS's ceiling on a visibility timeout, in seconds.
const maxVisibilityTimeout = 43200

// maxMessageSizeLimit is the largest MaximumMessageSize SQS accepts and its
// default (1 MiB since August 2025; it was 256 KiB before).
const maxMessageSizeLimit = 1 << 20

// intRange is an integer queue attribute's valid range and default.
type intRange struct {
	min, max, def int
}

// intAttributes are the integer queue attributes, with SQS's ranges and
// defaults.
var intAttributes = map[string]intRange{
	attrVisibilityTimeout:  {0, maxVisibilityTimeout, 30},
	attrDelaySeconds:       {0, 900, 0},
	attrMaximumMessageSize: {1024, maxMessageSizeLimit, maxMessageSizeLimit},
	attrRetentionPeriod:    {60, 1209600, 345600},
	attrReceiveWaitTime:    {0, 20, 0},
}

// opaqueAttributes are settable attributes that the server stores and
// returns but does not act on.
var opaqueAttributes = map[string]bool{
	"Policy":                       true,
	"RedriveAllowPolicy":           true,
	"KmsMasterKeyId":               true,
	"KmsDataKeyReusePeriodSeconds": true,
	"SqsManagedSseEnabled":         true,
}

// Computed attributes: readable, never settable.
const (
	attrQueueArn         = "QueueArn"
	attrVisible          = "ApproximateNumberOfMessages"
	attrNotVisible       = "ApproximateNumberOfMessagesNotVisible"
	attrDelayed          = "ApproximateNumberOfMessagesDelayed"
	attrCreatedTimestamp = "CreatedTimestamp"
	attrLastModified     = "LastModifiedTimestamp"
)

// fifoAttributes exist only on FIFO queues, which this server refuses: they
// may be asked for but never appear.
var fifoAttributes = map[string]bool{
	attrFifoQueue:               true,
	"ContentBasedDeduplication": true,
	"DeduplicationScope":        true,
	"FifoThroughputLimit":       true,
}

// readableAttribute reports whether GetQueueAttributes knows name.
func readableAttribute(name string) bool {
	switch name {
	case "All", attrQueueArn, attrVisible, attrNotVisible, attrDelayed, attrCreatedTimestamp,
		attrLastModified, attrRedrivePolicy:
		return true
	}
	_, isInt := intAttributes[name]
	return isInt || opaqueAttributes[name] || fifoAttributes[name]
}

// redrivePolicy sends a message to the dead-letter queue once it has been
// received maxReceiveCount times.
type redrivePolicy struct {
	DeadLetterTargetArn string `json:"deadLetterTargetArn"`
	MaxReceiveCount     int    `json:"maxReceiveCount"`
}

// targetName is the dead-letter queue's name, the last part of its ARN.
func (p redrivePolicy) targetName() string {
	return p.DeadLetterTargetArn[strings.LastIndex(p.DeadLetterTargetArn, ":")+1:]
}

func (p redrivePolicy) String() string {
	b, _ := json.Marshal(p)
	return string(b)
}

// settings are a queue's configurable attributes.
type settings struct {
	ints    map[string]int
	redrive *redrivePolicy
	opaque  map[string]string
}

func defaultSettings() settings {
	s := settings{ints: make(map[string]int, len(intAttributes)), opaque: map[string]string{}}
	for name, r := range intAttributes {
		s.ints[name] = r.def
	}
	return s
}

// settingsPatch is a validated set of attribute changes.
type settingsPatch struct {
	ints         map[string]int
	redrive      *redrivePolicy
	clearRedrive bool
	opaque       map[string]string
}

// parsePatch validates attributes given to CreateQueue or
// SetQueueAttributes. queueExists resolves a dead-letter target by name.
func parsePatch(attrs map[string]string, queueExists func(string) bool) (settingsPatch, *apiError) {
	p := settingsPatch{ints: map[string]int{}, opaque: map[string]string{}}
	for name, value := range attrs {
		if err := p.add(name, value, queueExists); err != nil {
			return settingsPatch{}, err
		}
	}
	return p, nil
}

func (p *settingsPatch) add(name, value string, queueExists func(string) bool) *apiError {
	if r, ok := intAttributes[name]; ok {
		n, err := strconv.Atoi(value)
		if err != nil || n < r.min || n > r.max {
			return kindInvalidAttributeValue.errorf(
				"Invalid value for the parameter %s. Reason: must be an integer from %d to %d.",
				name, r.min, r.max)
		}
		p.ints[name] = n
		return nil
	}
	switch {
	case name == attrRedrivePolicy:
		return p.addRedrive(value, queueExists)
	case opaqueAttributes[name]:
		p.opaque[name] = value
		return nil
	case name == attrFifoQueue && value == "true":
		return kindUnsupportedOperation.errorf("FIFO queues are not supported by this server.")
	case name == attrFifoQueue && value == "false":
		return nil
	}
	return kindInvalidAttributeName.errorf("Unknown Attribute %s.", name)
}

func (p *settingsPatch) addRedrive(value string, queueExists func(string) bool) *apiError {
	if value == "" {
		p.clearRedrive = true
		return nil
	}
	rp, err := parseRedrive(value)
	if err != nil {
		return err
	}
	if !queueExists(rp.targetName()) {
		return kindInvalidParameterValue.errorf("Value %s for parameter RedrivePolicy is invalid. "+
			"Reason: Dead letter target does not exist.", value)
	}
	p.redrive = &rp
	return nil
}

// parseRedrive reads a RedrivePolicy. maxReceiveCount may be a number or a
// string holding one, as SQS accepts both.
func parseRedrive(value string) (redrivePolicy, *apiError) {
	var raw struct {
		DeadLetterTargetArn string          `json:"deadLetterTargetArn"`
		MaxReceiveCount     json.RawMessage `json:"maxReceiveCount"`
	}
	invalid := func(reason string) *apiError {
		return kindInvalidParameterValue.errorf(
			"Value %s for parameter RedrivePolicy is invalid. Reason: %s", value, reason)
	}
	if err := json.Unmarshal([]byte(value), &raw); err != nil {
		return redrivePolicy{}, invalid("Redrive policy is not a valid JSON map.")
	}
	parts := strings.Split(raw.DeadLetterTargetArn, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sqs" || parts[5] == "" {
		return redrivePolicy{}, invalid("Invalid value for deadLetterTargetArn.")
	}
	count, err := strconv.Atoi(string(bytes.Trim(raw.MaxReceiveCount, `"`)))
	if err != nil || count < 1 || count > 1000 {
		return redrivePolicy{}, invalid("Invalid value for maxReceiveCount: must be 1 to 1000.")
	}
	return redrivePolicy{DeadLetterTargetArn: raw.DeadLetterTargetArn, MaxReceiveCount: count}, nil
}

// apply writes the patch into s.
func (s *settings) apply(p settingsPatch) {
	for name, n := range p.ints {
		s.ints[name] = n
	}
	for name, v := range p.opaque {
		s.opaque[name] = v
	}
	if p.clearRedrive {
		s.redrive = nil
	}
	if p.redrive != nil {
		rp := *p.redrive
		s.redrive = &rp
	}
}

// conflict names an attribute of p whose value differs from s, or returns
// "" when creating the queue again with p would change nothing.
func (s *settings) conflict(p settingsPatch) string {
	for name, n := range p.ints {
		if s.ints[name] != n {
			return name
		}
	}
	for name, v := range p.opaque {
		if s.opaque[name] != v {
			return name
		}
	}
	switch {
	case p.clearRedrive && s.redrive != nil:
		return attrRedrivePolicy
	case p.redrive != nil && (s.redrive == nil || *s.redrive != *p.redrive):
		return attrRedrivePolicy
	}
	return ""
}

// value returns a configurable attribute's current value.
func (s *settings) value(name string) (string, bool) {
	if n, ok := s.ints[name]; ok {
		return strconv.Itoa(n), true
	}
	if name == attrRedrivePolicy {
		if s.redrive == nil {
			return "", false
		}
		return s.redrive.String(), true
	}
	if v, ok := s.opaque[name]; ok {
		return v, true
	}
	if name == "SqsManagedSseEnabled" {
		return "true", true
	}
	return "", false
}
