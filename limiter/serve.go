package limiter

import (
	"errors"
	"net/http"

	"github.com/llmgate/caddy-llmgate/llmreq"
	"github.com/llmgate/caddy-llmgate/pricing"
	"github.com/llmgate/caddy-llmgate/sse"
	"github.com/llmgate/caddy-llmgate/usage"
)

// Report tells how a request Serve decided went.
type Report struct {
	// Ticket is the decision (see Ticket.Allowed and Ticket.Zone): that of
	// the concurrency caps alone when a store failed; nil when a store
	// failed and FailClosed refused the request.
	Ticket *Ticket
	// Usage is the tokens the answer cost, when a zone meters usage and
	// the answer said or Serve estimated it; zero otherwise.
	Usage usage.Usage
	// Priced reports that a cost zone applied: Cost is then what the
	// answer cost, Usage priced by the request's model (zero when
	// refunded).
	Priced bool
	Cost   pricing.Micros
	// Exact reports that Usage is what the upstream reported.
	Exact bool
	// Refunded reports that the token reservation was given back: an
	// error, an answer without output, or a free answer.
	Refunded bool
}

// Serve decides r with keys (one per zone given to New, "" where a zone
// does not apply) and runs next if it is admitted. Refused requests get
// WriteRefusal's answer; admitted ones carry the headers of style on their
// answer, replacing any next set. A request a leaky bucket zone applies to
// has its body read (up to MaxBody) before it takes its place in line, so
// the time its client takes to send it holds no place. A client that
// leaves while its request waits gets no answer. When a store fails, the
// request is decided by the concurrency caps alone, or answered 503 with
// FailClosed. The error is next's.
//
// With zones that meter usage, the request reserves an estimate of its
// tokens (the text of its body at about 4 bytes a token, plus its
// max_tokens) and of their cost (priced by Options.Prices for the model it
// names; a model without a price is refused, 400) and, once its answer is
// done, settles them to the usage the answer reports:
// from a JSON answer or from the events of a stream as they pass, never
// delaying a byte nor keeping more of the answer than its usage; the
// answer is asked for unencoded, so its usage can be read. An answer
// without usage, a stream or a JSON answer its client left early, is
// charged by its text. An upstream error, an answer
// without output or a Free answer gives the reservation back. A body over
// MaxBody, or one that cannot be read, is refused when a zone that meters
// usage applies to it; so is a body that is not JSON (an empty one aside)
// or that names "model" in another case ("Model") when a cost zone
// applies: it names no model to price that every upstream reads alike.
func (l *Limiter) Serve(w http.ResponseWriter, r *http.Request, keys []string, style HeaderStyle, next Next) error {
	style = styleFor(r, style)
	var (
		memo     *llmreq.Memo
		f        *llmreq.Fields
		estimate Spend
		price    pricing.Price
		priced   bool
		askUsage bool
	)
	if l.metered {
		var err error
		memo = llmreq.MemoOf(r, l.opts.Memo)
		f, err = memo.Fields(r, l.opts.MaxBody)
		zone, costZone := l.meteredZones(keys)
		askUsage = err == nil && l.opts.StreamUsage && llmreq.AsksNoStreamUsage(r, f) && zone != ""
		var refusal *llmreq.APIError
		switch {
		case zone == "":
		case err != nil && !errors.Is(err, llmreq.ErrNotJSON):
			refusal = unreadable(err, zone, l.opts.MaxBody)
		case costZone != "" && err != nil && (f == nil || f.TextBytes > 0):
			// A body that is not JSON names no model the zone can read,
			// though an upstream that stops after the first JSON value
			// finds one: priced by a catch-all "*", a dear model would
			// cost the cheap price.
			refusal = unreadable(err, costZone, l.opts.MaxBody)
		case costZone != "" && f.ModelAmbiguous:
			refusal = ambiguousModel(costZone)
		case costZone != "":
			if price, priced = l.opts.Prices.Lookup(f.Model); !priced {
				refusal = unpriced(f.Model, costZone)
			}
		}
		if refusal != nil {
			if r.Context().Err() == nil {
				refusal.Write(w, r)
			}
			if l.opts.Report != nil {
				l.opts.Report(r, Report{})
			}
			return nil
		}
		estimate = estimateSpend(f, price)
	}
	beforeWait := func() { watchClient(r, l.opts.MaxBody) }
	if l.queues(keys) {
		// A place in a leaky bucket's line is a time to leave at. Taken
		// before a slow body is in, it would pass while the body arrives,
		// and the request would leave late, together with those behind it.
		watchClient(r, l.opts.MaxBody)
	}
	// The answer's writer holds the ticket: one allocation for both.
	mw := &meterWriter{ResponseWriter: w, style: style}
	t := &mw.ticket
	err := l.admit(r.Context(), t, keys, estimate, true, beforeWait)
	if err != nil {
		if l.opts.OnError != nil {
			l.opts.OnError(err)
		}
		if l.opts.FailClosed {
			storeUnavailable.Write(w, r)
			if l.opts.Report != nil {
				l.opts.Report(r, Report{})
			}
			return nil
		}
		// The rates go unenforced while their store fails; the
		// concurrency caps, kept in this process, still hold.
		if err = l.admit(r.Context(), t, keys, Spend{}, false, beforeWait); err != nil {
			return err
		}
	}
	if !t.Allowed {
		if r.Context().Err() == nil {
			t.WriteRefusal(w, r, style)
		}
		if l.opts.Report != nil {
			l.opts.Report(r, Report{Ticket: t})
		}
		return nil
	}
	defer t.Done()
	if l.metered {
		mw.metering = true
		mw.price, mw.priced, mw.estimate = price, priced, estimate
		mw.stream.Prompt = usage.Prompt(f)
		// The usage of an encoded answer cannot be read as it passes:
		// ask for it unencoded (Caddy's encode compresses per client).
		r.Header.Del("Accept-Encoding")
		if askUsage {
			// The body the client sent is read whole: memo.Fields read it.
			body, _ := llmreq.Read(r, l.opts.MaxBody)
			// The handlers after send the new body; those before keep the
			// request they hold (one that sends it again, on a retry,
			// sends the client's).
			r = r.WithContext(r.Context())
			r.Header = r.Header.Clone()
			memo.SetBody(r, llmreq.AskStreamUsage(body, f))
			mw.hideUsage = true
		}
	}
	// Deferred, so that an answer next abandons by panicking (a reverse
	// proxy does, with http.ErrAbortHandler, when a stream breaks off) is
	// settled to what it streamed and reported too.
	defer l.finish(w, r, mw, style)
	return next.ServeHTTP(mw, r)
}

