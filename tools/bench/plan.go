package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/callsummary/connector/salesforce"
	"github.com/callsummary/connector/salesforce/sftest"
	"github.com/callsummary/connector/tools/internal/pipeline"
)

// call is one call of a scenario: its record, its summary and its message.
type call struct {
	callID    string
	summaryID string
	summary   string
	agentText string // seeded into the target field; empty in overwrite mode

	recordID string    // set by seed
	sentAt   time.Time // when the send of its message returned
}

// plan is the calls of one scenario, one message and one record each.
type plan struct {
	mode  salesforce.WriteMode
	calls []call
}

// newPlan makes n calls for the write mode.
func newPlan(n int, mode salesforce.WriteMode) *plan {
	p := &plan{mode: mode, calls: make([]call, n)}
	for i := range p.calls {
		c := &p.calls[i]
		c.callID = fmt.Sprintf("bench-call-%06d", i+1)
		c.summaryID = fmt.Sprintf("bench-summary-%06d", i+1)
		c.summary = summaryText(i)
		if mode == salesforce.Append {
			c.agentText = fmt.Sprintf(
				"Agent notes (call %d): caller verified, callback number on file.", i+1)
		}
	}
	return p
}

// summaryText is a summary of a realistic length, some of it not ASCII.
func summaryText(i int) string {
	return fmt.Sprintf("Call %d. The customer asked why invoice %d was charged twice and "+
		"whether the second charge of €%d,50 would be refunded before the next statement. "+
		"The agent checked the billing history, confirmed the duplicate, issued a credit note "+
		"and sent the confirmation to the address on file in Malmö. The customer agreed; no "+
		"callback is needed. Follow-up: billing verifies that the refund reached the account "+
		"within five working days.", i+1, 100000+i, 10+i%90)
}

// seed inserts one record per call into the org, the call id in
// lookupField and the agent text, if any, in the target field.
func (p *plan) seed(org *sftest.Org, lookupField string) {
	for i := range p.calls {
		c := &p.calls[i]
		fields := map[string]any{
			lookupField: c.callID,
			"Subject":   fmt.Sprintf("Bench call %d", i+1),
		}
		if c.agentText != "" {
			fields[pipeline.TargetField] = c.agentText
		}
		c.recordID = org.Insert(pipeline.Object, fields)
	}
}

// body is the message of the call as upstream sends it.
func (c *call) body() string {
	b, err := json.Marshal(struct {
		CallID    string `json:"clientCallId"`
		Summary   string `json:"summary"`
		SummaryID string `json:"summaryId"`
	}{c.callID, c.summary, c.summaryID})
	if err != nil {
		panic("bench: encode message: " + err.Error()) // plain strings always encode
	}
	return string(b)
}

// expected is the Summary the worker should write for the call.
func (c *call) expected() salesforce.Summary {
	return salesforce.Summary{CallID: c.callID, Text: c.summary, SummaryID: c.summaryID}
}
