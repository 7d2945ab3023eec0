package devices

import "context"

// WriteBatch commits rows as the ingest pipeline's writer does, counters
// included, for tests that need a batch of their own making.
func WriteBatch(ctx context.Context, s *Service, rows []Reading) error {
	return (&writer{s: s}).write(ctx, rows, true)
}
