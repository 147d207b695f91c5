//go:build go1.21

package jwtgrant

import (
	"context"
	"log/slog"
)

// SetSlogLogger forwards every audit event to logger at the matching level
// (LevelError -> slog.LevelError, LevelWarning -> slog.LevelWarn, LevelInfo
// -> slog.LevelInfo), with message "jwtgrant <event> <outcome>" and one
// attribute per event member. nil removes forwarding. Needs Go 1.21.
func (s *Server) SetSlogLogger(logger *slog.Logger) error {
	if logger == nil {
		return s.SetLogFunc(nil)
	}
	return s.SetLogFunc(func(level LogLevel, event Event) {
		var l slog.Level
		switch level {
		case LevelError:
			l = slog.LevelError
		case LevelWarning:
			l = slog.LevelWarn
		default:
			l = slog.LevelInfo
		}
		ctx := context.Background()
		if !logger.Enabled(ctx, l) {
			return
		}
		attrs := make([]slog.Attr, 0, len(event))
		for _, k := range eventAttrs(event) {
			attrs = append(attrs, slog.Any(k, event[k]))
		}
		logger.LogAttrs(ctx, l, "jwtgrant "+event.Kind()+" "+event.Outcome(), attrs...)
	})
}
