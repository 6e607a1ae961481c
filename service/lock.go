package service

import "context"

// lockUser is the pipeline's serialisation step: an update that writes
// holds its (company, user) lock from before authorization reads the
// record to after the PATCH's outcome is known (reconciliation included).
// Procore's PATCH has no precondition, so without it a fill GET and its
// PATCH are not atomic: a non-admin's fill could put back an e-mail an
// admin just changed, and two callers writing different fields of a user
// could overwrite each other's required fields.
//
// It protects writes through this service only (through every replica
// only with a shared Locker): a writer outside it, such as Procore's own
// UI, can still change last_name or email_address between the fill GET and
// the PATCH, and the PATCH puts the value read back.
func (s *Service) lockUser(ctx context.Context, u *update) (unlock func(), err error) {
	if !u.writes() {
		return func() {}, nil
	}
	unlock, err = s.locks.Lock(ctx, lockKey(u.req.GetCompanyId(), u.req.GetId()))
	if err != nil {
		return nil, fromWait(ctx, opUpdate, err)
	}
	return unlock, nil
}
