package automotive

import "testing"

// SetRecallChunk changes the fan-out chunk size for a test.
func SetRecallChunk(t *testing.T, n int) {
	old := recallChunk
	recallChunk = n
	t.Cleanup(func() { recallChunk = old })
}
