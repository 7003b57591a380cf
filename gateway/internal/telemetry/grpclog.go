package telemetry

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"google.golang.org/grpc/grpclog"
)

// GRPCLogger routes grpc-go's and grpc-gateway's own log lines (grpclog)
// into the JSON log, so stderr has one format. As with grpc-go's default
// logger only errors show at the default level: its info and warning lines
// (every failed connection attempt, already reported per call by the
// gateway) are debug lines here. Verbosity levels above 0 are dropped.
func GRPCLogger(log *slog.Logger) grpclog.LoggerV2 {
	return grpcLogger{log.With(slog.String("logger", "grpc"))}
}

type grpcLogger struct{ log *slog.Logger }

func (l grpcLogger) emit(level slog.Level, msg string) {
	l.log.Log(context.Background(), level, msg)
}

func (l grpcLogger) Info(args ...any)   { l.emit(slog.LevelDebug, fmt.Sprint(args...)) }
func (l grpcLogger) Infoln(args ...any) { l.emit(slog.LevelDebug, sprintln(args...)) }
func (l grpcLogger) Infof(format string, args ...any) {
	l.emit(slog.LevelDebug, fmt.Sprintf(format, args...))
}
func (l grpcLogger) Warning(args ...any)   { l.emit(slog.LevelDebug, fmt.Sprint(args...)) }
func (l grpcLogger) Warningln(args ...any) { l.emit(slog.LevelDebug, sprintln(args...)) }
func (l grpcLogger) Warningf(format string, args ...any) {
	l.emit(slog.LevelDebug, fmt.Sprintf(format, args...))
}
func (l grpcLogger) Error(args ...any)   { l.emit(slog.LevelError, fmt.Sprint(args...)) }
func (l grpcLogger) Errorln(args ...any) { l.emit(slog.LevelError, sprintln(args...)) }
func (l grpcLogger) Errorf(format string, args ...any) {
	l.emit(slog.LevelError, fmt.Sprintf(format, args...))
}
func (l grpcLogger) Fatal(args ...any)                 { l.Error(args...); os.Exit(1) }
func (l grpcLogger) Fatalln(args ...any)               { l.Errorln(args...); os.Exit(1) }
func (l grpcLogger) Fatalf(format string, args ...any) { l.Errorf(format, args...); os.Exit(1) }
func (l grpcLogger) V(level int) bool                  { return level <= 0 }

func sprintln(args ...any) string {
	s := fmt.Sprintln(args...)
	return s[:len(s)-1]
}
