package app

import "github.com/portalkit/portalkit/core/experience/quiz"

// Quiz returns the quiz engine, for modules that run quizzes from their own
// question banks.
func (h *host) Quiz() *quiz.Service { return h.app.Quiz }
