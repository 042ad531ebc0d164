package main

import (
	"github.com/callsummary/connector/tools/internal/pipeline"
)

// workerEnv is the worker's whole environment: what it needs to reach the
// testbed, then the --env settings, which win. Everything else keeps the
// worker's defaults; nothing is inherited from the bench's environment, so
// a variable set in the shell cannot change a run unnoticed.
func workerEnv(o options, sc scenario, tb *testbed, metricsAddr string) (map[string]string, error) {
	env := tb.WorkerEnv(o.lookupField(), sc.mode)
	env[pipeline.MetricsAddrVar] = metricsAddr
	if err := pipeline.SetEnv(env, o.env); err != nil {
		return nil, err
	}
	return env, nil
}
