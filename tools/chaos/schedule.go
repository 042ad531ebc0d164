package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// disruption is something done to the worker or the org during a run.
type disruption string

const (
	sigkill      disruption = "SIGKILL"
	sigterm      disruption = "SIGTERM"
	requestLimit disruption = "REQUEST_LIMIT_EXCEEDED"
)

// event is a disruption due once a number of messages has been sent.
type event struct {
	afterSent  int
	disruption disruption
	restartIn  time.Duration // for a signal: the pause before the next worker starts
}

func (e event) String() string {
	return fmt.Sprintf("%s after %d sent", e.disruption, e.afterSent)
}

// newSchedule spreads three SIGKILLs and one SIGTERM, in an order drawn
// from rng, over the sending of n messages at about a fifth, two fifths,
// three fifths and four fifths, and puts the limit period between the
// first two, so that no worker starts while the org refuses every call.
func newSchedule(n int, rng *rand.Rand) []event {
	signals := []disruption{sigkill, sigkill, sigkill, sigterm}
	rng.Shuffle(len(signals), func(i, j int) { signals[i], signals[j] = signals[j], signals[i] })
	var events []event
	for i, d := range signals {
		at := float64(i+1)/5 + (rng.Float64()-0.5)*0.08
		events = append(events, event{
			afterSent:  int(at * float64(n)),
			disruption: d,
			restartIn:  time.Duration(200+rng.IntN(1300)) * time.Millisecond,
		})
	}
	at := 0.3 + (rng.Float64()-0.5)*0.04
	events = append(events, event{afterSent: int(at * float64(n)), disruption: requestLimit})
	slices.SortFunc(events, func(a, b event) int { return a.afterSent - b.afterSent })
	return events
}
