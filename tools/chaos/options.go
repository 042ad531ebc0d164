package main

import (
	"errors"
	"time"

	"github.com/spf13/cobra"

	"github.com/callsummary/connector/tools/internal/pipeline"
)

// options are the settings of one chaos run.
type options struct {
	messages    int           // messages sent in all
	seed        uint64        // draws the plan, the schedule and the delete faults
	rate        float64       // messages sent per second
	latency     time.Duration // the fake org's delay before each answer
	replicas    int           // workers sharing the queue at once
	rolling     bool          // SIGTERM starts the next worker before the old one stops
	visibility  time.Duration // the source queue's visibility timeout
	limitPeriod time.Duration // how long the org answers REQUEST_LIMIT_EXCEEDED
	deadline    time.Duration // the whole run, sending included, until every message is done
	env         []string      // KEY=VALUE passed to the worker last
	connector   string        // worker binary; empty: build one into out
	out         string        // directory of the built binary and the worker logs
}

func defaultOptions() options {
	return options{
		messages:    10000,
		seed:        1,
		rate:        100,
		latency:     20 * time.Millisecond,
		replicas:    1,
		rolling:     true,
		visibility:  6 * time.Second,
		limitPeriod: 5 * time.Second,
		deadline:    4 * time.Minute,
		out:         ".cache/chaos",
	}
}

// register adds the flags of o to cmd.
func (o *options) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.IntVar(&o.messages, "messages", o.messages, "messages to send, valid, unknown and invalid")
	f.Uint64Var(&o.seed, "seed", o.seed,
		"seed of the messages, the moments of the kills and the delete faults")
	f.Float64Var(&o.rate, "rate", o.rate, "messages sent per second")
	f.DurationVar(&o.latency, "latency", o.latency,
		"the fake org's delay before each answer, which widens the moments a kill can hit")
	f.IntVar(&o.replicas, "replicas", o.replicas,
		"workers sharing the queue at once; the disruptions hit the first")
	f.BoolVar(&o.rolling, "rolling", o.rolling,
		"make the SIGTERM a rolling restart: the next worker starts before the old one drains")
	f.DurationVar(&o.visibility, "visibility", o.visibility,
		"visibility timeout of the source queue, whole seconds")
	f.DurationVar(&o.limitPeriod, "limit-period", o.limitPeriod,
		"how long the org answers REQUEST_LIMIT_EXCEEDED")
	f.DurationVar(&o.deadline, "deadline", o.deadline,
		"time the run may take, sending included, until every message is done")
	f.StringArrayVar(&o.env, "env", nil,
		"KEY=VALUE set in the worker's environment, after the run's own; repeatable")
	f.StringVar(&o.connector, "connector", "",
		"connector binary to run (default: build ./cmd/connector into --out)")
	f.StringVar(&o.out, "out", o.out, "directory for the built worker and its logs")
}

// validate checks the options.
func (o options) validate() error {
	switch {
	case o.messages < 10:
		return errors.New("--messages must be at least 10")
	case o.rate <= 0:
		return errors.New("--rate must be positive")
	case o.visibility < time.Second || o.visibility%time.Second != 0:
		return errors.New("--visibility must be whole seconds, at least 1s")
	case o.limitPeriod <= 0 || o.deadline <= 0:
		return errors.New("--limit-period and --deadline must be positive")
	case o.latency < 0:
		return errors.New("--latency must not be negative")
	case o.replicas < 1:
		return errors.New("--replicas must be at least 1")
	}
	return pipeline.SetEnv(map[string]string{}, o.env)
}
