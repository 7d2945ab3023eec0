package health

import (
	"context"
	"fmt"

	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/store"
)

// erasable are the health tables holding data about one patient, keyed by
// patient_id, in the order they are emptied (doses before the
// prescriptions they belong to, goals before their visits).
var erasable = []any{&Meal{}, &ExerciseSession{}, &Dose{}, &Prescription{}, &Goal{}, &Visit{}, &Alert{}, &Observation{},
	&PatientTeam{}, &BreakGlass{}, &AccessEntry{}}

// eraseUser deletes a closed account's health data (accounts.user_deleted)
// in the purge's transaction: readings and alerts, goals and visits,
// prescriptions and doses, the teams they shared their record with (their
// consents), break-glass openings of their record and the log of who read
// it, and their food and exercise diary. The portal is not the clinic's legal medical record (docs/verticals/
// health.md, "Erasure"); an organisation that must keep these longer sets
// its retention period, which delays the purge. Team memberships are
// staff's and stay.
func eraseUser(ctx context.Context, e events.Event) error {
	if e.Tx == nil || e.OrgID == 0 || e.SubjectID == 0 {
		return fmt.Errorf("health: %s without transaction, organisation or patient", e.Name)
	}
	for _, m := range erasable {
		if err := store.Org(e.Tx.WithContext(ctx), e.OrgID).Where("patient_id = ?", e.SubjectID).Delete(m).Error; err != nil {
			return fmt.Errorf("health: erasing %T: %w", m, err)
		}
	}
	return nil
}
