// Package auth is who may call directoryd, and what they may do: caller
// identity from verified client certificates (mutual TLS) or forwarded by
// the REST gateway on the in-process channel, the pass-through bearer
// token of pass-through mode, and the authorization policy file of
// client-credentials mode (Policy, a service.Authorizer).
//
// Which fields need directory-admin rights is Procore's rule and stays in
// the service core; this package only says who the caller is and what the
// policy grants it. It must not import net/http, Prometheus or
// OpenTelemetry.
package auth
