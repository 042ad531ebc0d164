package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/callsummary/connector/salesforce"
	"github.com/callsummary/connector/salesforce/sftest"
	"github.com/callsummary/connector/tools/internal/pipeline"
	"github.com/callsummary/connector/worker"
)

// lookupField is the External ID field the call ids are seeded into.
const lookupField = "Call_Id__c"

// kind is what a message stands for, and so how it must end.
type kind int

const (
	kindValid   kind = iota // its block must be in its record exactly once
	kindUnknown             // no record has its call id: dead-lettered NOT_FOUND
	kindInvalid             // not a usable summary: dead-lettered INVALID_MESSAGE
)

func (k kind) String() string {
	switch k {
	case kindValid:
		return "valid"
	case kindUnknown:
		return "unknown"
	}
	return "invalid"
}

// message is one message of the run, in the order it is sent.
type message struct {
	kind    kind
	body    string
	callID  string             // as sent; empty when the body has none
	summary salesforce.Summary // what a valid message appends
	record  int                // index of a valid message's record in plan.records

	messageID string // SQS's id, set once sent
}

// wantReason is the dead-letter reason an unknown or invalid message must
// carry.
func (m *message) wantReason() string {
	if m.kind == kindUnknown {
		return salesforce.ReasonNotFound
	}
	return salesforce.ReasonInvalidMessage
}

// record is one seeded record and the valid messages that append to it.
type record struct {
	callID    string
	agentText string // seeded into the target field; may be empty
	id        string // set by seed
	messages  []int  // indexes into plan.messages
}

// plan is every message and record of a run, drawn from the seed.
type plan struct {
	messages []message
	records  []record
}

// Shares of the messages that are not valid summaries.
const (
	unknownShare = 0.04
	invalidShare = 0.03
)

// newPlan draws n messages from seed: most are valid summaries, some of
// them several for one record; some name call ids no record has; some are
// invalid. The same n and seed give the same plan.
func newPlan(n int, seed uint64) *plan {
	g := &generator{rng: rand.New(rand.NewPCG(seed, 0x63686173))}
	unknown := int(float64(n) * unknownShare)
	invalid := int(float64(n) * invalidShare)
	if n >= 3 {
		unknown, invalid = max(unknown, 1), max(invalid, 1)
	}
	g.validMessages(n - unknown - invalid)
	g.unknownMessages(unknown)
	g.invalidMessages(invalid)
	return g.ordered()
}

// generator draws the plan. Messages are made in groups, units that are
// sent back to back; the units are shuffled before sending.
type generator struct {
	rng     *rand.Rand
	units   [][]message
	records []record
	serial  int // numbers summaries and odd bodies, so every body is unique
}

// summariesPerRecord draws how many summaries a record gets: mostly one,
// sometimes up to four.
func (g *generator) summariesPerRecord() int {
	switch u := g.rng.Float64(); {
	case u < 0.65:
		return 1
	case u < 0.85:
		return 2
	case u < 0.95:
		return 3
	}
	return 4
}

func (g *generator) validMessages(n int) {
	for n > 0 {
		k := min(g.summariesPerRecord(), n)
		n -= k
		rec := len(g.records)
		g.records = append(g.records, record{
			callID:    g.callID(rec),
			agentText: g.agentText(rec),
		})
		msgs := make([]message, k)
		for i := range msgs {
			msgs[i] = g.validMessage(rec)
		}
		// Some records get their summaries back to back, often in one
		// batch of the worker; the others' arrive spread over the run.
		if k > 1 && g.rng.IntN(2) == 0 {
			g.units = append(g.units, msgs)
			continue
		}
		for _, m := range msgs {
			g.units = append(g.units, []message{m})
		}
	}
}

// callID is the call id of record rec; a few hold characters that need
// escaping in a path or in SOQL.
func (g *generator) callID(rec int) string {
	switch g.rng.IntN(40) {
	case 0:
		return fmt.Sprintf("chaos call %06d", rec)
	case 1:
		return fmt.Sprintf("chaos-O'Brien-%06d", rec)
	case 2:
		return fmt.Sprintf("chaos-Ωmega-%06d", rec)
	case 3:
		return fmt.Sprintf("chaos/%06d", rec)
	}
	return fmt.Sprintf("chaos-%06d", rec)
}

func (g *generator) agentText(rec int) string {
	if g.rng.IntN(5) == 0 {
		return ""
	}
	return fmt.Sprintf("Agent notes (record %d): caller verified, callback number on file.", rec)
}

// validMessage draws a summary for record rec and the body that carries it,
// in one of the shapes upstream may send.
func (g *generator) validMessage(rec int) message {
	g.serial++
	callID := g.records[rec].callID
	s := salesforce.Summary{CallID: callID, Text: g.summaryText(g.serial)}
	fields := map[string]any{"clientCallId": callID, "summary": s.Text}
	if g.rng.IntN(100) < 85 {
		s.SummaryID = fmt.Sprintf("chaos-summary-%06d", g.serial)
		fields["summaryId"] = s.SummaryID
	} else {
		s.SummaryID = worker.DefaultSummaryID(callID, s.Text)
	}
	if g.rng.IntN(100) < 30 {
		s.OccurredAt = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC).
			Add(time.Duration(g.serial) * time.Minute)
		fields["occurredAt"] = s.OccurredAt.Format(time.RFC3339)
	}
	if g.rng.IntN(100) < 10 {
		fields = capitalised(fields)
	}
	body := encode(fields)
	if g.rng.IntN(100) < 10 {
		body = snsEnvelope(body, g.serial)
	}
	return message{kind: kindValid, body: body, callID: callID, summary: s, record: rec}
}

