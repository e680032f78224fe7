package llmreq

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
)

func TestMemoReadsOnce(t *testing.T) {
	const body = `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`
	cb := &countingBody{r: strings.NewReader(body)}
	r := newRequest(cb, -1)
	var m Memo
	first, err := m.Inspect(r, 1<<20)
	if err != nil || first.Model != "gpt-4o" {
		t.Fatalf("Inspect = %+v, %v", first, err)
	}
	reads := cb.reads
	second, err := m.Inspect(r, 1<<20)
	if err != nil || second != first || cb.reads != reads {
		t.Fatalf("second Inspect = %p, %v after %d more reads; want %p and none", second, err, cb.reads-reads, first)
	}
	if _, err := m.Inspect(r, int64(len(body)-1)); err != ErrTooLarge {
		t.Fatalf("Inspect with a smaller limit = %v, want ErrTooLarge", err)
	}
	if got, err := io.ReadAll(r.Body); err != nil || string(got) != body {
		t.Fatalf("body then gave %q, %v", got, err)
	}
}

func TestMemoGrowingLimit(t *testing.T) {
	body := `{"messages":"` + strings.Repeat("a", 1000) + `"}`
	cb := &countingBody{r: strings.NewReader(body)}
	r := newRequest(cb, -1)
	var m Memo
	if _, err := m.Inspect(r, 100); err != ErrTooLarge {
		t.Fatalf("Inspect(100) = %v, want ErrTooLarge", err)
	}
	reads := cb.reads
	if _, err := m.Inspect(r, 50); err != ErrTooLarge || cb.reads != reads {
		t.Fatalf("Inspect(50) = %v after %d more reads; want ErrTooLarge and none", err, cb.reads-reads)
	}
	q, err := m.Inspect(r, 1<<20)
	if err != nil || string(q.Body) != body || q.TextBytes != 1000 {
		t.Fatalf("Inspect(1 MiB) = %+v, %v", q, err)
	}
	if got, err := io.ReadAll(r.Body); err != nil || string(got) != body {
		t.Fatalf("body then gave %d bytes, %v", len(got), err)
	}
}

// TestMemoReadsOnAfterPartRead: a body the memo set, partly read by
// someone since, is read on from where they stopped, never rewritten
// under them.
func TestMemoReadsOnAfterPartRead(t *testing.T) {
	body := `{"messages":"` + strings.Repeat("a", 1000) + `"}`
	cb := &countingBody{r: strings.NewReader(body)}
	r := newRequest(cb, -1)
	var m Memo
	if _, err := m.Inspect(r, 100); err != ErrTooLarge {
		t.Fatalf("Inspect(100) = %v, want ErrTooLarge", err)
	}
	if _, err := io.ReadFull(r.Body, make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	if q, err := m.Inspect(r, 1<<20); q != nil || !errors.Is(err, ErrNotJSON) {
		t.Fatalf("Inspect(1 MiB) = %+v, %v; want the rest, not JSON", q, err)
	}
	if got, err := io.ReadAll(r.Body); err != nil || string(got) != body[10:] {
		t.Fatalf("body then gave %d bytes, %v", len(got), err)
	}
	if err := r.Body.Close(); err != nil || !cb.closed {
		t.Fatalf("Close = %v; the client's body closed: %v", err, cb.closed)
	}
}

func TestMemoErrors(t *testing.T) {
	t.Run("not JSON", func(t *testing.T) {
		cb := &countingBody{r: strings.NewReader("not json")}
		r := newRequest(cb, -1)
		var m Memo
		for range 2 {
			if _, err := m.Inspect(r, 100); !errors.Is(err, ErrNotJSON) {
				t.Fatalf("Inspect = %v, want ErrNotJSON", err)
			}
		}
		if _, err := m.Inspect(r, 3); err != ErrTooLarge {
			t.Fatalf("Inspect(3) = %v, want ErrTooLarge", err)
		}
		if cb.reads != 2 { // the data, then EOF
			t.Errorf("body read %d times, want 2", cb.reads)
		}
	})
	t.Run("read error", func(t *testing.T) {
		broken := errors.New("connection reset")
		r := newRequest(io.NopCloser(io.MultiReader(strings.NewReader(`{"a":`), iotest.ErrReader(broken))), -1)
		var m Memo
		for range 2 {
			if _, err := m.Inspect(r, 1<<20); err != broken {
				t.Fatalf("Inspect = %v, want %v", err, broken)
			}
		}
	})
}

func TestInspectContext(t *testing.T) {
	const body = `{"model":"m","stream":true}`
	if FromContext(context.Background()) != nil {
		t.Fatal("FromContext(Background) is not nil")
	}
	m := new(Memo)
	cb := &countingBody{r: strings.NewReader(body)}
	r := newRequest(cb, int64(len(body)))
	r = r.WithContext(NewContext(r.Context(), m))
	if FromContext(r.Context()) != m {
		t.Fatal("FromContext does not return the Memo")
	}
	first, err := MemoOf(r, nil).Inspect(r, 1000)
	if err != nil || !first.Stream {
		t.Fatalf("Inspect = %+v, %v", first, err)
	}
	reads := cb.reads
	if second, err := MemoOf(r, nil).Inspect(r, 1000); second != first || err != nil || cb.reads != reads {
		t.Fatalf("second Inspect = %p, %v after %d reads; want the first result", second, err, cb.reads-reads)
	}

	// A request's own Memo, found by a func, comes before its context's.
	own := new(Memo)
	if MemoOf(r, func(*http.Request) *Memo { return own }) != own {
		t.Fatal("MemoOf does not return the Memo its func finds")
	}

	// Without a Memo every call parses anew, reading the body only once.
	plain := newRequest(&countingBody{r: strings.NewReader(body)}, -1)
	var none *Memo = MemoOf(plain, nil)
	a, errA := none.Inspect(plain, 1000)
	b, errB := none.Inspect(plain, 1000)
	if errA != nil || errB != nil || a == b || !bytes.Equal(a.Canonical, b.Canonical) {
		t.Fatalf("Inspect without Memo = %v, %v", errA, errB)
	}
}

// TestMemoParsesOnce: however many handlers inspect a request through one
// Memo, they share one parse (Parse returns a new Request each time).
func TestMemoParsesOnce(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(`{"model":"m","messages":[]}`))
	var m Memo
	first, err := m.Inspect(r, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if q, _ := m.Inspect(r, 1<<20); q != first {
			t.Fatal("a later Inspect parsed again")
		}
	}
	if m.Parsed() != first {
		t.Fatal("Parsed differs from Inspect's result")
	}
}

