package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/callsummary/connector/salesforce"
	"github.com/callsummary/connector/tools/internal/pipeline"
)

// Lookup modes: the External ID endpoint on Call_Id__c, or SOQL on
// CallObject, a text field that is not an External ID.
const (
	lookupExternal = "external"
	lookupSOQL     = "soql"
)

// options are the settings of one bench run.
type options struct {
	messages        int           // messages of a backlog scenario
	trickleMessages int           // messages of a trickle scenario
	trickleInterval time.Duration // time between two trickle sends
	scenarios       string        // filter: substrings, comma separated
	lookup          string        // lookupExternal or lookupSOQL
	deadline        time.Duration // per scenario, from the first send or worker start to done
	env             []string      // KEY=VALUE passed to the worker last
	connector       string        // worker binary; empty: build one into out
	out             string        // directory of the built binary and worker logs
	cpuProfile      string        // file for a CPU profile of the bench process
}

func defaultOptions() options {
	return options{
		messages:        10000,
		trickleMessages: 300,
		trickleInterval: 100 * time.Millisecond,
		lookup:          lookupExternal,
		deadline:        5 * time.Minute,
		out:             ".cache/bench",
	}
}

// register adds the flags of o to cmd.
func (o *options) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.IntVar(&o.messages, "messages", o.messages, "messages (and records) of a backlog scenario")
	f.IntVar(&o.trickleMessages, "trickle-messages", o.trickleMessages,
		"messages (and records) of a trickle scenario")
	f.DurationVar(&o.trickleInterval, "trickle-interval", o.trickleInterval,
		"time between two sends of a trickle scenario")
	f.StringVar(&o.scenarios, "scenario", "",
		"run only scenarios whose name contains one of these comma-separated substrings")
	f.StringVar(&o.lookup, "lookup", o.lookup,
		"lookup field: external (External ID Call_Id__c) or soql (CallObject)")
	f.DurationVar(&o.deadline, "deadline", o.deadline,
		"time a scenario may take, sending included, until every message is done")
	f.StringArrayVar(&o.env, "env", nil,
		"KEY=VALUE set in the worker's environment, after the bench's own; repeatable")
	f.StringVar(&o.connector, "connector", "",
		"connector binary to run (default: build ./cmd/connector into --out)")
	f.StringVar(&o.out, "out", o.out, "directory for the built worker and its logs")
	f.StringVar(&o.cpuProfile, "cpuprofile", "",
		"write a CPU profile of the bench process (SQS server and fake org) to this file")
}

// validate checks the options and returns the scenarios they select.
func (o options) validate() ([]scenario, error) {
	switch {
	case o.messages < 1 || o.trickleMessages < 1:
		return nil, errors.New("--messages and --trickle-messages must be at least 1")
	case o.trickleInterval <= 0:
		return nil, errors.New("--trickle-interval must be positive")
	case o.lookup != lookupExternal && o.lookup != lookupSOQL:
		return nil, fmt.Errorf("--lookup %q is not external or soql", o.lookup)
	case o.deadline <= 0:
		return nil, errors.New("--deadline must be positive")
	}
	if err := pipeline.SetEnv(map[string]string{}, o.env); err != nil {
		return nil, fmt.Errorf("--env: %w", err)
	}
	return selectScenarios(o.scenarios)
}

// lookupField is the field the call ids are seeded into and searched by.
func (o options) lookupField() string {
	if o.lookup == lookupSOQL {
		return "CallObject"
	}
	return "Call_Id__c"
}

// load is how the messages of a scenario reach the queue.
type load string

const (
	backlog load = "backlog" // all sent before the worker starts
	trickle load = "trickle" // one per interval to a ready worker
)

// scenario is one measured run.
type scenario struct {
	name    string
	load    load
	mode    salesforce.WriteMode
	latency time.Duration // the fake org's latency per call
}

// allScenarios lists every scenario in the order they run.
func allScenarios() []scenario {
	var out []scenario
	for _, l := range []load{backlog, trickle} {
		for _, m := range []salesforce.WriteMode{salesforce.Overwrite, salesforce.Append} {
			for _, latency := range []time.Duration{0, 100 * time.Millisecond} {
				out = append(out, scenario{
					name:    fmt.Sprintf("%s-%s-%dms", l, m, latency.Milliseconds()),
					load:    l,
					mode:    m,
					latency: latency,
				})
			}
		}
	}
	return out
}

// selectScenarios returns the scenarios whose name contains one of the
// comma-separated terms of filter; an empty filter selects all.
func selectScenarios(filter string) ([]scenario, error) {
	var terms []string
	for term := range strings.SplitSeq(filter, ",") {
		if term = strings.TrimSpace(term); term != "" {
			terms = append(terms, term)
		}
	}
	if len(terms) == 0 {
		return allScenarios(), nil
	}
	var out []scenario
	for _, sc := range allScenarios() {
		for _, term := range terms {
			if strings.Contains(sc.name, term) {
				out = append(out, sc)
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--scenario %q selects none of the scenarios", filter)
	}
	return out, nil
}

// messagesOf is how many messages and records scenario sc uses.
func (o options) messagesOf(sc scenario) int {
	if sc.load == trickle {
		return o.trickleMessages
	}
	return o.messages
}
