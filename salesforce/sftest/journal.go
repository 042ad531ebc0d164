package sftest

// journal remembers what records looked like before the writes of one
// all-or-none unit (a collections PATCH or a composite request), so that
// the unit can be undone. A nil journal records nothing. It is guarded by
// Org.mu like the records it holds.
type journal struct {
	entries []journalEntry
	seen    map[*record]bool
}

// journalEntry is the state of one record before the unit first touched
// it: its values, or the fact that the unit created it.
type journalEntry struct {
	object  string
	rec     *record
	values  map[string]any
	created bool
}

// save keeps the current values of rec, unless the journal already holds
// an older state of it. Call it before changing rec.
func (j *journal) save(s *sobject, rec *record) {
	if j == nil || j.seen[rec] {
		return
	}
	j.add(journalEntry{object: s.def.Name, rec: rec, values: copyValues(rec.values)})
}

// created notes that rec did not exist before the unit.
func (j *journal) created(s *sobject, rec *record) {
	if j == nil || j.seen[rec] {
		return
	}
	j.add(journalEntry{object: s.def.Name, rec: rec, created: true})
}

func (j *journal) add(e journalEntry) {
	if j.seen == nil {
		j.seen = make(map[*record]bool)
	}
	j.seen[e.rec] = true
	j.entries = append(j.entries, e)
}

// absorb takes over the entries of an inner unit that was kept, so that
// the outer unit can still undo them. States the outer journal already
// holds are older and win.
func (j *journal) absorb(inner *journal) {
	if j == nil || inner == nil {
		return
	}
	for _, e := range inner.entries {
		if !j.seen[e.rec] {
			j.add(e)
		}
	}
}

// rollback puts every record the journal holds back as it was, including
// LastModifiedDate, and removes records the unit created; the journal is
// then empty. Writes that other requests made to the same records in the
// meantime are lost with the unit's own. The caller holds o.mu for
// writing.
func (o *Org) rollback(j *journal) {
	if j == nil {
		return
	}
	for i := len(j.entries) - 1; i >= 0; i-- {
		e := j.entries[i]
		s, ok := o.object(e.object)
		if !ok {
			continue
		}
		if e.created {
			s.forget(e.rec)
			continue
		}
		for k := range s.def.Fields {
			f := &s.def.Fields[k]
			s.set(e.rec, f.Name, e.values[f.Name])
		}
	}
	j.entries, j.seen = nil, nil
}

// forget removes rec from s and its indexes, as if it had never been
// inserted.
func (s *sobject) forget(rec *record) {
	for k := range s.def.Fields {
		s.indexRemove(&s.def.Fields[k], rec)
	}
	delete(s.records, rec.id[:15])
}
