package limiter

import (
	"context"
	"time"
)

// BucketStore keeps the state of token and leaky buckets: one theoretical
// arrival time (TAT) per key, the generic cell rate algorithm (GCRA). A
// bucket is empty of backlog when its TAT is not after now; each charge
// moves the TAT forward by its cost.
//
// Every decision is one atomic step of the store, so that a store shared by
// several servers (Redis, one script per call) enforces one limit for all.
// Take is, with now read from the store's own clock inside the step:
//
//	tat := max(stored TAT, now - slack)
//	backlog := tat + cost - now
//	if backlog <= limit { stored TAT = tat + cost }
//	return backlog <= limit, max(tat - now, 0), backlog
//
// Slack is a lateness credit. Room appears in a bucket at its TAT, but the
// next request's Take runs a little after that (its scheduling, its body
// read): charged from now, every admission would lose that gap, and a
// bucket of depth 1 under load would admit several percent under its
// rate. Charged from max(TAT, now - slack), a request late by up to slack
// loses nothing. The limiter gives a charge at most half the time one unit
// of its meter costs (and at most MaxSlack), so a burst at one instant
// still admits exactly the bucket's depth, and any span of time at most
// depth + span/interval units and one more.
//
// Durations are relative to that clock, so servers need not agree on the
// time. A key whose TAT has passed by MaxSlack holds nothing and may be
// dropped (in Redis: expire the key MaxSlack after its TAT); a key not held
// reads as a bucket drained long ago.
type BucketStore interface {
	// Take charges cost to key if the backlog after the charge,
	// max(TAT, now - slack) + cost - now, is at most limit; otherwise it
	// changes nothing. Slack is less than cost. A cost of 0 changes
	// nothing either way: it reads the backlog (with a slack of 0, as the
	// limiter reads it).
	Take(ctx context.Context, key Key, cost, limit, slack time.Duration) (Decision, error)
	// Adjust moves the TAT of key by delta without any check: a negative
	// delta gives back an earlier charge (never below an empty bucket), a
	// positive one adds debt that delays later charges. It counts from
	// max(TAT, now), with no lateness credit: a correction is not a late
	// request. A bucket it empties is dropped: it reads as one drained
	// long ago.
	Adjust(ctx context.Context, key Key, delta time.Duration) error
	// Promise gives a refused request the first turn, at least after from
	// now, that no earlier promise of key holds, and holds it for cost: with
	// P the stored time up to which turns are promised,
	//
	//	start := max(P, now + after)
	//	if start - now <= horizon { P = start + cost; return start - now }
	//	return after
	//
	// So refusals of one bucket, told when to come back, are told times a
	// cost apart rather than one moment for all. Key is the bucket's own
	// key set apart (Key.salted); turns further than horizon away are not
	// promised.
	Promise(ctx context.Context, key Key, after, cost, horizon time.Duration) (time.Duration, error)
}

// MaxSlack bounds the lateness credit of a charge (see BucketStore): a
// busy server takes well under a millisecond to run the Take of a request
// that arrived as its bucket found room, and nginx's limit_req, whose
// clock counts whole milliseconds, forgives as much.
const MaxSlack = time.Millisecond

// Slack is the lateness credit the limiter gives each charge to a bucket
// whose one unit (a request, a token, a microdollar) costs interval: half
// of that, however many units the charge holds, so that the credit never
// adds up to a unit beyond the bucket's depth, and at most MaxSlack.
func Slack(interval time.Duration) time.Duration { return min(interval/2, MaxSlack) }

// Decision is the outcome of BucketStore.Take.
type Decision struct {
	// Allowed reports whether the charge was taken.
	Allowed bool
	// Wait is the backlog before the charge, at least 0: how long a
	// request of a leaky bucket waits for its turn.
	Wait time.Duration
	// Backlog is the backlog after the charge, or the one it would have
	// made when refused. A charge given lateness credit leaves up to its
	// slack less than its cost.
	Backlog time.Duration
}

// BatchStore is a BucketStore that can run many Takes, or many Adjusts,
// in one go: a Redis store sends them in one round trip. The limiter
// charges together the rates of a request's zones that share one
// BatchStore (the same value in their Zone.Buckets), and gives them back
// together. Each Take or Adjust of a batch is still one atomic step on its
// own key, as when made alone; the batch as a whole is not atomic.
type BatchStore interface {
	BucketStore
	// TakeMany runs Take for each of takes, setting its Decision. On an
	// error, the takes whose Decision is Allowed were charged, and only
	// they.
	TakeMany(ctx context.Context, takes []BatchTake) error
	// AdjustMany runs Adjust for each of adjusts; the error is the first
	// of those that failed.
	AdjustMany(ctx context.Context, adjusts []BatchAdjust) error
}

// BatchTake is one Take of BatchStore.TakeMany.
type BatchTake struct {
	Key                Key
	Cost, Limit, Slack time.Duration
	// Decision is the Take's outcome, set by TakeMany.
	Decision Decision
}

// BatchAdjust is one Adjust of BatchStore.AdjustMany.
type BatchAdjust struct {
	Key   Key
	Delta time.Duration
}
