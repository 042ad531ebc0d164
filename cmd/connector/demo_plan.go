package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/callsummary/connector/salesforce"
	"github.com/callsummary/connector/worker"
)

// messageKind is what a planned message is meant to exercise.
type messageKind string

// The kinds of message the demo sends, in the order the table lists them.
const (
	kindGood      messageKind = "good"
	kindDuplicate messageKind = "duplicate"
	kindTricky    messageKind = "tricky-id"
	kindUnknown   messageKind = "unknown-id"
	kindShared    messageKind = "shared-id"
	kindInvalid   messageKind = "invalid"
)

var messageKinds = []messageKind{
	kindGood, kindDuplicate, kindTricky, kindUnknown, kindShared, kindInvalid,
}

// recordRole is why the demo seeds a record.
type recordRole string

// Record roles: a target receives exactly one summary; a decoy holds a
// near-miss of a tricky call id; a shared record holds a call id that another
// record holds too. Decoys and shared records must stay untouched.
const (
	roleTarget recordRole = "target"
	roleDecoy  recordRole = "decoy"
	roleShared recordRole = "shared"
)

// demoSeed makes the plan for a given message count the same on every run.
const demoSeed = 0x5eed_c0de

// trickyCallIDs are call ids that break naive path escaping or SOQL
// quoting, each with a near-miss that a wrong lookup would find instead.
var trickyCallIDs = []struct{ callID, nearMiss string }{
	{`it's`, `it\'s`},
	{`back\slash`, `back\\slash`},
	{`a/b/c`, `a%2Fb%2Fc`},
	{`two words`, `two+words`},
	{`Zoë-Ærø-東京`, `Zoe-AEro-東京`},
	{`quote"d`, `quote\"d`},
	{`50%_off`, `50 percent off`},
	{`x.inc`, `x`},
	{`plus+sign`, `plus sign`},
	{`q?a#b&c=d`, `q`},
}

// plannedRecord is a record the demo seeds and what it must hold at the end.
type plannedRecord struct {
	role      recordRole
	callID    string              // value of the lookup field
	agentText string              // seeded into the target field before the run
	summary   *salesforce.Summary // targets only: the summary that must land

	id       string // set when seeded
	modified any    // LastModifiedDate right after seeding
}

// plannedMessage is one message to send and the outcome it should have.
type plannedMessage struct {
	kind    messageKind
	body    string
	outcome worker.Outcome
	reason  string // dead-letter reason
}

// demoPlan is everything the demo seeds and sends, with the expected result.
type demoPlan struct {
	mode     salesforce.WriteMode
	lookup   string // lookupExternal or lookupSOQL
	records  []*plannedRecord
	messages []plannedMessage // in send order

	rng     *rand.Rand
	targets []*plannedRecord // the good targets, which duplicates and invalid bodies reuse
}

// demoMix is how many messages of each kind a plan holds.
type demoMix map[messageKind]int

// mixFor splits n messages: about 70 % good, 10 % duplicate deliveries of
// good bodies, and 5 % each of tricky, unknown, shared and invalid, with at
// least one of every kind.
func mixFor(n int) demoMix {
	share := func(percent int) int { return max(1, n*percent/100) }
	m := demoMix{
		kindDuplicate: share(10),
		kindTricky:    share(5),
		kindUnknown:   share(5),
		kindShared:    share(5),
		kindInvalid:   share(5),
	}
	rest := n
	for _, c := range m {
		rest -= c
	}
	m[kindGood] = rest
	return m
}

// planDemo plans n messages for the given write mode and lookup. The same
// arguments always give the same plan.
func planDemo(n int, mode salesforce.WriteMode, lookup string) *demoPlan {
	p := &demoPlan{mode: mode, lookup: lookup, rng: rand.New(rand.NewPCG(demoSeed, uint64(n)))}
	mix := mixFor(n)
	p.addGood(mix[kindGood])
	p.addDuplicates(mix[kindDuplicate])
	p.addTricky(mix[kindTricky])
	p.addUnknown(mix[kindUnknown])
	p.addShared(mix[kindShared])
	p.addInvalid(mix[kindInvalid])
	p.rng.Shuffle(len(p.messages), func(i, j int) {
		p.messages[i], p.messages[j] = p.messages[j], p.messages[i]
	})
	return p
}

