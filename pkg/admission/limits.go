package admission

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"
	admissionv1 "k8s.io/api/admission/v1"
)

// DefaultMaxBody is the largest AdmissionReview accepted: the API server's
// own request limit is 3 MiB, and a review carries the object up to twice
// (object and oldObject).
const DefaultMaxBody = 7 << 20

// Limits bound what the requests of a server may take: the size of one
// body, the memory of all requests being read and judged (InFlight), and
// the time a body may take to arrive.
type Limits struct {
	MaxBody int64 // 0 is DefaultMaxBody
	// InFlight, when set, bounds the bytes of the requests being read and
	// judged at once (shared by the endpoints of one server).
	InFlight *InFlight
	// BodyTimeout, when set, is how long a request's body may take to
	// arrive once its headers have: the API server sends it at once.
	BodyTimeout time.Duration
}

// limit is the middleware that reads a request's body within l and hands
// it on in the exchange; what is refused is answered here (415, 413, 429,
// 400) and never reaches the decoder.
func (l Limits) limit(next http.Handler) http.Handler {
	maxBody := l.MaxBody
	if maxBody == 0 {
		maxBody = DefaultMaxBody
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x := exchangeOf(r.Context())
		if r.Method != http.MethodPost {
			x.rec.err = "method " + r.Method
			http.Error(w, "use POST with an admission.k8s.io/v1 AdmissionReview", http.StatusMethodNotAllowed)
			return
		}
		if ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || ct != "application/json" {
			x.rec.err = "content type " + r.Header.Get("Content-Type")
			writeReview(w, http.StatusUnsupportedMediaType, Errored("", http.StatusUnsupportedMediaType, fmt.Errorf("content type %q: want application/json", r.Header.Get("Content-Type"))))
			return
		}
		// Refuse what is announced too large before reading any of it.
		if r.ContentLength > maxBody {
			x.rec.err = fmt.Sprintf("body of %d bytes", r.ContentLength)
			w.Header().Set("Connection", "close")
			writeReview(w, http.StatusRequestEntityTooLarge, Errored("", http.StatusRequestEntityTooLarge, fmt.Errorf("request body of %d bytes is over the limit of %d", r.ContentLength, maxBody)))
			return
		}
		if l.BodyTimeout > 0 {
			_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(l.BodyTimeout))
		}
		x.ticket = &ticket{f: l.InFlight, client: clientOf(r)}
		defer x.ticket.release()
		var err error
		x.body, err = readBody(http.MaxBytesReader(w, r.Body, maxBody), x.ticket, r.ContentLength)
		if errors.Is(err, errOverBudget) {
			x.rec.err = "too many requests in flight"
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Connection", "close")
			writeReview(w, http.StatusTooManyRequests, Errored("", http.StatusTooManyRequests, fmt.Errorf("too many requests in flight (more than %d bytes); try again", l.InFlight.max)))
			return
		}
		if err != nil {
			var tooBig *http.MaxBytesError
			code := http.StatusBadRequest
			if errors.As(err, &tooBig) {
				code = http.StatusRequestEntityTooLarge
			}
			x.rec.err = err.Error()
			writeReview(w, code, Errored("", int32(code), fmt.Errorf("reading the request: %w", err)))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// claimWork claims the memory judging the decoded review will take (about
// TokenCost per JSON token of its body); a refusal is the response to
// send instead (with the review's uid), and its HTTP status.
func (x *exchange) claimWork(rv *admissionv1.AdmissionReview) (int, *admissionv1.AdmissionResponse) {
	f := x.ticket.f
	if f == nil {
		return 0, nil
	}
	work := tokens(x.body) * TokenCost
	if work > f.max {
		x.rec.err = "object too large to judge"
		return http.StatusOK, Errored(uidOf(rv), http.StatusRequestEntityTooLarge,
			fmt.Errorf("the object has about %d fields; judging it would take more memory than the webhook allows (--max-in-flight-bytes %d)", work/TokenCost, f.max))
	}
	if !x.ticket.take(work) {
		x.rec.err = "too many requests in flight"
		return http.StatusTooManyRequests, Errored(uidOf(rv), http.StatusTooManyRequests, fmt.Errorf("too many requests in flight; try again"))
	}
	return 0, nil
}

// InFlight bounds the memory the requests being read and judged may take
// at once, in estimated bytes. A request claims its body as it arrives,
// one 64 KiB chunk at a time before the chunk is allocated (not what its
// Content-Length announces: a stalled upload holds only what it has
// sent), then TokenCost bytes per JSON token of the body (what parsing,
// the position index and findings cost for each field) before it is
// judged; it gives both back when answered. One client (one remote
// address, however many connections or HTTP/2 streams it opens) may hold
// at most PerClient bytes of bodies being read, so a few clients that
// stall their uploads cannot take the budget from the API server. A
// request that does not fit is answered 429, and the API server's
// failurePolicy decides; one that could never fit gets an error
// response. Peak memory is then the process's baseline plus about the
// bound, however many clients connect, send large bodies, stall, or send
// objects of 40,000 containers.
type InFlight struct {
	sem *semaphore.Weighted
	max int64
	// PerClient is the most body bytes one client may hold at once
	// (NewInFlight sets a quarter of the bound).
	PerClient int64

	mu   sync.Mutex
	held map[string]int64 // body bytes held, by client
}

// ticket is one request's claims on an InFlight.
type ticket struct {
	f            *InFlight
	client       string
	body, shared int64
}

// takeBody claims n more bytes of body for the request's client.
func (t *ticket) takeBody(n int64) bool {
	if t.f == nil {
		return true
	}
	f := t.f
	f.mu.Lock()
	if f.held[t.client]+n > f.PerClient {
		f.mu.Unlock()
		return false
	}
	f.held[t.client] += n
	f.mu.Unlock()
	if !f.sem.TryAcquire(n) {
		f.mu.Lock()
		f.unhold(t.client, n)
		f.mu.Unlock()
		return false
	}
	t.body += n
	return true
}

// returnBody gives back n bytes of body claimed and not used.
func (t *ticket) returnBody(n int64) {
	if t.f == nil || n <= 0 {
		return
	}
	t.f.mu.Lock()
	t.f.unhold(t.client, n)
	t.f.mu.Unlock()
	t.f.sem.Release(n)
	t.body -= n
}

// take claims n bytes of judging work.
func (t *ticket) take(n int64) bool {
	if t.f == nil {
		return true
	}
	if !t.f.sem.TryAcquire(n) {
		return false
	}
	t.shared += n
	return true
}

// release gives back everything the request claimed.
func (t *ticket) release() {
	if t.f == nil {
		return
	}
	t.f.mu.Lock()
	t.f.unhold(t.client, t.body)
	t.f.mu.Unlock()
	if n := t.body + t.shared; n > 0 {
		t.f.sem.Release(n)
	}
	t.body, t.shared = 0, 0
}

func (f *InFlight) unhold(client string, n int64) {
	if f.held[client] -= n; f.held[client] <= 0 {
		delete(f.held, client)
	}
}

// TokenCost is the memory judging takes per JSON token ({ [ : ,) of an
// object, measured on Deployments of 40,000 containers (about 850 bytes
// per token, findings included), rounded up.
const TokenCost = 1 << 10

// tokens counts the JSON structural characters outside strings: about
// one per field and item.
func tokens(body []byte) int64 {
	var n int64
	inString, escaped := false, false
	for _, c := range body {
		switch {
		case escaped:
			escaped = false
		case inString:
			if c == '\\' {
				escaped = true
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[' || c == ':' || c == ',':
			n++
		}
	}
	return n
}

// NewInFlight returns a bound of max bytes, a quarter of it (but room
// for a body of DefaultMaxBody) for one client's bodies.
func NewInFlight(bound int64) *InFlight {
	return &InFlight{sem: semaphore.NewWeighted(bound), max: bound, PerClient: max(bound/4, min(bound, DefaultMaxBody+chunk)), held: map[string]int64{}}
}

// RequireClientCertificate answers 403 to a request whose TLS connection
// did not present a client certificate that verified against the
// server's client CAs (tls.VerifyClientCertIfGiven lets one without a
// certificate connect, for the kubelet's probes).
func RequireClientCertificate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
			http.Error(w, "a client certificate signed by the webhook's --client-ca is required", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// errOverBudget: a body chunk did not fit in the in-flight bound.
var errOverBudget = errors.New("over the in-flight bound")

// chunk is the unit a body is read and claimed in.
const chunk = 64 << 10

// readBody reads a request body in chunks of 64 KiB, each claimed from t
// before it is allocated, and joins them once at the end: a stalled
// upload holds only what it has sent, and reading 7 MiB leaves 7 MiB of
// garbage rather than the ~35 MiB that growing one buffer by a quarter at
// a time would. A body whose length is announced (announced >= 0) ends
// in a chunk of the announced rest and one byte more, so that a request
// of a few KiB does not allocate, clear and copy 64 KiB.
func readBody(r io.Reader, t *ticket, announced int64) ([]byte, error) {
	var chunks [][]byte
	total := 0
	for {
		size := chunk
		if rest := announced - int64(total); announced >= 0 && rest < chunk {
			size = int(rest) + 1
		}
		if !t.takeBody(int64(size)) {
			return nil, errOverBudget
		}
		c := make([]byte, size)
		n, err := io.ReadFull(r, c)
		if n > 0 {
			chunks = append(chunks, c[:n])
			total += n
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			// The last chunk is kept at its size, and only that claimed.
			if n > 0 && n < size-1 { // not the announced rest: copy it out of the larger chunk
				chunks[len(chunks)-1] = bytes.Clone(c[:n])
			}
			t.returnBody(int64(size - n))
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if len(chunks) == 1 {
		return chunks[0], nil
	}
	body := make([]byte, 0, total)
	for _, c := range chunks {
		body = append(body, c...)
	}
	return body, nil
}

// clientOf is who sent a request, for the in-flight share: its remote
// address without the port.
func clientOf(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}
