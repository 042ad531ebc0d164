package sqstest

import "maps"

// FailNext makes the next n requests of action, such as
// "DeleteMessageBatch", fail as a whole with HTTP 500 InternalError. The
// AWS SDKs retry such failures, so each attempt consumes one of the n.
// A later FailNext for the same action replaces the remaining count.
func (s *Server) FailNext(action string, n int) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.failNext[action] = n
}

// FailEntries makes entries of DeleteMessageBatch, SendMessageBatch and
// ChangeMessageVisibilityBatch fail one by one: an entry for which
// fail(action, entryID) is true is answered in Failed with code
// InternalError and SenderFault false, and is not carried out. fail is
// called without any lock of the Server held and may be called
// concurrently. A nil fail removes the hook.
func (s *Server) FailEntries(fail func(action, entryID string) bool) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.failEntries = fail
}

// Calls returns how many requests of each action the server received,
// including those that failed.
func (s *Server) Calls() map[string]int {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	return maps.Clone(s.calls)
}

func (s *Server) count(action string) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.calls[action]++
}

// takeFailure reports whether this request of action is to fail, and
// consumes one planned failure if so.
func (s *Server) takeFailure(action string) bool {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	if s.failNext[action] <= 0 {
		return false
	}
	s.failNext[action]--
	return true
}

// failedEntries asks the FailEntries hook about each batch entry id and
// returns the ids it fails.
func (s *Server) failedEntries(action string, ids []string) map[string]bool {
	s.faultMu.Lock()
	fail := s.failEntries
	s.faultMu.Unlock()
	if fail == nil {
		return nil
	}
	failed := map[string]bool{}
	for _, id := range ids {
		if fail(action, id) {
			failed[id] = true
		}
	}
	return failed
}

// entryFailure is the Failed entry that an injected entry failure yields.
func entryFailure(id string) batchResultError {
	e := errInternal()
	return batchResultError{ID: id, SenderFault: false, Code: e.batchCode(), Message: e.message}
}
