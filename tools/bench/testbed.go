package main

import (
	"github.com/callsummary/connector/tools/internal/pipeline"
)

// testbed is the fakes of one scenario, with the org's writes logged.
type testbed struct {
	*pipeline.Testbed
	writes *writeLog
}

// startTestbed starts the SQS server with both queues and the org with a
// client and the scenario's latency.
func startTestbed(sc scenario) (*testbed, error) {
	tb, err := pipeline.StartTestbed(pipeline.TestbedConfig{Name: "bench", Latency: sc.latency})
	if err != nil {
		return nil, err
	}
	writes := newWriteLog()
	tb.Org.SetWriteObserver(writes.observe)
	return &testbed{Testbed: tb, writes: writes}, nil
}
