package jwtgrant

/*
#include <stdint.h>
#include <jwtgrant.h>
*/
import "C"

import (
	"encoding/json"
	"log"
	"runtime/cgo"
	"sort"
	"unsafe"
)

// LogLevel is the level of an audit event: a syslog severity, as the
// library's JWTGRANT_LOG_* constants.
type LogLevel int

// The levels of audit events.
const (
	LevelError   LogLevel = C.JWTGRANT_LOG_ERROR   // a server-side failure, a JWKS fetch that failed
	LevelWarning LogLevel = C.JWTGRANT_LOG_WARNING // a refused request
	LevelInfo    LogLevel = C.JWTGRANT_LOG_INFO    // a success
)

// String is "ERROR", "WARNING" or "INFO".
func (l LogLevel) String() string {
	switch l {
	case LevelError:
		return "ERROR"
	case LevelWarning:
		return "WARNING"
	case LevelInfo:
		return "INFO"
	}
	return "LEVEL" + string(rune('0'+int(l)%10))
}

// Event is one decoded audit event: "event" ("exchange", "verification",
// "jwks_fetch"), "outcome", "status_name", "issuer_name", "client_id",
// "sub", "jti_hash", "reason", ... as docs/abi.md lists them. It never holds
// a token, a secret or key material.
type Event map[string]interface{}

// Kind is the event's "event" member.
func (e Event) Kind() string { s, _ := e["event"].(string); return s }

// Outcome is the event's "outcome" member.
func (e Event) Outcome() string { s, _ := e["outcome"].(string); return s }

// LogFunc receives the audit events of a Server.
type LogFunc func(level LogLevel, event Event)

//export jwtgrantGoLog
func jwtgrantGoLog(userData unsafe.Pointer, level C.int32_t, eventJSON *C.char) {
	fn, ok := cgo.Handle(uintptr(userData)).Value().(LogFunc)
	if !ok {
		return
	}
	var event Event
	if err := json.Unmarshal([]byte(C.GoString(eventJSON)), &event); err != nil {
		return
	}
	fn(LogLevel(level), event)
}

// SetLogFunc makes fn the log and audit function of the server
// (jwtgrant_set_log_callback); nil removes it. fn is called on the thread
// that did the work, with no library lock held, for every exchange,
// verification and JWKS fetch; it may call other methods of the Server
// (not Close). Safe for concurrent use.
func (s *Server) SetLogFunc(fn LogFunc) error {
	const op = "SetLogFunc"
	ctx, err := s.acquire(op)
	if err != nil {
		return err
	}
	defer s.mu.RUnlock()
	var handle cgo.Handle
	if fn != nil {
		handle = cgo.NewHandle(fn)
		// Kept until Close: a call of a replaced function may still be running.
		s.logMu.Lock()
		s.logHandles = append(s.logHandles, handle)
		s.logMu.Unlock()
	}
	var cerr *C.char
	rc := setLogCallback(ctx, handle, &cerr)
	return result(op, rc, cerr)
}

// SetLogger forwards every audit event to logger (the standard library's
// *log.Logger; nil removes forwarding) as one line:
// "jwtgrant WARNING exchange refused: {...event JSON...}".
// The slog forwarding (SetSlogLogger) needs Go 1.21.
func (s *Server) SetLogger(logger *log.Logger) error {
	if logger == nil {
		return s.SetLogFunc(nil)
	}
	return s.SetLogFunc(func(level LogLevel, event Event) {
		b, _ := json.Marshal(event) // keys sorted
		logger.Printf("jwtgrant %s %s %s: %s", level, event.Kind(), event.Outcome(), b)
	})
}

// eventAttrs are the members of an event in key order, for structured loggers.
func eventAttrs(event Event) []string {
	keys := make([]string, 0, len(event))
	for k := range event {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Stats returns the server's counters (jwtgrant_stats) as a JSON object:
// exchanges and verifications per outcome and status, exchange latency
// quantiles, JWKS fetches and failures per issuer, the replay store size.
func (s *Server) Stats() (string, error) {
	ctx, err := s.acquire("Stats")
	if err != nil {
		return "", err
	}
	defer s.mu.RUnlock()
	var out, cerr *C.char
	rc := C.jwtgrant_stats(ctx, &out, &cerr)
	text := takeString(out)
	if err := result("Stats", rc, cerr); err != nil {
		return "", err
	}
	return text, nil
}
