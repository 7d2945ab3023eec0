package app

import "github.com/portalkit/portalkit/core/experience/feedback"

// JourneyStep implements module.Host: it records the step; checkFeedback
// validates every module's steps once all modules have initialised.
func (h *host) JourneyStep(s feedback.Step) {
	s.Module = h.info.ID
	h.steps = append(h.steps, s)
}
