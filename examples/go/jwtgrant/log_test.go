package jwtgrant_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log"
	"strings"
	"sync"
	"testing"

	"example.com/libjwtgrant/jwtgrant"
)

type recorder struct {
	mu     sync.Mutex
	levels []jwtgrant.LogLevel
	events []jwtgrant.Event
}

func (r *recorder) fn(level jwtgrant.LogLevel, event jwtgrant.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.levels = append(r.levels, level)
	r.events = append(r.events, event)
}

func (r *recorder) last(kind string) (jwtgrant.LogLevel, jwtgrant.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.events) - 1; i >= 0; i-- {
		if r.events[i].Kind() == kind {
			return r.levels[i], r.events[i]
		}
	}
	return 0, nil
}

func TestLogFuncEvents(t *testing.T) {
	srv, idp := newServer(t)
	rec := &recorder{}
	if err := srv.SetLogFunc(rec.fn); err != nil {
		t.Fatal(err)
	}
	assertion := idp.mint(t, "alice@example.com")
	if _, err := srv.VerifyAssertion(assertion); err != nil {
		t.Fatal(err)
	}
	level, e := rec.last("verification")
	if level != jwtgrant.LevelInfo || e.Outcome() != "success" || e["issuer_name"] != "test-idp" || e["sub"] != "alice@example.com" {
		t.Fatalf("verification event %v %v", level, e)
	}
	var claims map[string]any
	text, _ := srv.VerifyAssertion(assertion)
	_ = json.Unmarshal([]byte(text), &claims)
	sum := sha256.Sum256([]byte(claims["jti"].(string)))
	if e["jti_hash"] != hex.EncodeToString(sum[:])[:16] {
		t.Errorf("jti_hash %v", e["jti_hash"])
	}

	status, response, _ := srv.ExchangeToken(basic(clientID, clientSecret), form(assertion))
	if status != 200 {
		t.Fatalf("exchange %d %s", status, response)
	}
	level, e = rec.last("exchange")
	if level != jwtgrant.LevelInfo || e["client_id"] != clientID || e["http_status"] != float64(200) {
		t.Fatalf("exchange event %v %v", level, e)
	}
	status, _, _ = srv.ExchangeToken(basic(clientID, clientSecret), form(assertion))
	level, e = rec.last("exchange")
	if status != 400 || level != jwtgrant.LevelWarning || e["status_name"] != "JWTGRANT_EREPLAY" || e["reason"] == nil {
		t.Fatalf("replay event %v %v", level, e)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal([]byte(response), &tr)
	all, _ := json.Marshal(rec.events)
	for _, secret := range []string{assertion, strings.Split(assertion, ".")[2], tr.AccessToken, clientSecret} {
		if secret != "" && bytes.Contains(all, []byte(secret)) {
			t.Errorf("an event holds a token or the secret")
		}
	}

	if err := srv.SetLogFunc(nil); err != nil {
		t.Fatal(err)
	}
	n := len(rec.events)
	_, _ = srv.VerifyAssertion(assertion)
	if len(rec.events) != n {
		t.Errorf("events after SetLogFunc(nil)")
	}
}

func TestSetLoggerAndStats(t *testing.T) {
	srv, idp := newServer(t)
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := log.New(&lockedWriter{w: &buf, mu: &mu}, "", 0)
	if err := srv.SetLogger(logger); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 10; j++ {
				_, _, _ = srv.ExchangeToken(basic(clientID, "wrong"), form(idp.mint(t, "bob")))
			}
		}()
	}
	wg.Wait()
	mu.Lock()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	mu.Unlock()
	if len(lines) != 40 || !strings.HasPrefix(lines[0], "jwtgrant WARNING exchange refused: {") {
		t.Fatalf("%d lines, first %q", len(lines), lines[0])
	}
	text, err := srv.Stats()
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Exchanges struct {
			Total    int            `json:"total"`
			Refused  int            `json:"refused"`
			ByStatus map[string]int `json:"by_status"`
			Latency  map[string]int `json:"latency_us"`
		} `json:"exchanges"`
	}
	if err := json.Unmarshal([]byte(text), &st); err != nil {
		t.Fatal(err)
	}
	if st.Exchanges.Total != 40 || st.Exchanges.Refused != 40 || st.Exchanges.ByStatus["JWTGRANT_EINVALID_CLIENT"] != 40 {
		t.Errorf("stats %s", text)
	}
	if p50, p99 := st.Exchanges.Latency["p50"], st.Exchanges.Latency["p99"]; p50 < 1 || p99 < p50 {
		t.Errorf("latency %v", st.Exchanges.Latency)
	}
	srv.Close()
	if _, err := srv.Stats(); err == nil {
		t.Errorf("Stats after Close")
	}
	if err := srv.SetLogFunc(func(jwtgrant.LogLevel, jwtgrant.Event) {}); err == nil {
		t.Errorf("SetLogFunc after Close")
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
