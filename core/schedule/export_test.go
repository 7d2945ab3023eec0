package schedule

import "time"

// SetClaimRetry shortens the pauses between claim retries for a test and
// returns a function restoring them.
func SetClaimRetry(first, most time.Duration) (restore func()) {
	f, m := retryFirst, retryMax
	retryFirst, retryMax = first, most
	return func() { retryFirst, retryMax = f, m }
}