func (p *demoPlan) addGood(n int) {
	for i := range n {
		rec := p.addTarget(fmt.Sprintf("demo-call-%04d", i+1), i)
		p.targets = append(p.targets, rec)
		p.send(kindGood, p.summaryBody(*rec.summary), worker.Applied, "")
	}
}

// addDuplicates sends the bodies of the first n good messages once more. In
// append mode the second delivery finds its block and is already applied;
// in overwrite mode it is applied again.
func (p *demoPlan) addDuplicates(n int) {
	outcome := worker.AlreadyApplied
	if p.mode == salesforce.Overwrite {
		outcome = worker.Applied
	}
	for i := range n {
		rec := p.targets[i%len(p.targets)]
		p.send(kindDuplicate, p.summaryBody(*rec.summary), outcome, "")
	}
}

// addTricky seeds a target per tricky call id, plus two decoys holding the
// id with a suffix and its near-miss. Beyond the ten ids a number prefix
// keeps every call id distinct.
func (p *demoPlan) addTricky(n int) {
	for i := range n {
		t := trickyCallIDs[i%len(trickyCallIDs)]
		prefix := ""
		if round := i / len(trickyCallIDs); round > 0 {
			prefix = strconv.Itoa(round+1) + "~"
		}
		rec := p.addTarget(prefix+t.callID, i)
		p.addRecord(roleDecoy, prefix+t.callID+"-decoy")
		p.addRecord(roleDecoy, prefix+t.nearMiss)
		p.send(kindTricky, p.summaryBody(*rec.summary), worker.Applied, "")
	}
}

func (p *demoPlan) addUnknown(n int) {
	for i := range n {
		s := p.newSummary(fmt.Sprintf("demo-unknown-%04d", i+1), i)
		p.send(kindUnknown, p.summaryBody(s), worker.DeadLetter, salesforce.ReasonNotFound)
	}
}

// addShared seeds two records per call id; a summary for it matches both.
func (p *demoPlan) addShared(n int) {
	for i := range n {
		callID := fmt.Sprintf("demo-shared-%04d", i+1)
		p.addRecord(roleShared, callID)
		p.addRecord(roleShared, callID)
		s := p.newSummary(callID, i)
		p.send(kindShared, p.summaryBody(s), worker.DeadLetter, salesforce.ReasonAmbiguousMatch)
	}
}

// addInvalid sends bodies the worker must refuse: broken JSON, a missing
// summary and an empty call id. The first two name real targets, which must
// not be written by them.
func (p *demoPlan) addInvalid(n int) {
	for i := range n {
		callID := p.targets[i%len(p.targets)].callID
		var body string
		switch i % 3 {
		case 0:
			body = `{"clientCallId":` + quoteJSON(callID) + `,"summary":"the line dropped mid`
		case 1:
			body = `{"clientCallId":` + quoteJSON(callID) + `}`
		default:
			body = `{"clientCallId":"","summary":"A summary without a call."}`
		}
		p.send(kindInvalid, body, worker.DeadLetter, salesforce.ReasonInvalidMessage)
	}
}

func (p *demoPlan) addTarget(callID string, i int) *plannedRecord {
	rec := p.addRecord(roleTarget, callID)
	s := p.newSummary(callID, i)
	rec.summary = &s
	return rec
}

func (p *demoPlan) addRecord(role recordRole, callID string) *plannedRecord {
	rec := &plannedRecord{
		role:   role,
		callID: callID,
		agentText: fmt.Sprintf("Agent notes (%d): caller verified, callback number on file.",
			len(p.records)+1),
	}
	p.records = append(p.records, rec)
	return rec
}

func (p *demoPlan) send(kind messageKind, body string, outcome worker.Outcome, reason string) {
	p.messages = append(p.messages, plannedMessage{
		kind: kind, body: body, outcome: outcome, reason: reason})
}

