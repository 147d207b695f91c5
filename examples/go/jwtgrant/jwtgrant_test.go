package jwtgrant_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"example.com/libjwtgrant/jwtgrant"
)

const (
	issuerValue  = "https://idp.example.com/oauth2/token"
	serverAud    = "https://localhost:9443/oauth2/token"
	clientID     = "test-app"
	clientSecret = "test-app-secret"
)

// The fixed clock of every time-dependent test.
var now = time.Unix(1_750_000_000, 0)

func TestVersion(t *testing.T) {
	if v := jwtgrant.Version(); v != jwtgrant.HeaderVersion {
		t.Fatalf("library version %q, header version %q", v, jwtgrant.HeaderVersion)
	}
	var major, minor, patch int
	if _, err := fmt.Sscanf(jwtgrant.Version(), "%d.%d.%d", &major, &minor, &patch); err != nil {
		t.Fatalf("version %q is not X.Y.Z: %v", jwtgrant.Version(), err)
	}
	if got, want := jwtgrant.VersionNumber(), major*1000000+minor*1000+patch; got != want {
		t.Fatalf("VersionNumber() = %d, want %d", got, want)
	}
}

func TestStatusNames(t *testing.T) {
	if got := jwtgrant.EREPLAY.Name(); got != "JWTGRANT_EREPLAY" {
		t.Errorf("EREPLAY.Name() = %q", got)
	}
	if got := jwtgrant.EREPLAY.OAuthError(); got != "invalid_grant" {
		t.Errorf("EREPLAY.OAuthError() = %q", got)
	}
	if got := jwtgrant.OK.OAuthError(); got != "" {
		t.Errorf("OK.OAuthError() = %q, want empty", got)
	}
	if got := jwtgrant.Status(-9999).Name(); got != "JWTGRANT_UNKNOWN" {
		t.Errorf("Status(-9999).Name() = %q", got)
	}
}

func TestBadConfig(t *testing.T) {
	for _, config := range []string{`{"clock_skew":`, `{"no_such_field": 1}`, `{"clock_skew": "soon"}`} {
		srv, err := jwtgrant.New(config)
		if err == nil || srv != nil {
			srv.Close()
			t.Fatalf("New(%s) = %v, %v; want an error and no server", config, srv, err)
		}
		var e *jwtgrant.Error
		if !errors.As(err, &e) {
			t.Fatalf("New(%s): error %T is not *jwtgrant.Error", config, err)
		}
		if e.Status != jwtgrant.EINVAL || e.Name != "JWTGRANT_EINVAL" {
			t.Errorf("New(%s): status %d %s, want JWTGRANT_EINVAL", config, e.Status, e.Name)
		}
		if e.OAuthError == "" || e.Message == "" {
			t.Errorf("New(%s): empty oauth error %q or message %q", config, e.OAuthError, e.Message)
		}
		if !errors.Is(err, &jwtgrant.Error{Status: jwtgrant.EINVAL}) {
			t.Errorf("New(%s): errors.Is(err, EINVAL) is false", config)
		}
	}
	srv, err := jwtgrant.New(`{"no_such_field": 1}`)
	if err == nil || !strings.Contains(err.Error(), "no_such_field") {
		srv.Close()
		t.Errorf("the message of an unknown field does not name it: %v", err)
	}
}

