package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// token is one access token and the instance it is valid for. Salesforce
// does not say when it expires: it is used until a call answers 401.
type token struct {
	access      string
	instanceURL string
}

// token returns the cached token, fetching one if there is none.
func (c *Client) token(ctx context.Context) (*token, error) {
	c.tokMu.Lock()
	tok := c.tok
	c.tokMu.Unlock()
	if tok != nil {
		return tok, nil
	}
	return c.renewToken(ctx, nil)
}

// renewToken replaces stale, the token a call was refused with, by a new
// one. Callers holding the same stale token share a single token request,
// and a caller arriving after the renewal gets the new token without
// another request.
func (c *Client) renewToken(ctx context.Context, stale *token) (*token, error) {
	key := "token:"
	if stale != nil {
		key += stale.access
	}
	v, err := c.shared(ctx, key, func(fctx context.Context) (any, error) {
		c.tokMu.Lock()
		cur := c.tok
		c.tokMu.Unlock()
		if cur != nil && cur != stale {
			return cur, nil
		}
		return c.fetchToken(fctx)
	})
	if err != nil {
		return nil, err
	}
	return v.(*token), nil
}

// tokenResponse holds the fields used from a token answer; the others
// (signature, scope, issued_at, ...) are ignored.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	InstanceURL string `json:"instance_url"`
}

// tokenErrorBody is the OAuth error object of the token endpoint.
type tokenErrorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// fetchToken requests a token with the client-credentials grant and caches it.
func (c *Client) fetchToken(ctx context.Context) (*token, error) {
	req, err := c.newTokenRequest(ctx)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	resp, err := c.roundTrip(req)
	c.observe("token", resp, start)
	if err != nil {
		return nil, fmt.Errorf("salesforce: token request: %w", err)
	}
	if resp.status != http.StatusOK {
		return nil, c.tokenError(resp)
	}

	tok, err := c.parseToken(resp.body)
	if err != nil {
		return nil, err
	}
	c.tokMu.Lock()
	renewed := c.tok != nil
	c.tok = tok
	c.tokMu.Unlock()
	if c.cfg.Observer != nil {
		c.cfg.Observer.TokenFetched(renewed)
	}
	return tok, nil
}

func (c *Client) newTokenRequest(ctx context.Context) (*http.Request, error) {
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {c.cfg.ClientID},
		"client_secret": {c.cfg.ClientSecret},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		c.cfg.Domain+"/services/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("salesforce: build token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	return req, nil
}

func (c *Client) parseToken(body []byte) (*token, error) {
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return nil, errors.New("salesforce: token response is not JSON")
	}
	tr.InstanceURL = strings.TrimRight(tr.InstanceURL, "/")
	if tr.AccessToken == "" {
		return nil, errors.New("salesforce: token response has no access_token")
	}
	if err := validateURL(tr.InstanceURL); err != nil {
		return nil, fmt.Errorf("salesforce: token response instance_url: %w", err)
	}
	// A token must not travel in clear text when it was fetched over TLS.
	if strings.HasPrefix(c.cfg.Domain, "https:") && !strings.HasPrefix(tr.InstanceURL, "https:") {
		return nil, errors.New("salesforce: token response instance_url is not https")
	}
	return &token{access: tr.AccessToken, instanceURL: tr.InstanceURL}, nil
}

// tokenError reads the {error, error_description} body of a refused token
// request; other bodies (HTML from a proxy, empty) keep only the status.
func (c *Client) tokenError(resp *response) *TokenError {
	e := &TokenError{Status: resp.status, Description: http.StatusText(resp.status)}
	var body tokenErrorBody
	if json.Unmarshal(resp.body, &body) == nil && body.Error != "" {
		e.Code = body.Error
		e.Description = c.redactText(body.Description)
	}
	return e
}

// redactText removes the client secret from text that came back from the
// server, in case a misbehaving endpoint echoes the request: as sent in the
// form body, as a path would carry it, and as it is.
func (c *Client) redactText(s string) string {
	secret := c.cfg.ClientSecret
	for _, form := range []string{url.QueryEscape(secret), url.PathEscape(secret), secret} {
		if form != "" {
			s = strings.ReplaceAll(s, form, "[redacted]")
		}
	}
	return s
}
