package jwtgrant_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"example.com/libjwtgrant/jwtgrant"
)

type listedClient struct {
	ClientID    string   `json:"client_id"`
	AuthMethod  string   `json:"token_endpoint_auth_method"`
	AuthMethods []string `json:"auth_methods"`
	GrantTypes  []string `json:"grant_types"`
	Scopes      []string `json:"scopes"`
	Secrets     int      `json:"secrets"`
	GraceUntil  *int64   `json:"grace_until"`
}

func listClients(t *testing.T, srv *jwtgrant.Server) []listedClient {
	t.Helper()
	text, err := srv.ListClients()
	if err != nil {
		t.Fatalf("ListClients: %v", err)
	}
	if strings.Contains(text, clientSecret) || strings.Contains(text, "n3w-secret") {
		t.Fatalf("ListClients shows a secret: %s", text)
	}
	var out []listedClient
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		t.Fatalf("ListClients %s: %v", text, err)
	}
	return out
}

func exchangeStatus(t *testing.T, srv *jwtgrant.Server, idp *identityProvider, auth, extra string) int {
	t.Helper()
	status, _, _ := srv.ExchangeToken(auth, form(idp.mint(t, "alice@example.com"))+extra)
	return status
}

func TestListAndRemoveClient(t *testing.T) {
	srv, idp := newServer(t)
	if err := srv.RegisterClient(`{"client_id":"spa","token_endpoint_auth_method":"none","grant_types":["` + jwtgrant.JWTBearerGrant + `"]}`); err != nil {
		t.Fatal(err)
	}
	clients := listClients(t, srv)
	if len(clients) != 2 || clients[0].ClientID != "spa" || clients[1].ClientID != clientID {
		t.Fatalf("ListClients = %+v", clients)
	}
	if clients[0].AuthMethod != "none" || clients[0].Secrets != 0 || len(clients[0].Scopes) != 0 {
		t.Errorf("public client listed as %+v", clients[0])
	}
	if clients[1].AuthMethod != "" || clients[1].Secrets != 1 ||
		strings.Join(clients[1].AuthMethods, " ") != "client_secret_basic client_secret_post" {
		t.Errorf("confidential client listed as %+v", clients[1])
	}

	// the public client sends client_id alone
	if s := exchangeStatus(t, srv, idp, "", "&client_id=spa"); s != 200 {
		t.Errorf("public client: HTTP %d, want 200", s)
	}
	if err := srv.RemoveClient(clientID); err != nil {
		t.Fatalf("RemoveClient: %v", err)
	}
	if s := exchangeStatus(t, srv, idp, basic(clientID, clientSecret), ""); s != 401 {
		t.Errorf("removed client: HTTP %d, want 401", s)
	}
	if err := srv.RemoveClient(clientID); !errors.Is(err, &jwtgrant.Error{Status: jwtgrant.ENOTFOUND}) {
		t.Errorf("second RemoveClient: %v, want JWTGRANT_ENOTFOUND", err)
	}
	if got := listClients(t, srv); len(got) != 1 || got[0].ClientID != "spa" {
		t.Errorf("after removal: %+v", got)
	}
}

func TestRotateClientSecretWithGrace(t *testing.T) {
	srv, idp := newServer(t)
	if err := srv.RotateClientSecret(clientID, "n3w-secret", 2*time.Minute); err != nil {
		t.Fatalf("RotateClientSecret: %v", err)
	}
	c := listClients(t, srv)[0]
	if c.Secrets != 2 || c.GraceUntil == nil || *c.GraceUntil != now.Add(2*time.Minute).Unix() {
		t.Errorf("during the grace period: %+v", c)
	}
	if s := exchangeStatus(t, srv, idp, basic(clientID, clientSecret), ""); s != 200 {
		t.Errorf("old secret during the grace period: HTTP %d", s)
	}
	if s := exchangeStatus(t, srv, idp, basic(clientID, "n3w-secret"), ""); s != 200 {
		t.Errorf("new secret: HTTP %d", s)
	}
	if err := srv.SetTime(now.Add(2 * time.Minute)); err != nil {
		t.Fatal(err)
	}
	if s := exchangeStatus(t, srv, idp, basic(clientID, clientSecret), ""); s != 401 {
		t.Errorf("old secret after the grace period: HTTP %d, want 401", s)
	}
	if s := exchangeStatus(t, srv, idp, "", "&client_id="+clientID+"&client_secret=n3w-secret"); s != 200 {
		t.Errorf("new secret by client_secret_post: HTTP %d", s)
	}
	if c := listClients(t, srv)[0]; c.Secrets != 1 || c.GraceUntil != nil {
		t.Errorf("after the grace period: %+v", c)
	}
}

func TestRotateClientSecretAtOnceAndRefusals(t *testing.T) {
	srv, idp := newServer(t)
	if err := srv.RotateClientSecret(clientID, "n3w-secret", 0); err != nil {
		t.Fatal(err)
	}
	if s := exchangeStatus(t, srv, idp, basic(clientID, clientSecret), ""); s != 401 {
		t.Errorf("old secret after a rotation without grace: HTTP %d, want 401", s)
	}
	if s := exchangeStatus(t, srv, idp, basic(clientID, "n3w-secret"), ""); s != 200 {
		t.Errorf("new secret: HTTP %d", s)
	}
	for _, tc := range []struct {
		id, secret string
		grace      time.Duration
		want       jwtgrant.Status
	}{
		{"ghost", "x", 0, jwtgrant.ENOTFOUND},
		{clientID, "", 0, jwtgrant.EINVAL},
		{clientID, "x", -time.Second, jwtgrant.EINVAL},
		{clientID, "x", 366 * 24 * time.Hour, jwtgrant.EINVAL},
		{clientID, "x\x00y", 0, jwtgrant.EINVAL},
	} {
		if err := srv.RotateClientSecret(tc.id, tc.secret, tc.grace); !errors.Is(err, &jwtgrant.Error{Status: tc.want}) {
			t.Errorf("RotateClientSecret(%q, grace %v): %v, want %v", tc.id, tc.grace, err, tc.want)
		}
	}
	if s := exchangeStatus(t, srv, idp, basic(clientID, "n3w-secret"), ""); s != 200 {
		t.Errorf("a refused rotation changed the secret: HTTP %d", s)
	}
}

func TestClientWithoutScopesMayRequestNone(t *testing.T) {
	srv, idp := newServer(t)
	status, response, err := srv.ExchangeToken(basic(clientID, clientSecret), form(idp.mint(t, "alice"))+"&scope=admin")
	var e *jwtgrant.Error
	if status != 400 || !errors.As(err, &e) || e.OAuthError != "invalid_scope" {
		t.Fatalf("scope without registered scopes: %d %s, %v; want 400 invalid_scope", status, response, err)
	}
	if strings.Contains(response, "test-idp") {
		t.Errorf("the description names the issuer: %s", response)
	}
}

func TestTokenBodyLimitFollowsMaxAssertionSize(t *testing.T) {
	srv, _ := newServer(t)
	if n, err := srv.TokenBodyLimit(); err != nil || n != 65536 {
		t.Errorf("default TokenBodyLimit = %d, %v; want 65536", n, err)
	}
	big, err := jwtgrant.New(`{"max_assertion_size":131072}`)
	if err != nil {
		t.Fatal(err)
	}
	defer big.Close()
	if n, err := big.TokenBodyLimit(); err != nil || n != 131072+32768 {
		t.Errorf("TokenBodyLimit = %d, %v; want 163840", n, err)
	}
}
