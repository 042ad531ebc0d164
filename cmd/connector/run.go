package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/callsummary/connector/config"
	"github.com/callsummary/connector/salesforce"
	"github.com/callsummary/connector/worker"
)

// Exit codes of `connector run` besides 0 and 1.
const (
	exitConfig = 2 // the environment does not hold a valid configuration
	exitSetup  = 3 // Salesforce refused the credentials or the object and fields
)

func newRunCommand(configPath *string) *cobra.Command {
	return &cobra.Command{
		Use:   "run",
		Short: "Run the worker: take summaries from SQS and write them into Salesforce",
		Long: "Run the worker, configured by environment variables (or a --config file):\n\n" +
			variablesHelp() +
			"\nAWS settings (region, credentials, AWS_ENDPOINT_URL_SQS) come from the AWS SDK's " +
			"own chain.\nSIGINT or SIGTERM stops receiving and finishes messages in flight.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWorker(cmd.Context(), *configPath)
		},
	}
}

func variablesHelp() string {
	var b strings.Builder
	for _, v := range config.Variables() {
		def := v.Default
		if v.Required {
			def = "required"
		} else if def == "" {
			def = "optional"
		}
		fmt.Fprintf(&b, "  %-24s %s (%s)\n", v.Name, v.Meaning, def)
	}
	return b.String()
}

func runWorker(ctx context.Context, configPath string) error {
	cfg, err := loadConfig(configPath)
	if err != nil {
		return &exitError{code: exitConfig, err: err}
	}
	log := newLogger(os.Stderr, cfg.Log.Level, cfg.Log.Format)
	log.Info().Fields(redactedFields(cfg)).Msg("configuration")

	m := newMetrics()
	sfCfg := salesforceConfig(cfg)
	sfCfg.Observer = m
	sf, err := salesforce.New(sfCfg)
	if err != nil {
		return &exitError{code: exitConfig, err: err}
	}
	if err := checkSalesforce(ctx, sf, log); err != nil {
		return err
	}
	queue, err := newSQSClient(ctx, cfg.SQS.HTTPTimeout)
	if err != nil {
		return err
	}
	if err := checkQueues(ctx, queue, cfg.SQS.QueueURL, cfg.SQS.DLQURL); err != nil {
		if ctx.Err() != nil {
			// A signal while starting is a stop like any other.
			log.Info().Msg("stopped before the worker started")
			return nil
		}
		return &exitError{code: exitSetup, err: err}
	}
	wCfg := workerConfig(cfg, log)
	wCfg.Observer = m
	pool, err := worker.New(wCfg, queue, sf)
	if err != nil {
		return err
	}
	m.watch(pool, sf)
	if err := serveHealth(ctx, cfg.MetricsAddr, healthHandler(pool, m.handler()), log); err != nil {
		return err
	}
	return pool.Run(ctx)
}

// checkSalesforce refuses to start when Salesforce rejects the credentials or
// the configured object and fields; when Salesforce is only unreachable, the
// worker starts and its handlers retry.
func checkSalesforce(ctx context.Context, sf *salesforce.Client, log zerolog.Logger) error {
	err := sf.Prepare(ctx)
	switch {
	case err == nil:
		log.Info().Bool("external_id_lookup", sf.UsesExternalID()).Msg("salesforce setup checked")
		return nil
	case salesforce.Reason(err) == "REQUEST_LIMIT_EXCEEDED":
		// Refusing to start would only restart the process in a loop until
		// the daily limit resets; the pool pauses and probes instead.
		log.Warn().Err(err).Msg("salesforce API limit reached at startup; starting paused")
		return nil
	case salesforce.ClassOf(err) == salesforce.Systemic:
		return &exitError{code: exitSetup, err: fmt.Errorf("salesforce setup check: %w", err)}
	}
	log.Warn().Err(err).Msg("salesforce not reachable at startup; starting anyway, messages will retry")
	return nil
}

func redactedFields(cfg config.Config) map[string]any {
	fields := map[string]any{}
	for k, v := range cfg.Redacted() {
		fields[k] = v
	}
	return fields
}

func salesforceConfig(cfg config.Config) salesforce.Config {
	s := cfg.Salesforce
	return salesforce.Config{
		Domain:           s.Domain,
		ClientID:         s.ClientID,
		ClientSecret:     s.ClientSecret.Reveal(),
		APIVersion:       s.APIVersion,
		Object:           s.Object,
		LookupField:      s.LookupField,
		LookupExternalID: salesforce.ExternalIDMode(s.LookupExternalID),
		OriginField:      s.OriginField,
		TargetField:      s.TargetField,
		WriteMode:        salesforce.WriteMode(s.WriteMode),
		TooLong:          salesforce.TooLongPolicy(s.TooLong),
		HTTPClient:       newHTTPClient(s.HTTPTimeout),
		BatchSize:        s.BatchSize,
		BatchLinger:      s.BatchLinger,
	}
}

func workerConfig(cfg config.Config, log zerolog.Logger) worker.Config {
	return worker.Config{
		QueueURL:          cfg.SQS.QueueURL,
		DLQURL:            cfg.SQS.DLQURL,
		Receivers:         cfg.Worker.Receivers,
		Concurrency:       cfg.Worker.Concurrency,
		WaitTime:          cfg.SQS.WaitTime,
		MaxMessages:       cfg.SQS.MaxMessages,
		VisibilityTimeout: cfg.SQS.VisibilityTimeout,
		NotFoundGrace:     cfg.Worker.NotFoundGrace,
		APIUsageCeiling:   cfg.Worker.APIUsageCeiling,
		RetryMaxElapsed:   cfg.Worker.RetryMaxElapsed,
		DrainTimeout:      cfg.Worker.DrainTimeout,
		MaxProcessingTime: cfg.Worker.MaxProcessingTime,
		Logger:            log,
	}
}
