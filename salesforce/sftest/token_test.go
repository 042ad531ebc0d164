package sftest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestTokenGrant(t *testing.T) {
	basic := func(r *http.Request) { r.SetBasicAuth(testClientID, testClientSecret) }
	tests := []struct {
		name string
		form url.Values
		edit func(*http.Request)
	}{
		{"form-credentials", url.Values{
			"grant_type": {"client_credentials"}, "client_id": {testClientID},
			"client_secret": {testClientSecret},
		}, nil},
		{"basic-auth", url.Values{"grant_type": {"client_credentials"}}, basic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			res := h.tokenRequest(tt.form, tt.edit)
			if res.status != http.StatusOK {
				t.Fatalf("status = %d, want 200: %s", res.status, res.body)
			}
			var grant map[string]string
			res.decode(t, &grant)
			for _, key := range []string{"access_token", "instance_url", "id", "token_type",
				"issued_at", "signature", "scope"} {
				if grant[key] == "" {
					t.Errorf("grant has no %s: %s", key, res.body)
				}
			}
			if got, want := grant["instance_url"], h.srv.InstanceURL; got != want {
				t.Errorf("instance_url = %q, want %q", got, want)
			}
			if got := grant["token_type"]; got != "Bearer" {
				t.Errorf("token_type = %q, want Bearer", got)
			}
			if got := grant["issued_at"]; len(got) != 13 {
				t.Errorf("issued_at = %q, want 13 digits of milliseconds", got)
			}
			if !strings.HasPrefix(grant["id"], h.srv.Domain+"/id/00D") {
				t.Errorf("id = %q, want an identity URL on the domain", grant["id"])
			}
			data := h.doWith(grant["access_token"], http.MethodGet, testVersion+"/sobjects/Task/describe", "")
			if data.status != http.StatusOK {
				t.Errorf("describe with the new token: status %d: %s", data.status, data.body)
			}
		})
	}
}

func TestTokenErrors(t *testing.T) {
	creds := func(id, secret string) url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {id},
			"client_secret": {secret}}
	}
	tests := []struct {
		name       string
		form       url.Values
		setup      func(o *Org)
		wantStatus int
		wantError  string
		wantDesc   string
	}{
		{"unknown-client-id", creds("nobody", testClientSecret), nil,
			400, "invalid_client_id", "client identifier invalid"},
		{"wrong-secret", creds(testClientID, "wrong"), nil,
			400, "invalid_client", "invalid client credentials"},
		{"wrong-secret-with-401-knob", creds(testClientID, "wrong"),
			func(o *Org) { o.SetInvalidClientStatus(401) },
			401, "invalid_client", "invalid client credentials"},
		{"no-run-as-user", creds(testClientID, testClientSecret),
			func(o *Org) { o.SetRunAsUser(false) },
			400, "invalid_grant", "no client credentials user enabled"},
		{"unsupported-grant-type", url.Values{"grant_type": {"password"}}, nil,
			400, "unsupported_grant_type", "grant type not supported"},
		{"missing-grant-type", url.Values{"client_id": {testClientID}}, nil,
			400, "invalid_request", "grant type is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			if tt.setup != nil {
				tt.setup(h.org)
			}
			res := h.tokenRequest(tt.form, nil)
			if res.status != tt.wantStatus {
				t.Errorf("status = %d, want %d", res.status, tt.wantStatus)
			}
			var got tokenError
			res.decode(t, &got)
			want := tokenError{tt.wantError, tt.wantDesc}
			if got != want {
				t.Errorf("body = %+v, want %+v", got, want)
			}
		})
	}
}

func TestTokenNeedsPost(t *testing.T) {
	h := newHarness(t)
	req, _ := http.NewRequest(http.MethodGet, h.srv.Domain+tokenPath, nil)
	res := send(t, req)
	if res.status != http.StatusBadRequest || !strings.Contains(string(res.body), "invalid_request") {
		t.Errorf("GET token: status %d body %s; want 400 invalid_request", res.status, res.body)
	}
}

func TestListenersAreSeparate(t *testing.T) {
	h := newHarness(t)
	if h.srv.Domain == h.srv.InstanceURL {
		t.Fatalf("Domain and InstanceURL are both %s", h.srv.Domain)
	}

	req, _ := http.NewRequest(http.MethodGet, h.srv.Domain+testVersion+"/sobjects/Task/describe", nil)
	req.Header.Set("Authorization", "Bearer "+h.token)
	if res := send(t, req); res.status != http.StatusNotFound {
		t.Errorf("describe on the domain: status %d, want 404", res.status)
	}

	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {testClientID},
		"client_secret": {testClientSecret}}
	body := strings.NewReader(form.Encode())
	req, _ = http.NewRequest(http.MethodPost, h.srv.InstanceURL+tokenPath, body)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if res := send(t, req); res.status != http.StatusNotFound {
		t.Errorf("token on the instance: status %d, want 404", res.status)
	}
}

func TestSessionExpiry(t *testing.T) {
	tests := []struct {
		name   string
		expire func(o *Org)
		okays  int // successful calls before the 401
	}{
		{"expire-tokens", func(o *Org) { o.ExpireTokens() }, 0},
		{"lifetime-three-calls", func(o *Org) { o.SetTokenLifetime(3) }, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			tt.expire(h.org)
			for i := range tt.okays {
				if res := h.get("/sobjects/Task/describe"); res.status != http.StatusOK {
					t.Fatalf("call %d: status %d, want 200", i+1, res.status)
				}
			}
			res := h.get("/sobjects/Task/describe")
			if res.status != http.StatusUnauthorized || res.errorCode() != "INVALID_SESSION_ID" ||
				res.message() != "Session expired or invalid" {
				t.Fatalf("expired token: status %d body %s; want 401 INVALID_SESSION_ID", res.status, res.body)
			}
			h.token = h.fetchToken()
			if res := h.get("/sobjects/Task/describe"); res.status != http.StatusOK {
				t.Errorf("new token: status %d, want 200", res.status)
			}
		})
	}
}

func TestAuthorizationHeader(t *testing.T) {
	h := newHarness(t)
	path := h.srv.InstanceURL + testVersion + "/sobjects/Task/describe"
	tests := []struct {
		name, header string
		want         int
	}{
		{"bearer", "Bearer " + h.token, 200},
		{"oauth", "OAuth " + h.token, 200},
		{"missing", "", 401},
		{"unknown-token", "Bearer 00Dnothing!xyz", 401},
		{"basic-scheme", "Basic " + h.token, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, path, nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			res := send(t, req)
			if res.status != tt.want {
				t.Errorf("status = %d, want %d: %s", res.status, tt.want, res.body)
			}
			if got := res.header.Get("Sforce-Limit-Info"); got == "" {
				t.Error("no Sforce-Limit-Info header")
			}
		})
	}
}
