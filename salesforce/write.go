package salesforce

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// maxAppendAttempts bounds the writes of one append: conditional writes
// refused with 412 and writes whose block was gone on re-reading.
const maxAppendAttempts = 5

// errNotConfirmed means a write succeeded but the block was missing when the
// record was read back: another process wrote in the same second.
var errNotConfirmed = errors.New("salesforce: appended block missing when read back")

// Apply writes s into the record whose lookup field (or else origin field)
// holds s.CallID, as the configured write mode says. It prepares the client
// first if Prepare never succeeded. Errors are classified by ClassOf.
func (c *Client) Apply(ctx context.Context, s Summary) (Result, error) {
	if err := c.checkSummary(s); err != nil {
		return Result{}, err
	}
	sch, err := c.currentSchema(ctx)
	if err != nil {
		return Result{}, err
	}

	writes := c.writes.Load()
	rec, err := c.find(ctx, sch, s.CallID)
	if err != nil {
		return Result{}, err
	}
	if c.cfg.WriteMode == Overwrite {
		return c.overwrite(ctx, sch, rec, s.Text)
	}
	return c.appendSummary(ctx, sch, rec, s, writes)
}

func (c *Client) checkSummary(s Summary) error {
	switch {
	case s.CallID == "":
		return &InvalidSummaryError{Problem: "call id is empty"}
	case c.cfg.WriteMode == Append && s.SummaryID == "":
		return &InvalidSummaryError{Problem: "summary id is empty"}
	}
	return nil
}

func (c *Client) overwrite(ctx context.Context, sch *schema, rec record, text string) (Result, error) {
	if err := checkLength(sch, text); err != nil {
		return Result{}, err
	}
	if err := c.patch(ctx, sch, rec.id, text, time.Time{}); err != nil {
		return Result{}, err
	}
	return Result{RecordID: rec.id}, nil
}

// appendSummary appends s's block to the record unless it is there already.
// writes is the count of PATCH attempts seen before the record was looked
// up: if it moved, another goroutine may have written this record since, so
// the record is read again once the record's lock is held.
func (c *Client) appendSummary(ctx context.Context, sch *schema, rec record, s Summary,
	writes uint64) (Result, error) {
	release, err := c.locks.acquire(ctx, rec.id)
	if err != nil {
		return Result{}, fmt.Errorf("wait for %s %s: %w", sch.object, rec.id, err)
	}
	defer release()

	if c.writes.Load() != writes || !rec.targetKnown || rec.lastModified.IsZero() {
		if rec, err = c.readByID(ctx, sch, rec.id); err != nil {
			return Result{}, err
		}
	}
	return c.appendLocked(ctx, sch, rec, s)
}

// appendLocked writes the block unless the record already holds it. A
// write refused with 412, or whose block is missing on reading back, is
// tried again from what was read, a bounded number of times.
func (c *Client) appendLocked(ctx context.Context, sch *schema, rec record, s Summary) (Result, error) {
	marker, block := Marker(s.SummaryID), Block(s)
	var err error
	for range maxAppendAttempts {
		if strings.Contains(rec.target, marker) {
			return Result{RecordID: rec.id, AlreadyApplied: true}, nil
		}
		if rec.lastModified.IsZero() {
			return Result{}, fmt.Errorf("append to %s %s: no LastModifiedDate", sch.object, rec.id)
		}
		value := joinBlocks(rec.target, block)
		if err := checkLength(sch, value); err != nil {
			return Result{}, err
		}

		var confirmed bool
		rec, confirmed, err = c.writeAndReread(ctx, sch, rec, value, marker)
		if confirmed {
			return Result{RecordID: rec.id}, nil
		}
		if !errors.Is(err, errNotConfirmed) && !isPreconditionFailed(err) {
			return Result{}, err
		}
	}
	return Result{}, fmt.Errorf("append to %s %s: %d attempts: %w",
		sch.object, rec.id, maxAppendAttempts, err)
}

// writeAndReread writes value on condition that rec has not changed, then
// reads the record back. It reports whether the write went through and its
// marker is there. A 412 or a missing marker comes back as the error, with
// the record as read back.
func (c *Client) writeAndReread(ctx context.Context, sch *schema, rec record, value, marker string) (
	record, bool, error) {
	err := c.patch(ctx, sch, rec.id, value, rec.lastModified)
	c.writes.Add(1)
	if err != nil && !isPreconditionFailed(err) {
		return rec, false, err
	}

	fresh, readErr := c.readByID(ctx, sch, rec.id)
	switch {
	case readErr != nil:
		return rec, false, readErr
	case err != nil:
		return fresh, false, err
	case !strings.Contains(fresh.target, marker):
		return fresh, false, errNotConfirmed
	}
	return fresh, true, nil
}