// summaryText is a summary of varied length, some of it beyond ASCII and
// beyond the Basic Multilingual Plane, a few quoting a block header.
func (g *generator) summaryText(serial int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Summary %d. The customer called about order %d in Malmö and asked "+
		"for a refund of €%d.", serial, 500000+serial, 10+serial%90)
	for range g.rng.IntN(6) {
		b.WriteString(" The agent confirmed the details, noted the caller's preference " +
			"for e-mail and promised a follow-up within two working days.")
	}
	switch g.rng.IntN(20) {
	case 0:
		b.WriteString(" Caller was happy 🙂 at the end.")
	case 1:
		fmt.Fprintf(&b, " Notes pasted: --- Call summary [summary-id chaos-summary-%06d] ---",
			serial+1)
	}
	return b.String()
}

// capitalised returns fields with the first letter of each name in upper
// case, which the worker must read alike.
func capitalised(fields map[string]any) map[string]any {
	out := make(map[string]any, len(fields))
	for k, v := range fields {
		out[strings.ToUpper(k[:1])+k[1:]] = v
	}
	return out
}

func encode(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic("chaos: encode message: " + err.Error()) // strings and times always encode
	}
	return string(b)
}

// snsEnvelope wraps body as an SNS notification does.
func snsEnvelope(body string, serial int) string {
	return encode(map[string]any{
		"Type":      "Notification",
		"MessageId": fmt.Sprintf("sns-%06d", serial),
		"TopicArn":  "arn:aws:sns:us-east-1:000000000000:call-summaries",
		"Message":   body,
	})
}

// unknownMessages makes n messages for call ids no record has; a few call
// ids get two summaries.
func (g *generator) unknownMessages(n int) {
	for i := 0; i < n; i++ {
		g.serial++
		callID := fmt.Sprintf("chaos-unknown-%06d", i)
		if i > 0 && g.rng.IntN(5) == 0 {
			callID = fmt.Sprintf("chaos-unknown-%06d", i-1)
		}
		body := encode(map[string]any{
			"clientCallId": callID,
			"summary":      g.summaryText(g.serial),
			"summaryId":    fmt.Sprintf("chaos-summary-%06d", g.serial),
		})
		g.units = append(g.units, []message{{kind: kindUnknown, body: body, callID: callID}})
	}
}

// invalidMessages makes n messages the worker must refuse, of several
// kinds, each body unique. Some name a seeded record, which must not
// change because of them.
func (g *generator) invalidMessages(n int) {
	for i := 0; i < n; i++ {
		g.serial++
		body := g.invalidBody(g.serial)
		g.units = append(g.units, []message{{kind: kindInvalid, body: body}})
	}
}

func (g *generator) invalidBody(serial int) string {
	known := g.records[g.rng.IntN(len(g.records))].callID
	switch g.rng.IntN(8) {
	case 0:
		return fmt.Sprintf("not JSON at all, message %d", serial)
	case 1:
		return encode(map[string]any{"clientCallId": known, "summary": "   ",
			"summaryId": fmt.Sprintf("chaos-blank-%06d", serial)})
	case 2:
		return encode(map[string]any{"summary": fmt.Sprintf("no call id, message %d", serial)})
	case 3:
		return encode(map[string]any{"clientCallId": fmt.Sprintf("%06d-%s", serial,
			strings.Repeat("x", 300)), "summary": "the call id is too long"})
	case 4:
		return fmt.Sprintf(`[{"clientCallId":%q,"summary":"an array, message %d"}]`, known, serial)
	case 5:
		return fmt.Sprintf(`{"clientCallId":%q,"summary":"cut short, message %d`, known, serial)
	case 6:
		return fmt.Sprintf(`{"clientCallId":true,"summary":"a boolean call id, message %d"}`,
			serial)
	}
	return snsEnvelope(fmt.Sprintf("not JSON inside SNS, message %d", serial), serial)
}

// ordered shuffles the units and numbers the messages in send order.
func (g *generator) ordered() *plan {
	g.rng.Shuffle(len(g.units), func(i, j int) { g.units[i], g.units[j] = g.units[j], g.units[i] })
	p := &plan{records: g.records}
	for _, unit := range g.units {
		for _, m := range unit {
			if m.kind == kindValid {
				rec := &p.records[m.record]
				rec.messages = append(rec.messages, len(p.messages))
			}
			p.messages = append(p.messages, m)
		}
	}
	return p
}

// seed inserts every record into the org: the call id in the lookup field
// and the agent text, if any, in the target field.
func (p *plan) seed(org *sftest.Org) {
	for i := range p.records {
		r := &p.records[i]
		fields := map[string]any{lookupField: r.callID, "Subject": fmt.Sprintf("Chaos call %d", i)}
		if r.agentText != "" {
			fields[pipeline.TargetField] = r.agentText
		}
		r.id = org.Insert(pipeline.Object, fields)
	}
}

// count returns how many messages are of kind k.
func (p *plan) count(k kind) int {
	n := 0
	for i := range p.messages {
		if p.messages[i].kind == k {
			n++
		}
	}
	return n
}