// finish completes an admitted request once next is done with it: the
// headers of an answer that wrote none, the token settlement, the report.
func (l *Limiter) finish(w http.ResponseWriter, r *http.Request, mw *meterWriter, style HeaderStyle) {
	if !mw.wroteHeader {
		// The server writes the header after next returns.
		mw.ticket.setHeaders(w.Header(), style, &mw.values)
	}
	rep := Report{Ticket: &mw.ticket}
	if l.metered {
		mw.release()
		rep = l.settle(r, mw)
		if mw.kind == answerJSON {
			mw.answer.Release()
		}
	}
	if l.opts.Report != nil {
		l.opts.Report(r, rep)
	}
}

// meteredZones returns the name of a zone that meters usage and of one
// that meters cost, among those that apply to the request with keys; ""
// when there is none. With keys that do not match the zones (admit
// refuses them), none.
func (l *Limiter) meteredZones(keys []string) (metered, cost string) {
	if len(keys) != len(l.zones) {
		return "", ""
	}
	for i := range l.zones {
		z := &l.zones[i]
		if keys[z.index] == "" {
			continue
		}
		if metered == "" && z.Metered() {
			metered = z.Name
		}
		if cost == "" && !z.Cost.IsZero() {
			cost = z.Name
		}
	}
	return metered, cost
}

// watchClient reads r's body (at most limit bytes), when nothing has yet,
// before r waits in a line. Go's HTTP/1 server notices a client that
// leaves only once the handler has read the body to its end; without
// this, a request whose client is gone would keep its place until its
// turn and then go upstream for nobody. The body stays whole for next.
// A body over limit is not read whole, and its client's leaving is seen
// only when the request's turn comes.
func watchClient(r *http.Request, limit int64) {
	_, _ = llmreq.Read(r, limit)
}

// queues reports whether a leaky bucket zone applies to a request with keys.
func (l *Limiter) queues(keys []string) bool {
	if len(keys) != len(l.zones) {
		return false // admit refuses them
	}
	for i := range l.zones {
		if z := &l.zones[i]; z.Algorithm == LeakyBucket && keys[z.index] != "" {
			return true
		}
	}
	return false
}

// settle corrects the ticket's reservation to what the answer cost.
func (l *Limiter) settle(r *http.Request, mw *meterWriter) Report {
	ctx := r.Context()
	t := &mw.ticket
	rep := Report{Ticket: t, Priced: mw.priced}
	var err error
	switch {
	// Nothing reached the client (an upstream error, a client gone
	// before the first byte), or the upstream spent nothing.
	case !mw.wrote, mw.status >= http.StatusBadRequest,
		l.opts.Free != nil && l.opts.Free(r):
		rep.Refunded = true
		err = t.Refund(ctx)
	// A stream cut short still cost what it streamed.
	case mw.kind == answerStream:
		mw.events.End()
		mw.drain()
		rep.Usage, rep.Exact = mw.stream.Usage()
		err = t.Settle(ctx, mw.spent(&rep))
	// So did an answer whose client left before its usage.
	case mw.kind == answerJSON:
		rep.Usage, rep.Exact = mw.answer.Usage()
		err = t.Settle(ctx, mw.spent(&rep))
	// Otherwise (an answer neither JSON nor a stream) the estimate stays
	// charged.
	default:
		rep.Cost = pricing.Micros(mw.estimate.Cost)
	}
	if err != nil && l.opts.OnError != nil {
		l.opts.OnError(err)
	}
	return rep
}

