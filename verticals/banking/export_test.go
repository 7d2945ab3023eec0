package banking

import "testing"

// SetReportChunk changes how many customers one report transaction serves.
func SetReportChunk(t *testing.T, n int) {
	old := reportChunk
	reportChunk = n
	t.Cleanup(func() { reportChunk = old })
}

// SetAfterReportChunk installs a hook run after each committed report
// chunk; its error stops the run there, as a crash would.
func SetAfterReportChunk(t *testing.T, fn func() error) {
	afterReportChunk = fn
	t.Cleanup(func() { afterReportChunk = nil })
}

// GoalAccountMigration is migration 0003_goal_account.
var GoalAccountMigration = goalAccount
