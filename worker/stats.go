package worker

import "sync"

// Stats counts outcomes for tests, the demo and metrics.
type Stats struct {
	mu             sync.Mutex
	outcomes       map[Outcome]int
	reasons        map[string]int // dead-letter reasons
	deleteFailures int
	staleReceipts  int
	released       int
	pauses         int
}

// Snapshot is a copy of the counters at one moment.
type Snapshot struct {
	Outcomes       map[Outcome]int
	DeadLetters    map[string]int // by reason
	DeleteFailures int
	StaleReceipts  int
	Released       int // received after shutdown began and put back
	Pauses         int
}

// Handled is the number of messages that reached any outcome.
func (s Snapshot) Handled() int {
	n := 0
	for _, c := range s.Outcomes {
		n += c
	}
	return n
}

func newStats() *Stats {
	return &Stats{outcomes: map[Outcome]int{}, reasons: map[string]int{}}
}

func (s *Stats) add(d decision) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outcomes[d.outcome]++
	if d.outcome == DeadLetter {
		s.reasons[d.reason]++
	}
}

func (s *Stats) addDeleteFailure() { s.bump(&s.deleteFailures) }
func (s *Stats) addStaleReceipt()  { s.bump(&s.staleReceipts) }
func (s *Stats) addReleased()      { s.bump(&s.released) }
func (s *Stats) addPause()         { s.bump(&s.pauses) }

func (s *Stats) bump(n *int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	*n++
}

func (s *Stats) snapshot() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := Snapshot{
		Outcomes:       make(map[Outcome]int, len(s.outcomes)),
		DeadLetters:    make(map[string]int, len(s.reasons)),
		DeleteFailures: s.deleteFailures,
		StaleReceipts:  s.staleReceipts,
		Released:       s.released,
		Pauses:         s.pauses,
	}
	for k, v := range s.outcomes {
		snap.Outcomes[k] = v
	}
	for k, v := range s.reasons {
		snap.DeadLetters[k] = v
	}
	return snap
}