func TestFlow(t *testing.T) {
	srv, idp := newServer(t)
	assertion := idp.mint(t, "alice@example.com")

	claims, err := srv.VerifyAssertion(assertion)
	if err != nil {
		t.Fatalf("VerifyAssertion: %v", err)
	}
	var c map[string]any
	if err := json.Unmarshal([]byte(claims), &c); err != nil || c["sub"] != "alice@example.com" || c["_issuer_name"] != "test-idp" {
		t.Fatalf("assertion claims %s (%v)", claims, err)
	}

	status, response, err := srv.ExchangeToken(basic(clientID, clientSecret), form(assertion))
	if err != nil || status != 200 {
		t.Fatalf("ExchangeToken = %d %s, %v; want 200", status, response, err)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal([]byte(response), &tr); err != nil || tr.AccessToken == "" || tr.TokenType != "Bearer" || tr.ExpiresIn <= 0 {
		t.Fatalf("token response %s (%v)", response, err)
	}

	atClaims, err := srv.VerifyAccessToken(tr.AccessToken)
	if err != nil {
		t.Fatalf("VerifyAccessToken: %v", err)
	}
	var at map[string]any
	if err := json.Unmarshal([]byte(atClaims), &at); err != nil {
		t.Fatalf("access token claims %s: %v", atClaims, err)
	}
	if at["sub"] != "alice@example.com" || at["iss"] != serverAud || at["client_id"] != clientID || at["iat"] != float64(now.Unix()) {
		t.Errorf("access token claims %s", atClaims)
	}

	// A tampered access token is refused.
	_, err = srv.VerifyAccessToken(tr.AccessToken[:len(tr.AccessToken)-4] + "AAAA")
	if !errors.Is(err, &jwtgrant.Error{Status: jwtgrant.EINVALID_TOKEN}) {
		t.Errorf("tampered access token: %v, want JWTGRANT_EINVALID_TOKEN", err)
	}

	jwks, err := srv.JWKS()
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	if err != nil || json.Unmarshal([]byte(jwks), &doc) != nil || len(doc.Keys) == 0 {
		t.Fatalf("JWKS = %s, %v", jwks, err)
	}
	for _, k := range doc.Keys {
		if _, private := k["d"]; private {
			t.Errorf("JWKS has a private member: %s", jwks)
		}
	}
}

// TestIssuerPolicy: a policy refusal is its own status, leaves the
// assertion unconsumed, and the access token names the issuer in idp.
func TestIssuerPolicy(t *testing.T) {
	srv, idp := newServer(t)
	reRegister := func(policy map[string]any) {
		t.Helper()
		var doc map[string]any
		if err := json.Unmarshal([]byte(idp.issuerJSON), &doc); err != nil {
			t.Fatal(err)
		}
		for k, v := range policy {
			doc[k] = v
		}
		text, _ := json.Marshal(doc)
		if err := srv.RemoveIssuer("test-idp"); err != nil {
			t.Fatal(err)
		}
		if err := srv.RegisterIssuer(string(text)); err != nil {
			t.Fatal(err)
		}
	}
	reRegister(map[string]any{"allowed_clients": []string{"someone-else"}})
	assertion := idp.mint(t, "alice@example.com")
	status, response, err := srv.ExchangeToken(basic(clientID, clientSecret), form(assertion))
	if status != 400 || !errors.Is(err, &jwtgrant.Error{Status: jwtgrant.ECLIENT_NOT_ALLOWED}) ||
		!strings.Contains(response, `"invalid_grant"`) {
		t.Fatalf("ExchangeToken by a client not allowed = %d %s, %v", status, response, err)
	}
	reRegister(map[string]any{"subject_format": "{name}|{sub}"})
	status, response, err = srv.ExchangeToken(basic(clientID, clientSecret), form(assertion))
	if status != 200 || err != nil {
		t.Fatalf("ExchangeToken after the refusal = %d %s, %v; want 200 (not consumed)", status, response, err)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal([]byte(response), &tr)
	atClaims, err := srv.VerifyAccessToken(tr.AccessToken)
	var at map[string]any
	if err != nil || json.Unmarshal([]byte(atClaims), &at) != nil {
		t.Fatalf("VerifyAccessToken: %s, %v", atClaims, err)
	}
	if at["sub"] != "test-idp|alice@example.com" || at["idp"] != issuerValue {
		t.Errorf("access token claims %s", atClaims)
	}
}

func TestWrongSecret(t *testing.T) {
	srv, idp := newServer(t)
	status, response, err := srv.ExchangeToken(basic(clientID, "wrong"), form(idp.mint(t, "bob")))
	var e *jwtgrant.Error
	if status != 401 || !errors.As(err, &e) || e.Status != jwtgrant.EINVALID_CLIENT || e.OAuthError != "invalid_client" {
		t.Fatalf("wrong secret: %d %s, %v; want 401 invalid_client", status, response, err)
	}
	if strings.Contains(response, "wrong") || strings.Contains(err.Error(), "wrong") {
		t.Errorf("the secret leaks into the answer: %s / %v", response, err)
	}
}

func TestExpiredAssertion(t *testing.T) {
	srv, idp := newServer(t)
	assertion := idp.mint(t, "alice@example.com")
	if err := srv.SetTime(now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, err := srv.VerifyAssertion(assertion)
	if !errors.Is(err, &jwtgrant.Error{Status: jwtgrant.EEXPIRED}) {
		t.Fatalf("an hour later: %v, want JWTGRANT_EEXPIRED", err)
	}
}

func TestReplay(t *testing.T) {
	srv, idp := newServer(t)
	assertion := idp.mint(t, "alice@example.com")
	if status, response, err := srv.ExchangeToken(basic(clientID, clientSecret), form(assertion)); status != 200 || err != nil {
		t.Fatalf("first exchange: %d %s, %v", status, response, err)
	}
	status, response, err := srv.ExchangeToken(basic(clientID, clientSecret), form(assertion))
	var e *jwtgrant.Error
	if status != 400 || !errors.As(err, &e) {
		t.Fatalf("replayed assertion: %d %s, %v; want 400 and an error", status, response, err)
	}
	if e.Status != jwtgrant.EREPLAY || e.Name != "JWTGRANT_EREPLAY" || e.OAuthError != "invalid_grant" {
		t.Errorf("replayed assertion: %+v, want JWTGRANT_EREPLAY / invalid_grant", e)
	}
	var body struct {
		Error string `json:"error"`
	}
	if json.Unmarshal([]byte(response), &body) != nil || body.Error != "invalid_grant" {
		t.Errorf("replayed assertion: response %s, want error invalid_grant", response)
	}
}

func TestConcurrentExchangeOfOneAssertion(t *testing.T) {
	srv, idp := newServer(t)
	assertion := idp.mint(t, "alice@example.com")
	const goroutines = 8
	statuses := make([]int, goroutines)
	errs := make([]error, goroutines)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < goroutines; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			statuses[i], _, errs[i] = srv.ExchangeToken(basic(clientID, clientSecret), form(assertion))
		}(i)
	}
	close(start)
	wg.Wait()
	ok := 0
	for i := range statuses {
		switch {
		case statuses[i] == 200 && errs[i] == nil:
			ok++
		case statuses[i] == 400 && errors.Is(errs[i], &jwtgrant.Error{Status: jwtgrant.EREPLAY}):
		default:
			t.Errorf("goroutine %d: %d, %v; want 200, or 400 JWTGRANT_EREPLAY", i, statuses[i], errs[i])
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d goroutines got a token for one assertion, want exactly 1", ok, goroutines)
	}
}

func TestNULByteIsRefused(t *testing.T) {
	srv, idp := newServer(t)
	assertion := idp.mint(t, "alice@example.com")
	// Cut at the NUL, C would see a valid assertion; the wrapper refuses it.
	_, err := srv.VerifyAssertion(assertion + "\x00garbage")
	if !errors.Is(err, &jwtgrant.Error{Status: jwtgrant.EINVAL}) {
		t.Errorf("assertion with a NUL byte: %v, want JWTGRANT_EINVAL", err)
	}
	status, _, err := srv.ExchangeToken(basic(clientID, clientSecret), form(assertion)+"\x00&scope=x")
	if status != 400 || !errors.Is(err, &jwtgrant.Error{Status: jwtgrant.EINVAL}) {
		t.Errorf("body with a NUL byte: %d, %v; want 400 JWTGRANT_EINVAL", status, err)
	}
	// The assertion was not consumed by either call.
	if status, response, err := srv.ExchangeToken(basic(clientID, clientSecret), form(assertion)); status != 200 {
		t.Errorf("exchange after the refused calls: %d %s, %v", status, response, err)
	}
}

func TestUseAfterClose(t *testing.T) {
	srv, err := jwtgrant.New("{}")
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	srv.Close() // twice is harmless
	if _, err := srv.JWKS(); !errors.Is(err, &jwtgrant.Error{Status: jwtgrant.EINVAL}) {
		t.Errorf("JWKS after Close: %v, want JWTGRANT_EINVAL", err)
	}
	if status, _, err := srv.ExchangeToken("", "grant_type=x"); status != 500 || err == nil {
		t.Errorf("ExchangeToken after Close: %d, %v; want 500 and an error", status, err)
	}
	var nilServer *jwtgrant.Server
	if err := nilServer.RegisterClient(`{"client_id":"x"}`); !errors.Is(err, &jwtgrant.Error{Status: jwtgrant.EINVAL}) {
		t.Errorf("nil server: %v, want JWTGRANT_EINVAL", err)
	}
}

func TestIssuers(t *testing.T) {
	srv, idp := newServer(t)
	list, err := srv.ListIssuers()
	if err != nil || !strings.Contains(list, `"test-idp"`) {
		t.Fatalf("ListIssuers = %s, %v", list, err)
	}
	if err := srv.RegisterIssuer(idp.issuerJSON); !errors.Is(err, &jwtgrant.Error{Status: jwtgrant.EEXISTS}) {
		t.Errorf("second registration: %v, want JWTGRANT_EEXISTS", err)
	}
	if err := srv.RemoveIssuer("test-idp"); err != nil {
		t.Fatal(err)
	}
	if err := srv.RemoveIssuer("test-idp"); !errors.Is(err, &jwtgrant.Error{Status: jwtgrant.ENOTFOUND}) {
		t.Errorf("removing twice: %v, want JWTGRANT_ENOTFOUND", err)
	}
	if _, err := srv.VerifyAssertion(idp.mint(t, "alice")); !errors.Is(err, &jwtgrant.Error{Status: jwtgrant.EUNTRUSTED_ISSUER}) {
		t.Errorf("assertion of a removed issuer: %v, want JWTGRANT_EUNTRUSTED_ISSUER", err)
	}
}

// ---- helpers ---------------------------------------------------------------

type identityProvider struct {
	key        *ecdsa.PrivateKey
	issuerJSON string
}

// newServer is a server on the fixed clock with a trusted issuer (an ES256
// key and its self-signed certificate) and a client allowed the grant.
// Two servers on one SQLite store: the second starts with the first one's
// issuer and client, an assertion is exchanged once across both, and both
// publish the one stored signing key.
func TestSharedSQLiteStore(t *testing.T) {
	config := fmt.Sprintf(`{"store":"sqlite:%s/shared.db"}`, t.TempDir())
	a, idp := newServerOn(t, config)
	b, err := jwtgrant.New(config)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.SetTime(now); err != nil {
		t.Fatal(err)
	}
	assertion := idp.mint(t, "alice@example.com")
	if status, response, err := b.ExchangeToken(basic(clientID, clientSecret), form(assertion)); status != 200 || err != nil {
		t.Fatalf("exchange on the second server: %d %s, %v", status, response, err)
	}
	status, _, err := a.ExchangeToken(basic(clientID, clientSecret), form(assertion))
	if status != 400 || !errors.Is(err, &jwtgrant.Error{Status: jwtgrant.EREPLAY}) {
		t.Fatalf("the same assertion on the first server: %d, %v; want 400 JWTGRANT_EREPLAY", status, err)
	}
	ja, errA := a.JWKS()
	jb, errB := b.JWKS()
	if errA != nil || errB != nil || ja != jb {
		t.Fatalf("JWKS differ: %s / %s (%v, %v)", ja, jb, errA, errB)
	}
	// Identical re-registration is OK; the same id with another secret is not.
	if err := b.RegisterIssuer(idp.issuerJSON); err != nil {
		t.Errorf("identical issuer re-registration: %v", err)
	}
	other, _ := json.Marshal(map[string]any{
		"client_id": clientID, "client_secret": "another", "grant_types": []string{jwtgrant.JWTBearerGrant},
	})
	if err := b.RegisterClient(string(other)); !errors.Is(err, &jwtgrant.Error{Status: jwtgrant.EEXISTS}) {
		t.Errorf("client with another secret: %v, want JWTGRANT_EEXISTS", err)
	}
}

func TestUnreachableRedisIsUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	srv, err := jwtgrant.New(`{"store":"redis://:pw@` + addr + `"}`)
	var e *jwtgrant.Error
	if srv != nil || !errors.As(err, &e) || e.Status != jwtgrant.EUNAVAILABLE || e.Name != "JWTGRANT_EUNAVAILABLE" {
		t.Fatalf("unreachable redis: %v, %v; want JWTGRANT_EUNAVAILABLE", srv, err)
	}
	if e.OAuthError != "temporarily_unavailable" || strings.Contains(e.Message, ":pw@") {
		t.Errorf("unreachable redis: %+v", e)
	}
}

func newServer(t *testing.T) (*jwtgrant.Server, *identityProvider) {
	t.Helper()
	return newServerOn(t, "{}")
}

// newServerOn is newServer with the configuration config.
func newServerOn(t *testing.T, config string) (*jwtgrant.Server, *identityProvider) {
	t.Helper()
	srv, err := jwtgrant.New(config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := srv.SetTime(now); err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "test-idp"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	issuer, _ := json.Marshal(map[string]string{
		"name": "test-idp", "issuer": issuerValue,
		"certificate": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
	})
	if err := srv.RegisterIssuer(string(issuer)); err != nil {
		t.Fatal(err)
	}
	client, _ := json.Marshal(map[string]any{
		"client_id": clientID, "client_secret": clientSecret, "grant_types": []string{jwtgrant.JWTBearerGrant},
	})
	if err := srv.RegisterClient(string(client)); err != nil {
		t.Fatal(err)
	}
	return srv, &identityProvider{key: key, issuerJSON: string(issuer)}
}

// mint is an ES256 assertion (r||s signature) issued at the fixed clock.
func (p *identityProvider) mint(t *testing.T, subject string) string {
	t.Helper()
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		t.Fatal(err)
	}
	header := `{"alg":"ES256","typ":"JWT"}`
	payload, _ := json.Marshal(map[string]any{
		"iss": issuerValue, "sub": subject, "aud": serverAud,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"jti": base64.RawURLEncoding.EncodeToString(jti),
	})
	input := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString(payload)
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, p.key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

func form(assertion string) string {
	return "grant_type=" + url.QueryEscape(jwtgrant.JWTBearerGrant) + "&assertion=" + url.QueryEscape(assertion)
}
