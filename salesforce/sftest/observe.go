package sftest

import "time"

// SetWriteObserver sets a function called once for every record an API
// write saves: a record PATCH, each record of a collections PATCH, each
// write subrequest of a composite, and an upsert that updates a record. It
// receives the object's canonical name, the record's 18-character id and
// the LastModifiedDate the write stamped (the org's clock, to the
// millisecond). Upserts that create a record, and the Go methods Insert and
// Update, are not reported.
//
// The function runs after the write is applied and before the request is
// answered, while the org holds its lock for writing. It must therefore
// return quickly and must not call any method of the org, which would
// deadlock; hand the event to another goroutine if more work is needed. A
// write that an all-or-none composite or collections request later undoes
// has been reported all the same. nil removes the observer.
func (o *Org) SetWriteObserver(fn func(object, id string, at time.Time)) {
	o.knobs.update(func(s *settings) { s.observer = fn })
}

// observeWrite reports a saved record to the write observer, if any. The
// caller holds o.mu for writing.
func (o *Org) observeWrite(s *sobject, rec *record) {
	fn := o.knobs.get().observer
	if fn == nil {
		return
	}
	at, _ := rec.values[fieldLastModified].(time.Time)
	fn(s.def.Name, rec.id, at)
}