// answerKind is how Serve reads an answer's usage.
type answerKind uint8

const (
	answerOther answerKind = iota
	answerJSON
	answerStream
)

// meterWriter sets the ticket's headers when the answer's header is
// written, after the handler (a proxy copying an upstream's headers) has
// set its own; with token zones it also reads the answer's usage as it
// passes.
type meterWriter struct {
	http.ResponseWriter
	ticket      Ticket
	style       HeaderStyle
	wroteHeader bool
	// values are the rate-limit headers' values: set once, on the answer's
	// header (WriteHeader) or, when next wrote none, by finish.
	values trioValues

	metering bool
	// price prices the answer's usage when priced (a cost zone applies).
	price    pricing.Price
	priced   bool
	estimate Spend
	status   int
	wrote    bool
	kind     answerKind
	answer   usage.Answer // a JSON answer's usage, read as it passes (kind answerJSON)
	events   sse.Parser
	stream   usage.Stream

	// hideUsage keeps a stream's usage chunk, which llmgate asked for,
	// from the client. The bytes of an event not complete yet are held
	// back (from the stream offset sent on), so that it can go whole or
	// not at all.
	hideUsage bool
	held      []byte
	sent      int64
}

// WriteHeader implements http.ResponseWriter. Informational (1xx) headers
// pass as they are; the final one gets the rate-limit headers.
func (w *meterWriter) WriteHeader(code int) {
	if !w.wroteHeader && code >= http.StatusOK {
		w.wroteHeader = true
		w.status = code
		w.ticket.setHeaders(w.Header(), w.style, &w.values)
		if w.metering && code < http.StatusBadRequest {
			w.kind = kindOf(w.Header().Get("Content-Type"))
			switch {
			case w.kind == answerJSON:
				w.answer = usage.NewAnswer(w.stream.Prompt)
			case w.kind == answerStream && w.hideUsage:
				// Shorter by the usage chunk: a stored stream replayed
				// has its length.
				w.Header().Del("Content-Length")
			}
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func kindOf(contentType string) answerKind {
	mt := sse.MediaType(contentType)
	switch mt {
	case "application/json":
		return answerJSON
	case sse.ContentType:
		return answerStream
	}
	return answerOther
}

// Write implements http.ResponseWriter: the bytes go to the client first,
// then, all of them, to the usage reader.
func (w *meterWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.hideUsage && w.kind == answerStream {
		return w.writeEvents(b)
	}
	n, err := w.ResponseWriter.Write(b)
	// The upstream spent what it sent, whether or not the client took it:
	// a call shared with a cache's followers goes on after its own client
	// has gone, and it all counts.
	if len(b) > 0 {
		w.wrote = true
		w.meter(b)
	}
	return n, err
}

// writeEvents meters b and sends on what of the stream is settled (see
// sse.Parser.Settled), less the usage chunk.
func (w *meterWriter) writeEvents(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	w.wrote = true
	w.held = append(w.held, b...)
	w.events.Feed(b)
	var err error
	for ev, ok := w.events.Next(); ok; ev, ok = w.events.Next() {
		w.stream.Event(string(ev.Name), ev.Data)
		if start := ev.End - int64(len(ev.Raw)); ev.Raw != nil && start >= w.sent && usage.IsUsageChunk(ev.Data) {
			err = errors.Join(err, w.pass(start))
			w.held, w.sent = w.held[ev.End-w.sent:], ev.End
		}
	}
	settled := w.events.Settled()
	if len(w.held) > maxHeld {
		// An event this large is no usage chunk: it goes on as it comes.
		settled = w.sent + int64(len(w.held))
	}
	if err = errors.Join(err, w.pass(settled)); err != nil {
		return 0, err
	}
	return len(b), nil
}

// maxHeld bounds the bytes of one event writeEvents holds back: a usage
// chunk is a few hundred bytes.
const maxHeld = 64 << 10

// pass sends on the held bytes up to stream offset end.
func (w *meterWriter) pass(end int64) error {
	n := end - w.sent
	if n <= 0 {
		return nil
	}
	_, err := w.ResponseWriter.Write(w.held[:n])
	w.held, w.sent = w.held[n:], end
	return err
}

// release sends on what is still held once the answer is over: the start
// of an event the stream broke off in, as the client would have had it.
func (w *meterWriter) release() {
	if len(w.held) > 0 {
		_, _ = w.ResponseWriter.Write(w.held)
		w.held = nil
	}
}

// meter reads usage from the part of the answer the client got.
func (w *meterWriter) meter(b []byte) {
	switch w.kind {
	case answerJSON:
		_, _ = w.answer.Write(b)
	case answerStream:
		w.events.Feed(b)
		w.drain()
	}
}

// drain hands every complete event to the usage counter.
func (w *meterWriter) drain() {
	for {
		ev, ok := w.events.Next()
		if !ok {
			return
		}
		w.stream.Event(string(ev.Name), ev.Data)
	}
}

// Flush implements http.Flusher, for streamed answers.
func (w *meterWriter) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (w *meterWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
