package app

import (
	"strings"

	"github.com/portalkit/portalkit/core/schedule"
)

// Job implements module.Host: it records the job; wireSchedule adds it to
// the scheduler once every module has initialised.
func (h *host) Job(j schedule.Job) {
	if !strings.Contains(j.Name, ".") {
		j.Name = h.info.ID + "." + j.Name
	}
	h.jobs = append(h.jobs, j)
}