// TestMemoFieldsParsesSmallBodies: Fields of a body of at most ParseFirst
// bytes comes from a parse, which a later Inspect finds done; a larger
// body is scanned, and its parse, if any, is left to Inspect.
func TestMemoFieldsParsesSmallBodies(t *testing.T) {
	small := `{"model":"gpt-4o","messages":[{"role":"user","content":"` + strings.Repeat("x", ParseFirst-80) + `"}]}`
	large := strings.Replace(small, "xx", "xxxxx", 40)
	if len(small) > ParseFirst || len(large) <= ParseFirst {
		t.Fatalf("bodies of %d and %d bytes around ParseFirst %d", len(small), len(large), ParseFirst)
	}
	for _, tc := range []struct {
		body   string
		parsed bool
	}{{small, true}, {large, false}} {
		r := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(tc.body))
		var m Memo
		f, err := m.Fields(r, 1<<20)
		if err != nil || f.Model != "gpt-4o" {
			t.Fatalf("%d bytes: Fields = %+v, %v", len(tc.body), f, err)
		}
		if (m.Parsed() != nil) != tc.parsed {
			t.Fatalf("%d bytes: parsed by Fields %v, want %v", len(tc.body), m.Parsed() != nil, tc.parsed)
		}
		q, err := m.Inspect(r, 1<<20)
		if err != nil || (tc.parsed && &q.Fields != f) {
			t.Fatalf("%d bytes: Inspect after Fields = %v, %v", len(tc.body), q, err)
		}
	}
}

// TestMemoLargeBodyScannedNotParsed: a body over the cache's limit is read
// once for its Fields, scanned once, never parsed, and replayed whole.
func TestMemoLargeBodyScannedNotParsed(t *testing.T) {
	body := `{"messages":[{"role":"user","content":"` + strings.Repeat("x", 2<<20) + `"}],"model":"claude-3","stream":true}`
	cb := &countingBody{r: strings.NewReader(body)}
	r := newRequest(cb, -1)
	var m Memo
	f, err := m.Fields(r, 32<<20)
	if err != nil || f.Model != "claude-3" || !f.Stream || f.TextBytes != 2<<20+int64(len("user")+len("claude-3")) {
		t.Fatalf("Fields = %+v, %v", f, err)
	}
	reads := cb.reads
	if q, err := m.Inspect(r, 1<<20); q != nil || err != ErrTooLarge {
		t.Fatalf("Inspect under 1 MiB = %v, %v; want ErrTooLarge", q, err)
	}
	if again, err := m.Fields(r, 32<<20); again != f || err != nil || cb.reads != reads || m.Parsed() != nil || m.Known() != f {
		t.Fatalf("second Fields = %p, %v after %d more reads (parsed %v); want %p, none", again, err, cb.reads-reads, m.Parsed() != nil, f)
	}
	if got, err := io.ReadAll(r.Body); err != nil || string(got) != body {
		t.Fatalf("body then gave %d bytes, %v", len(got), err)
	}
	// A small body is parsed once, and its Fields are the parse's.
	r = newRequest(io.NopCloser(strings.NewReader(`{"model":"gpt-4o"}`)), -1)
	m = Memo{}
	q, err := m.Inspect(r, 1<<20)
	if f, ferr := m.Fields(r, 32<<20); err != nil || ferr != nil || f != &q.Fields {
		t.Fatalf("Fields after Inspect: %v, %v", err, ferr)
	}
}
