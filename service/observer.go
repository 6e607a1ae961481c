package service

// Observer hears the service's decisions that metrics count: how read-back
// reconciliation ended, and idempotent replays. It is an interface so that
// this package stays free of Prometheus (service/telemetry implements it).
// Its methods must be cheap and safe for concurrent use.
type Observer interface {
	// Reconciled is called once per PATCH whose outcome was unknown, with
	// ReconcileApplied, ReconcileNotApplied or ReconcileUnknown.
	Reconciled(result string)
	// IdempotentReplay is called when a repeated request_id is answered
	// with the first call's answer, nothing sent upstream.
	IdempotentReplay()
}

// nopObserver is the default Observer.
type nopObserver struct{}

func (nopObserver) Reconciled(string) {}
func (nopObserver) IdempotentReplay() {}

// WithObserver sets the Observer; the default counts nothing.
func WithObserver(o Observer) Option {
	return func(s *Service) {
		if o != nil {
			s.observer = o
		}
	}
}