// joinBlocks appends block to old, separated by a blank line.
func joinBlocks(old, block string) string {
	if old == "" {
		return block
	}
	return old + "\n\n" + block
}

func checkLength(sch *schema, value string) error {
	if n := Length(value); n > sch.targetLength {
		return &TooLongError{Field: sch.target, Length: n, Max: sch.targetLength}
	}
	return nil
}

func isPreconditionFailed(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.Status == http.StatusPreconditionFailed
}

// patch sets the target field of record id. A non-zero unmodifiedSince makes
// the write conditional: Salesforce refuses it with 412 if the record
// changed after that second.
func (c *Client) patch(ctx context.Context, sch *schema, id, value string,
	unmodifiedSince time.Time) error {
	rq := request{
		method: http.MethodPatch,
		path:   "sobjects/" + sch.object + "/" + url.PathEscape(id),
		body:   map[string]string{sch.target: value},
	}
	if !unmodifiedSince.IsZero() {
		since := unmodifiedSince.UTC().Format(http.TimeFormat)
		rq.header = http.Header{"If-Unmodified-Since": {since}}
	}
	resp, err := c.do(ctx, rq)
	if err != nil {
		return fmt.Errorf("update %s %s: %w", sch.object, id, err)
	}
	if resp.status != http.StatusNoContent && resp.status != http.StatusOK {
		return fmt.Errorf("update %s %s: %w", sch.object, id, resp.apiError())
	}
	return nil
}

// Block returns the text appended for s: a header line with the occurrence
// time (RFC 3339, UTC, when known) and Marker(s.SummaryID), then the summary.
func Block(s Summary) string {
	var b strings.Builder
	b.WriteString("--- Call summary ")
	if !s.OccurredAt.IsZero() {
		b.WriteString(s.OccurredAt.UTC().Format(time.RFC3339))
		b.WriteString(" ")
	}
	b.WriteString(Marker(s.SummaryID))
	b.WriteString(" ---\n")
	b.WriteString(defuseMarkers(s.Text))
	return b.String()
}

// markerPrefix opens every marker; only block headers may hold it.
const markerPrefix = "[summary-id "

// defuseMarkers rewrites marker-like text inside a summary, so that a
// summary quoting a header can never make another summary look applied.
func defuseMarkers(text string) string {
	return strings.ReplaceAll(text, markerPrefix, "[summary id ")
}

// Marker returns the part of a block's header that identifies summaryID.
// Distinct ids give markers that are not substrings of one another: the id
// is bracketed, and brackets, % and control characters in it are
// percent-escaped.
func Marker(summaryID string) string {
	var b strings.Builder
	b.WriteString(markerPrefix)
	for i := 0; i < len(summaryID); i++ {
		ch := summaryID[i]
		if ch == '%' || ch == '[' || ch == ']' || ch < 0x20 || ch == 0x7f {
			fmt.Fprintf(&b, "%%%02X", ch)
			continue
		}
		b.WriteByte(ch)
	}
	b.WriteString("]")
	return b.String()
}

// Length counts characters as Salesforce does, in UTF-16 code units: a
// character outside the Basic Multilingual Plane counts as two.
func Length(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r > 0xFFFF {
			n++
		}
	}
	return n
}

// recordLocks serialises appends to the same record within the process.
// Entries exist only while someone holds or waits for them.
type recordLocks struct {
	mu   sync.Mutex
	byID map[string]*recordLock
}

type recordLock struct {
	sem   chan struct{}
	users int // holders and waiters
}

// acquire waits for the lock of record id, or for ctx to end. The returned
// function releases it.
func (l *recordLocks) acquire(ctx context.Context, id string) (func(), error) {
	l.mu.Lock()
	if l.byID == nil {
		l.byID = make(map[string]*recordLock)
	}
	lk := l.byID[id]
	if lk == nil {
		lk = &recordLock{sem: make(chan struct{}, 1)}
		l.byID[id] = lk
	}
	lk.users++
	l.mu.Unlock()

	select {
	case lk.sem <- struct{}{}:
		return func() { <-lk.sem; l.leave(id, lk) }, nil
	case <-ctx.Done():
		l.leave(id, lk)
		return nil, ctx.Err()
	}
}

func (l *recordLocks) leave(id string, lk *recordLock) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lk.users--
	if lk.users == 0 {
		delete(l.byID, id)
	}
}

// size returns the number of records locked or waited for.
func (l *recordLocks) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.byID)
}