// Pieces of generated summaries; some are not ASCII on purpose.
var (
	demoTopics = []string{
		"asked why invoice %d was charged twice",
		"reported that the router restarts every night since order %d",
		"wants to move appointment %d to Tuesday morning",
		"asked for a refund of €%d,50 for the late delivery",
		"called about parcel %d, still in Malmö since Friday",
		"needs the contract %d in Spanish — «por favor»",
	}
	demoActions = []string{
		"Agent issued a credit note and confirmed by email.",
		"Agent opened a ticket for the network team.",
		"Agent rebooked; customer agreed.",
		"Agent escalated to billing → callback within 24 h.",
	}
	demoEpoch = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
)

// newSummary makes summary i for callID. Every other summary carries its own
// summaryId and every third an occurredAt; the rest take the defaults.
func (p *demoPlan) newSummary(callID string, i int) salesforce.Summary {
	topic := fmt.Sprintf(demoTopics[p.rng.IntN(len(demoTopics))], 1000+p.rng.IntN(9000))
	text := fmt.Sprintf("Customer %s.\n%s", topic, demoActions[p.rng.IntN(len(demoActions))])
	s := salesforce.Summary{CallID: callID, Text: text}
	if i%2 == 0 {
		s.SummaryID = fmt.Sprintf("sum-%d-%d", len(p.messages)+1, i)
	} else {
		s.SummaryID = worker.DefaultSummaryID(callID, text)
	}
	if i%3 == 0 {
		s.OccurredAt = demoEpoch.Add(time.Duration(len(p.messages)) * time.Minute)
	}
	return s
}

// summaryBody is the message body of s. A summaryId equal to the default is
// left out, so the worker derives it.
func (p *demoPlan) summaryBody(s salesforce.Summary) string {
	msg := struct {
		CallID     string `json:"clientCallId"`
		Summary    string `json:"summary"`
		SummaryID  string `json:"summaryId,omitempty"`
		OccurredAt string `json:"occurredAt,omitempty"`
	}{CallID: s.CallID, Summary: s.Text}
	if s.SummaryID != worker.DefaultSummaryID(s.CallID, s.Text) {
		msg.SummaryID = s.SummaryID
	}
	if !s.OccurredAt.IsZero() {
		msg.OccurredAt = s.OccurredAt.Format(time.RFC3339)
	}
	return marshalJSON(msg)
}

func quoteJSON(s string) string { return marshalJSON(s) }

// marshalJSON encodes v without escaping <, > and &, as upstream systems
// commonly send it.
func marshalJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("demo: encode message: " + err.Error()) // only plain strings are encoded
	}
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

// expectedOutcomes counts the outcomes the plan should produce.
func (p *demoPlan) expectedOutcomes() map[worker.Outcome]int {
	counts := map[worker.Outcome]int{}
	for _, m := range p.messages {
		counts[m.outcome]++
	}
	return counts
}

// expectedReasons counts the dead-letter reasons the plan should produce.
func (p *demoPlan) expectedReasons() map[string]int {
	counts := map[string]int{}
	for _, m := range p.messages {
		if m.outcome == worker.DeadLetter {
			counts[m.reason]++
		}
	}
	return counts
}

// sentByKind counts the planned messages by kind.
func (p *demoPlan) sentByKind() map[messageKind]int {
	counts := map[messageKind]int{}
	for _, m := range p.messages {
		counts[m.kind]++
	}
	return counts
}

// lookupField is the field the plan's call ids are seeded into.
func (p *demoPlan) lookupField() string {
	field, _ := demoLookup(p.lookup)
	return field
}

// seed inserts the planned records into the org, each with its agent text,
// and remembers their ids and modification times.
func (d *demoRun) seed(p *demoPlan) {
	field := p.lookupField()
	for i, rec := range p.records {
		rec.id = d.org.Insert(demoObject, map[string]any{
			field:           rec.callID,
			demoTargetField: rec.agentText,
			"Subject":       fmt.Sprintf("Demo call %d (%s)", i+1, rec.role),
		})
		values, _ := d.org.Get(demoObject, rec.id)
		rec.modified = values["LastModifiedDate"]
	}
}
