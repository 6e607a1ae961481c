// Package batch runs BatchUpdateCompanyUsers: it validates a whole batch at
// submission (every item through the core's single-update plan, all or nothing),
// records it as a long-running operation, cuts it into chunks, and runs the
// chunks through Procore's sync endpoint (or single PATCHes where sync cannot
// carry an item or is refused), recording a truthful outcome per item.
//
// It must not import service/server, service/gateway or cmd/...: the server
// wires it, not the reverse.
package batch
