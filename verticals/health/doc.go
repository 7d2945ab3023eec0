// Package health is the health vertical: care between visits. Clinicians
// reach a patient through the patient's care team (or a team the patient
// shares with); every staff read of a patient's health data is written to
// an access log the patient reads, and a read outside the teams needs a
// stated reason (break-glass) that admins are told about. Vital signs are
// observations with LOINC codes and UCUM units, entered by the patient, a
// clinician or a wearable.
//
// The package uses only the module contract (core/module) and the public
// types of core packages.
package health
