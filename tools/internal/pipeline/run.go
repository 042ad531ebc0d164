package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/spf13/cobra"
)

// Execute runs cmd with args and returns the process exit code: 1, with
// the error on stderr after the command's name, when it fails.
func Execute(ctx context.Context, cmd *cobra.Command, args []string, stdout, stderr io.Writer) int {
	cmd.SetArgs(args)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd.Name(), err)
		return 1
	}
	return 0
}

// SendBatch sends up to ten bodies to the testbed's queue in one
// SendMessageBatch and returns their message ids, in the order of bodies.
// Any refused entry makes it fail.
func (tb *Testbed) SendBatch(ctx context.Context, bodies []string) ([]string, error) {
	entries := make([]types.SendMessageBatchRequestEntry, len(bodies))
	for i, body := range bodies {
		entries[i] = types.SendMessageBatchRequestEntry{
			Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(body)}
	}
	out, err := tb.Queue.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{
		QueueUrl: aws.String(tb.QueueURL), Entries: entries})
	if err != nil {
		return nil, err
	}
	if len(out.Failed) > 0 {
		f := out.Failed[0]
		return nil, fmt.Errorf("%d messages refused, the first with %s: %s",
			len(out.Failed), aws.ToString(f.Code), aws.ToString(f.Message))
	}
	ids := make([]string, len(bodies))
	for _, ok := range out.Successful {
		if i, err := strconv.Atoi(aws.ToString(ok.Id)); err == nil && i < len(ids) {
			ids[i] = aws.ToString(ok.MessageId)
		}
	}
	return ids, nil
}

// Round rounds x to decimals places, for the figures a run prints.
func Round(x float64, decimals int) float64 {
	scale := math.Pow(10, float64(decimals))
	return math.Round(x*scale) / scale
}

// WriteJSONLine prints v as one line of JSON.
func WriteJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
