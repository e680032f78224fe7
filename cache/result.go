package cache

import "net/http"

// Outcome is what the cache did with a request.
type Outcome uint8

// The outcomes of Result. The zero Outcome is none: Serve has not decided.
const (
	// Bypass: the request is not one the cache handles (Result.Detail
	// says why); it was passed on untouched.
	Bypass Outcome = iota + 1
	// Hit: the answer came from the store.
	Hit
	// Miss: the request went upstream; its answer may be stored
	// (Result.Stored).
	Miss
	// Coalesced: the request shared the upstream call of an identical
	// request in flight.
	Coalesced
)

func (o Outcome) String() string {
	switch o {
	case Bypass:
		return "bypass"
	case Hit:
		return "hit"
	case Miss:
		return "miss"
	case Coalesced:
		return "coalesced"
	}
	return ""
}

// Result tells what the cache did with one request. Serve reports it
// (Config.Report) as soon as the outcome is known, before the answer
// starts, and again, with Done set, when it returns.
type Result struct {
	Outcome Outcome
	// Detail is why a request bypassed the cache, as its Cache-Status
	// says: method, path, no-store, too-large, not-json, read-error or
	// no-credential.
	Detail string
	// Stored reports that the answer of a miss is in the store.
	Stored bool
	// Entry is the stored answer a hit served.
	Entry *Entry
	// Done reports that Serve returned: Stored is final.
	Done bool
}

// Served reports an answer given without an upstream call of the
// request's own (a hit, or a share of an identical request's call): it
// cost the upstream nothing.
func (r Result) Served() bool { return r.Outcome == Hit || r.Outcome == Coalesced }

// reporter tells Config.Report what Serve did with one request.
type reporter struct {
	report func(*http.Request, Result)
	r      *http.Request
	res    Result
}

// decide records the outcome and reports it before the answer starts.
func (p *reporter) decide(o Outcome, detail string, e *Entry) {
	p.res.Outcome, p.res.Detail, p.res.Entry = o, detail, e
	if p.report != nil {
		p.report(p.r, p.res)
	}
}

// done reports the final result.
func (p *reporter) done() {
	p.res.Done = true
	if p.report != nil {
		p.report(p.r, p.res)
	}
}
