package main

import (
	"fmt"
	"strings"

	"github.com/callsummary/connector/salesforce"
	"github.com/callsummary/connector/salesforce/sftest"
	"github.com/callsummary/connector/tools/internal/pipeline"
)

// verifyRecords reads every record of the plan and returns one line for
// each whose target field does not hold what its call should have left.
func verifyRecords(org *sftest.Org, p *plan) []string {
	var problems []string
	for i := range p.calls {
		c := &p.calls[i]
		values, ok := org.Get(pipeline.Object, c.recordID)
		if !ok {
			problems = append(problems, fmt.Sprintf("record %s of %s: gone", c.recordID, c.callID))
			continue
		}
		got, _ := values[pipeline.TargetField].(string)
		if problem := checkTarget(p.mode, c, got); problem != "" {
			problems = append(problems,
				fmt.Sprintf("record %s of %s: %s", c.recordID, c.callID, problem))
		}
	}
	return problems
}

// checkTarget says what is wrong with the target field's value got, or ""
// when it is right: the summary alone after an overwrite; after an append
// the agent text, a blank separator and the summary's block, once.
func checkTarget(mode salesforce.WriteMode, c *call, got string) string {
	if mode == salesforce.Overwrite {
		if got != c.summary {
			return fmt.Sprintf("holds %s, want the summary", clip(got))
		}
		return ""
	}
	block := salesforce.Block(c.expected())
	marker := salesforce.Marker(c.summaryID)
	rest, ok := strings.CutPrefix(got, c.agentText)
	if !ok {
		return fmt.Sprintf("agent text lost, holds %s", clip(got))
	}
	if n := strings.Count(got, marker); n != 1 {
		return fmt.Sprintf("holds %d blocks of its summary, want 1", n)
	}
	gap, ok := strings.CutSuffix(rest, block)
	if !ok || strings.TrimSpace(gap) != "" {
		return fmt.Sprintf("after the agent text holds %s, want only the block", clip(rest))
	}
	return ""
}

// clip quotes s, shortened to keep a line readable.
func clip(s string) string {
	const limit = 60
	if r := []rune(s); len(r) > limit {
		return fmt.Sprintf("%q…", string(r[:limit]))
	}
	return fmt.Sprintf("%q", s)
}
