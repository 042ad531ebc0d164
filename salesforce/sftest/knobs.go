package sftest

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// settings holds the knobs read on every request. It is replaced whole on
// each change, so a request sees one consistent set without locking.
type settings struct {
	latency      time.Duration
	hook         func(r *http.Request)
	countBytes   bool
	extIDCase    extIDCase
	extensions   []string // nil: any ".letters" suffix
	extIDFields  bool
	enforceLimit bool
	observer     func(object, id string, at time.Time) // see SetWriteObserver
}

// extIDCase says how the external-id GET compares values.
type extIDCase int

const (
	extIDCaseLikeField extIDCase = iota
	extIDCaseSensitive
	extIDCaseInsensitive
)

// knobs publishes settings copy-on-write.
type knobs struct {
	mu  sync.Mutex // serialises writers
	cur atomic.Pointer[settings]
}

func (k *knobs) init() { k.cur.Store(&settings{}) }

func (k *knobs) get() *settings { return k.cur.Load() }

func (k *knobs) update(change func(s *settings)) {
	k.mu.Lock()
	defer k.mu.Unlock()
	s := *k.cur.Load()
	change(&s)
	k.cur.Store(&s)
}

// SetLatency adds d to every data call (not to the token endpoint or the
// versions list). A request whose context ends first stops waiting.
func (o *Org) SetLatency(d time.Duration) {
	o.knobs.update(func(s *settings) { s.latency = d })
}

// SetHook sets a function called at the start of each data request, before
// authentication, outside any lock of the org: it may call the org's methods,
// for example Update to race a client's conditional write. It must not read
// the request body. nil removes the hook.
func (o *Org) SetHook(h func(r *http.Request)) {
	o.knobs.update(func(s *settings) { s.hook = h })
}

// SetCountBytes makes STRING_TOO_LONG count UTF-8 bytes instead of
// characters (UTF-16 code units, as Salesforce counts them by default).
func (o *Org) SetCountBytes(b bool) {
	o.knobs.update(func(s *settings) { s.countBytes = b })
}

// SetExternalIDCaseSensitive fixes how the external-id path compares
// values. By default it compares like SOQL: ignoring case unless the field
// is case-sensitive.
func (o *Org) SetExternalIDCaseSensitive(b bool) {
	mode := extIDCaseInsensitive
	if b {
		mode = extIDCaseSensitive
	}
	o.knobs.update(func(s *settings) { s.extIDCase = mode })
}

// SetPathExtensions sets the suffixes (such as ".json", compared ignoring
// case) that make an external-id value answer 404 on the path, as Salesforce
// takes them for a format extension. nil restores the default, any "."
// followed by letters only at the end; an empty non-nil list turns the
// check off.
func (o *Org) SetPathExtensions(suffixes []string) {
	var list []string
	if suffixes != nil {
		list = append([]string{}, suffixes...)
	}
	o.knobs.update(func(s *settings) { s.extensions = list })
}

// SetExternalIDFieldsParam makes the external-id GET honour ?fields= like
// the Id GET does. Salesforce documents no parameters there, so by default
// the parameter is ignored and the whole record returned.
func (o *Org) SetExternalIDFieldsParam(honour bool) {
	o.knobs.update(func(s *settings) { s.extIDFields = honour })
}

// SetEnforceLimit makes data calls answer 403 REQUEST_LIMIT_EXCEEDED while
// api-usage is at or above its limit. Off by default, so SetUsage alone only
// changes the Sforce-Limit-Info header.
func (o *Org) SetEnforceLimit(b bool) {
	o.knobs.update(func(s *settings) { s.enforceLimit = b })
}

// SetInstanceURL sets the instance_url returned by the token endpoint. Start
// sets it; call it when serving DataHandler yourself. When unset, the token
// endpoint returns its own base URL.
func (o *Org) SetInstanceURL(u string) {
	o.instance.Store(&u)
}

func (o *Org) instanceURL() string {
	if p := o.instance.Load(); p != nil {
		return *p
	}
	return ""
}
