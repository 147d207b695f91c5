//go:build go1.21

package jwtgrant_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"
)

func TestSetSlogLogger(t *testing.T) {
	srv, idp := newServer(t)
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: &buf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if err := srv.SetSlogLogger(logger); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.VerifyAssertion(idp.mint(t, "alice@example.com")); err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("%s: %v", buf.String(), err)
	}
	if rec["level"] != "INFO" || rec["msg"] != "jwtgrant verification success" || rec["sub"] != "alice@example.com" {
		t.Errorf("slog record %v", rec)
	}
}
