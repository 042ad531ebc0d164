package main

import (
	"maps"
	"slices"
	"strings"
)

// metricsAddrVar names the worker's health endpoint address.
const metricsAddrVar = "METRICS_ADDR"

// workerEnv is the worker's whole environment: what it needs to reach the
// testbed, then the --env settings, which win. Everything else keeps the
// worker's defaults; nothing is inherited from the bench's environment, so
// a variable set in the shell cannot change a run unnoticed.
func workerEnv(o options, sc scenario, tb *testbed, metricsAddr string) map[string]string {
	env := map[string]string{
		"SF_DOMAIN":        tb.orgSrv.Domain,
		"SF_CLIENT_ID":     benchClientID,
		"SF_CLIENT_SECRET": tb.secret,
		"SF_OBJECT":        benchObject,
		"SF_LOOKUP_FIELD":  o.lookupField(),
		"SF_TARGET_FIELD":  benchTarget,
		"SF_WRITE_MODE":    string(sc.mode),

		"SQS_QUEUE_URL":         tb.queueURL,
		"SQS_DLQ_URL":           tb.dlqURL,
		"AWS_ENDPOINT_URL_SQS":  tb.sqsURL,
		"AWS_REGION":            benchRegion,
		"AWS_ACCESS_KEY_ID":     "bench",
		"AWS_SECRET_ACCESS_KEY": benchAWSSecret,

		metricsAddrVar: metricsAddr,
	}
	for _, kv := range o.env {
		key, value, _ := strings.Cut(kv, "=")
		env[key] = value
	}
	return env
}

// environ turns env into KEY=VALUE entries, sorted by key.
func environ(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for _, key := range slices.Sorted(maps.Keys(env)) {
		out = append(out, key+"="+env[key])
	}
	return out
}
