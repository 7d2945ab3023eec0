// Package automotive is the carmaker vertical: vehicles and their
// telematics, diagnostics and alerts, service plans and bookings, recalls,
// financing and bills. It uses only the module contract (core/module) and
// the public types of core packages.
package automotive
