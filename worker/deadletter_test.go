package worker

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

func TestDeadLetterAttributes(t *testing.T) {
	upstream := map[string]types.MessageAttributeValue{
		AttrReason:  stringAttr("OLD_REASON"),
		AttrReplays: numberAttr(2),
		"big":       stringAttr(strings.Repeat("x", 500)),
	}
	for i := range 9 {
		upstream[fmt.Sprintf("up-%d", i)] = stringAttr("v")
	}
	p := &Pool{cfg: Config{QueueURL: "https://sqs/q", MaxBodyBytes: 400, Now: time.Now}}
	m := types.Message{Body: aws.String("{}"), MessageAttributes: upstream,
		Attributes: map[string]string{"ApproximateReceiveCount": "3"}}

	got := p.deadLetterAttributes(m, decision{reason: "NOT_FOUND", detail: "no record"})

	if len(got) != maxAttributes {
		t.Errorf("got %d attributes, want %d", len(got), maxAttributes)
	}
	checks := map[string]string{
		AttrReason: "NOT_FOUND", AttrDetail: "no record", AttrAttempts: "3",
		AttrSourceQueue: "https://sqs/q", AttrReplays: "2", "up-0": "v", "up-3": "v",
	}
	for name, want := range checks {
		if v := aws.ToString(got[name].StringValue); v != want {
			t.Errorf("%s: got %q, want %q", name, v, want)
		}
	}
	if _, ok := got["big"]; ok {
		t.Error("kept an upstream attribute that does not fit the size limit")
	}
	if _, ok := got["up-8"]; ok {
		t.Error("kept more upstream attributes than ten in all allow")
	}
}

func TestTruncateDetail(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"short", "no record", "no record"},
		{"folds-lines", "line one\nline two\t end", "line one line two end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := truncateDetail(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("long-multibyte", func(t *testing.T) {
		got := truncateDetail(strings.Repeat("é", 2000))
		if len(got) > maxDetailLength || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
			t.Errorf("got %d bytes, valid=%v; want at most %d valid bytes ending in …",
				len(got), utf8.ValidString(got), maxDetailLength)
		}
	})
}

func TestNotFoundDelaySpreadsGraceOverFourReceives(t *testing.T) {
	grace := 16 * time.Minute
	var elapsed time.Duration
	for receive := 1; receive <= 4; receive++ {
		elapsed += min(notFoundDelay(grace, receive), grace-elapsed+time.Second)
	}
	if elapsed < grace {
		t.Errorf("after four receives %s of a %s grace passed; the fifth would retry again",
			elapsed, grace)
	}
	if first := notFoundDelay(grace, 1); first != 2*time.Minute {
		t.Errorf("first delay: got %s, want an eighth of the grace", first)
	}
}

func TestRetryDelayGrowsAndIsCapped(t *testing.T) {
	for receives, want := range map[int]time.Duration{1: 30 * time.Second, 3: 2 * time.Minute, 20: 15 * time.Minute} {
		got := retryDelay(receives)
		if got < want*8/10 || got > want*12/10 {
			t.Errorf("receive %d: got %s, want %s ±20%%", receives, got, want)
		}
	}
}
