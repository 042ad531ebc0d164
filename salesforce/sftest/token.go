package sftest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// tokenPath is the OAuth token endpoint on the login (My Domain) host.
const tokenPath = "/services/oauth2/token"

// authState holds the connected-app clients and the sessions issued.
type authState struct {
	mu                  sync.RWMutex
	clients             map[string]string // client id → secret
	sessions            map[string]*session
	lifetime            int64 // data calls per token; 0 = unlimited
	noRunAsUser         bool
	invalidClientStatus int
}

// session is one issued access token.
type session struct {
	uses atomic.Int64
}

func (a *authState) init() {
	a.clients = make(map[string]string)
	a.sessions = make(map[string]*session)
	a.invalidClientStatus = http.StatusBadRequest
}

// AddClient registers a connected app's consumer key and secret.
func (o *Org) AddClient(clientID, clientSecret string) {
	o.auth.mu.Lock()
	defer o.auth.mu.Unlock()
	o.auth.clients[clientID] = clientSecret
}

// ExpireTokens invalidates every token issued so far: data calls with them
// answer 401 INVALID_SESSION_ID. Tokens issued later work.
func (o *Org) ExpireTokens() {
	o.auth.mu.Lock()
	defer o.auth.mu.Unlock()
	clear(o.auth.sessions)
}

// SetTokenLifetime makes every token, issued before or after, expire after
// it has served calls data calls; 0 means tokens never expire.
func (o *Org) SetTokenLifetime(calls int) {
	o.auth.mu.Lock()
	defer o.auth.mu.Unlock()
	o.auth.lifetime = int64(max(calls, 0))
}

// SetRunAsUser sets whether the connected app has a run-as user; without
// one the token endpoint answers 400 invalid_grant "no client credentials
// user enabled". The default is true.
func (o *Org) SetRunAsUser(ok bool) {
	o.auth.mu.Lock()
	defer o.auth.mu.Unlock()
	o.auth.noRunAsUser = !ok
}

// SetInvalidClientStatus sets the HTTP status of the invalid_client answer
// to a wrong secret. Salesforce's status is not confirmed; the default is
// 400, and 401 is the other plausible value.
func (o *Org) SetInvalidClientStatus(status int) {
	o.auth.mu.Lock()
	defer o.auth.mu.Unlock()
	o.auth.invalidClientStatus = status
}

// TokenHandler serves the OAuth token endpoint, POST /services/oauth2/token,
// for the client-credentials flow. Every other path answers 404.
func (o *Org) TokenHandler() http.Handler {
	return http.HandlerFunc(o.serveToken)
}

// tokenError is the OAuth error body, an object unlike REST errors.
type tokenError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// tokenGrant is the success body of the token endpoint.
type tokenGrant struct {
	AccessToken string `json:"access_token"`
	Signature   string `json:"signature"`
	Scope       string `json:"scope"`
	InstanceURL string `json:"instance_url"`
	ID          string `json:"id"`
	TokenType   string `json:"token_type"`
	IssuedAt    string `json:"issued_at"`
}

func (o *Org) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.URL.EscapedPath() != tokenPath {
		writeFailure(w, notFound())
		return
	}
	o.counts.endpoint(EndpointToken)
	w.Header().Set("Cache-Control", "no-cache,must-revalidate,max-age=0,no-store,private")

	status, grant, tokErr := o.grant(r)
	if tokErr != nil {
		writeJSON(w, status, tokErr)
		return
	}
	writeJSON(w, http.StatusOK, grant)
}

// grant checks a token request and issues a token, or says why not.
func (o *Org) grant(r *http.Request) (int, *tokenGrant, *tokenError) {
	bad := http.StatusBadRequest
	if r.Method != http.MethodPost {
		return bad, nil, &tokenError{"invalid_request", "must use HTTP POST"}
	}
	if err := r.ParseForm(); err != nil {
		return bad, nil, &tokenError{"invalid_request", "malformed request body"}
	}
	switch r.Form.Get("grant_type") {
	case "":
		return bad, nil, &tokenError{"invalid_request", "grant type is missing"}
	case "client_credentials":
	default:
		return bad, nil, &tokenError{"unsupported_grant_type", "grant type not supported"}
	}

	clientID, secret := credentials(r)
	if status, err := o.checkClient(clientID, secret); err != nil {
		return status, nil, err
	}
	return http.StatusOK, o.issue(r, secret), nil
}

// credentials takes the client id and secret from the form body, or else
// from HTTP Basic authentication.
func credentials(r *http.Request) (id, secret string) {
	if id := r.PostForm.Get("client_id"); id != "" {
		return id, r.PostForm.Get("client_secret")
	}
	if id, secret, ok := r.BasicAuth(); ok {
		return id, secret
	}
	return r.Form.Get("client_id"), r.Form.Get("client_secret")
}

func (o *Org) checkClient(clientID, secret string) (int, *tokenError) {
	o.auth.mu.RLock()
	defer o.auth.mu.RUnlock()

	want, ok := o.auth.clients[clientID]
	switch {
	case !ok:
		return http.StatusBadRequest, &tokenError{"invalid_client_id", "client identifier invalid"}
	case subtle.ConstantTimeCompare([]byte(want), []byte(secret)) != 1:
		return o.auth.invalidClientStatus, &tokenError{"invalid_client", "invalid client credentials"}
	case o.auth.noRunAsUser:
		return http.StatusBadRequest,
			&tokenError{"invalid_grant", "no client credentials user enabled"}
	}
	return 0, nil
}

// issue creates a session and its grant.
func (o *Org) issue(r *http.Request, secret string) *tokenGrant {
	token := o.orgID[:15] + "!" + rand.Text() + rand.Text()
	issuedAt := strconv.FormatInt(o.now().UnixMilli(), 10)
	base := requestBase(r)
	identity := base + "/id/" + o.orgID + "/" + o.userID

	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(identity + issuedAt))

	o.auth.mu.Lock()
	o.auth.sessions[token] = &session{}
	o.auth.mu.Unlock()

	instance := o.instanceURL()
	if instance == "" {
		instance = base
	}
	return &tokenGrant{
		AccessToken: token,
		Signature:   base64.StdEncoding.EncodeToString(mac.Sum(nil)),
		Scope:       "api",
		InstanceURL: instance,
		ID:          identity,
		TokenType:   "Bearer",
		IssuedAt:    issuedAt,
	}
}

// requestBase is the scheme and host the request was sent to.
func requestBase(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// authenticate checks the Authorization header of a data call and counts
// the call against the token's lifetime.
func (o *Org) authenticate(r *http.Request) bool {
	token, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		return false
	}
	o.auth.mu.RLock()
	s, ok := o.auth.sessions[token]
	lifetime := o.auth.lifetime
	o.auth.mu.RUnlock()
	if !ok {
		return false
	}
	if uses := s.uses.Add(1); lifetime > 0 && uses > lifetime {
		o.auth.mu.Lock()
		delete(o.auth.sessions, token)
		o.auth.mu.Unlock()
		return false
	}
	return true
}

// bearer reads "Bearer <token>" or the older "OAuth <token>".
func bearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || token == "" {
		return "", false
	}
	if !strings.EqualFold(scheme, "Bearer") && !strings.EqualFold(scheme, "OAuth") {
		return "", false
	}
	return strings.TrimSpace(token), true
}
