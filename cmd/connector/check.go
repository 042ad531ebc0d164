package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/spf13/cobra"

	"github.com/callsummary/connector/config"
	"github.com/callsummary/connector/salesforce"
)

func newCheckCommand(configPath *string) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Check the configuration against the org and the queues, line by line",
		Long: "Load the configuration as `run` does, get a token, describe the object and\n" +
			"check every configured field, then reach the queue and the dead-letter queue.\n" +
			"Prints the handoff checklist with ok or FAIL per line; exits 3 on any FAIL\n" +
			"and 2 when the configuration itself is invalid.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(*configPath)
			if err != nil {
				return &exitError{code: exitConfig, err: err}
			}
			return runCheck(cmd.Context(), cfg, cmd.OutOrStdout(), asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per line instead of a table")
	return cmd
}

// loadConfig reads the environment, over the YAML file at path when one is
// given.
func loadConfig(path string) (config.Config, error) {
	if path == "" {
		return config.FromEnv()
	}
	return config.FromFileAndEnv(path)
}

// fileSetting fills *value with the setting name of the YAML file at path
// when neither a flag nor the environment gave one, for the commands that
// need a single setting rather than a whole valid configuration.
func fileSetting(path, name string, value *string) error {
	if *value != "" || path == "" {
		return nil
	}
	file, err := config.ReadFile(path)
	if err != nil {
		return &exitError{code: exitConfig, err: err}
	}
	*value = file[name]
	return nil
}

// runCheck prints the checklist and fails when any line does.
func runCheck(ctx context.Context, cfg config.Config, out io.Writer, asJSON bool) error {
	sf, err := salesforce.New(salesforceConfig(cfg))
	if err != nil {
		return &exitError{code: exitConfig, err: err}
	}
	list := sf.Checklist(ctx)
	list = append(list, queueChecks(ctx, cfg)...)
	if ctx.Err() != nil {
		return fmt.Errorf("check: interrupted: %w", ctx.Err())
	}
	if err := printChecklist(out, list, asJSON); err != nil {
		return err
	}
	failed := 0
	for _, c := range list {
		if !c.OK {
			failed++
		}
	}
	if failed > 0 {
		return &exitError{code: exitSetup, err: fmt.Errorf("check: %d of %d lines failed", failed, len(list))}
	}
	return nil
}

// queueChecks reaches the queue and the dead-letter queue and says how the
// queue will treat messages.
func queueChecks(ctx context.Context, cfg config.Config) []salesforce.Check {
	client, err := newSQSClient(ctx, cfg.SQS.HTTPTimeout)
	if err != nil {
		return []salesforce.Check{{Name: "AWS configuration", Detail: err.Error()}}
	}
	return []salesforce.Check{
		queueCheck(ctx, client, "queue reachable", cfg.SQS.QueueURL),
		queueCheck(ctx, client, "dead-letter queue reachable", cfg.SQS.DLQURL),
	}
}

func queueCheck(ctx context.Context, client *sqs.Client, name, url string) salesforce.Check {
	attrs, err := queueAttributes(ctx, client, url)
	if err != nil {
		return salesforce.Check{Name: name, Detail: fmt.Sprintf("%s: %v", url, err)}
	}
	detail := url + ", visibility timeout " +
		attrs[string(types.QueueAttributeNameVisibilityTimeout)] + " s"
	if redrive := attrs[string(types.QueueAttributeNameRedrivePolicy)]; redrive != "" {
		detail += ", redrive policy " + redrive
	}
	return salesforce.Check{Name: name, OK: true, Detail: detail}
}

func printChecklist(out io.Writer, list []salesforce.Check, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(out)
		for _, c := range list {
			if err := enc.Encode(c); err != nil {
				return err
			}
		}
		return nil
	}
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "CHECK\tRESULT\tDETAIL")
	for _, c := range list {
		result := "ok"
		if !c.OK {
			result = "FAIL"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", c.Name, result, c.Detail)
	}
	return w.Flush()
}
