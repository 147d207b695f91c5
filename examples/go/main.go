// Command libjwtgrant (example.com/libjwtgrant) is the documented JWT bearer flow through
// libjwtgrant from Go, step for step as examples/c/demo.c does it, with Go's
// standard library only:
//
//  1. create an authorization server on embedded defaults;
//  2. register a trusted token issuer whose certificate is generated here;
//  3. register an application allowed the JWT bearer grant;
//  4. mint an ES256 assertion as that issuer would;
//  5. exchange it at the token endpoint with a Basic header and a form body
//     exactly as `curl --data-urlencode` sends them;
//  6. print the response and verify the access token we were issued.
//
// Run (after scripts/install PREFIX):
//
//	PKG_CONFIG_PATH=PREFIX/lib/pkgconfig LD_LIBRARY_PATH=PREFIX/lib go run .
//
// Exit status 0 when every step succeeded.
package main

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
	"fmt"
	"math/big"
	"net/url"
	"os"
	"time"

	"example.com/libjwtgrant/jwtgrant"
)

const (
	issuerValue  = "https://idp.example.com/oauth2/token"
	serverAud    = "https://localhost:9443/oauth2/token" // the embedded default issuer
	clientID     = "demo-app"
	clientSecret = "s3cr3t-demo-app-secret"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	fmt.Printf("libjwtgrant %s\n", jwtgrant.Version())

	// 1. the authorization server, embedded defaults
	srv, err := jwtgrant.New("")
	if err != nil {
		return err
	}
	defer srv.Close()

	// 2. the trusted token issuer, with a fresh certificate
	idpKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("cannot make a key: %w", err)
	}
	certPEM, err := selfSignedCertificate(idpKey)
	if err != nil {
		return fmt.Errorf("cannot make a certificate: %w", err)
	}
	issuer, _ := json.Marshal(map[string]string{
		"name": "demo-idp", "issuer": issuerValue, "alias": "demo-alias", "certificate": certPEM,
	})
	if err := srv.RegisterIssuer(string(issuer)); err != nil {
		return err
	}
	fmt.Printf("registered trusted token issuer demo-idp (%s)\n", issuerValue)

	// 3. the application, allowed the JWT bearer grant
	client, _ := json.Marshal(map[string]any{
		"client_id": clientID, "client_secret": clientSecret,
		"grant_types": []string{jwtgrant.JWTBearerGrant},
	})
	if err := srv.RegisterClient(string(client)); err != nil {
		return err
	}
	fmt.Printf("registered application %s\n", clientID)

	// 4. the third party's assertion
	assertion, err := mintES256(idpKey, time.Now())
	if err != nil {
		return fmt.Errorf("cannot sign the assertion: %w", err)
	}
	claims, err := srv.VerifyAssertion(assertion)
	if err != nil {
		return err
	}
	fmt.Printf("assertion verified, claims: %s\n", claims)

	// 5. POST /oauth2/token as curl sends it
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(clientID+":"+clientSecret))
	body := "grant_type=" + url.QueryEscape(jwtgrant.JWTBearerGrant) + "&assertion=" + url.QueryEscape(assertion)
	httpStatus, response, err := srv.ExchangeToken(basic, body)
	fmt.Printf("POST /oauth2/token -> HTTP %d\n%s\n", httpStatus, response)
	if err != nil {
		return err
	}

	// 6. a resource server checks the access token
	var tokenResponse struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(response), &tokenResponse); err != nil || tokenResponse.AccessToken == "" {
		return fmt.Errorf("no access_token in the response")
	}
	atClaims, err := srv.VerifyAccessToken(tokenResponse.AccessToken)
	if err != nil {
		return err
	}
	fmt.Printf("access token verified, claims: %s\n", atClaims)
	return nil
}

// selfSignedCertificate is the third-party identity provider's certificate, PEM.
func selfSignedCertificate(key *ecdsa.PrivateKey) (string, error) {
	now := time.Now()
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "demo-idp"},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), nil
}

// mintES256 signs header.payload with ES256 (RFC 7518 3.4): the signature is
// r||s, each a 32-byte big-endian integer, not the DER that ecdsa.SignASN1
// gives.
func mintES256(key *ecdsa.PrivateKey, now time.Time) (string, error) {
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", err
	}
	header, _ := json.Marshal(map[string]string{"alg": "ES256", "typ": "JWT"})
	payload, _ := json.Marshal(map[string]any{
		"iss": issuerValue, "sub": "alice@example.com", "aud": serverAud,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"jti": base64.RawURLEncoding.EncodeToString(jti),
	})
	input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}
