package salesforce

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// maxClockWait bounds the wait for the org's clock to leave a second; a
// longer one means the clocks disagree beyond what the Date header
// explains, and waiting longer would not help.
const maxClockWait = 3 * time.Second

// orgClock keeps a lower bound of the org's clock, learnt from the Date
// header of its answers. A Date is truncated to the second and stamped
// before the answer left, so Date minus the local time the answer arrived
// is never more than the true offset between the clocks: the largest such
// value seen is the best lower bound. A value far below it means the
// org's clock was set back, and replaces it.
type orgClock struct {
	mu     sync.Mutex
	offset time.Duration
	known  bool
}

// clockStepBack is how far below the bound an offset must fall to be
// taken as the org's clock set back rather than a slow answer.
const clockStepBack = 5 * time.Second

func (c *orgClock) observe(date string, arrived time.Time) {
	t, err := http.ParseTime(date)
	if err != nil {
		return
	}
	offset := t.Sub(arrived)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.known || offset > c.offset || offset < c.offset-clockStepBack {
		c.offset, c.known = offset, true
	}
}

// lowerBound returns a time the org's clock has surely reached at local
// time now, and false before any Date was seen.
func (c *orgClock) lowerBound(now time.Time) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return now.Add(c.offset), c.known
}

// waitPastSecond waits until the org's clock has surely left the second of
// every lastModified, so that a write stamped by the org cannot share that
// second. If-Unmodified-Since has one-second granularity: a writer that
// read a record in second S and wrote in second S would let a second writer
// holding the same read, writing in S as well, pass its condition and
// overwrite the first one's block after it was confirmed. Written in a
// later second, the first write makes the second one's condition fail.
func (c *Client) waitPastSecond(ctx context.Context, lastModified []time.Time) error {
	now := time.Now()
	orgNow, ok := c.clock.lowerBound(now)
	if !ok {
		orgNow = now
	}
	var wait time.Duration
	for _, lm := range lastModified {
		wait = max(wait, lm.Truncate(time.Second).Add(time.Second).Sub(orgNow))
	}
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(min(wait, maxClockWait))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
