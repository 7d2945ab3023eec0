package accounts

import "github.com/portalkit/portalkit/core/web"

// RoleLabels are the roles as people read them (translated in accounts'
// it.json); the kernel registers them as the "role" label kind.
func RoleLabels() web.Labels {
	return web.Labels{
		string(Customer):      {Text: "Customer"},
		string(Staff):         {Text: "Staff member"},
		string(Admin):         {Text: "Administrator"},
		string(PlatformAdmin): {Text: "Platform administrator"},
	}
}

// AuditLabels name the audit log's events for people (the API keeps the
// codes).
func AuditLabels() web.Labels {
	return web.Texts(map[string]string{
		AuditLoginOK:         "Successful sign-in",
		AuditLoginFailed:     "Sign-in failed",
		AuditLoginThrottled:  "Sign-in blocked after too many attempts",
		AuditLogout:          "Signed out",
		AuditPasswordChanged: "Password changed",
		AuditPasswordReset:   "Password reset",
		AuditResetRequested:  "Password reset requested",
		AuditSessionRevoked:  "Session signed out",
		AuditRoleChanged:     "Role changed",
		AuditTokenCreated:    "API token created",
		AuditTokenRevoked:    "API token revoked",
		AuditUserCreated:     "Account created",
		AuditUserInvited:     "Person invited",
		AuditUserDisabled:    "Account closed",
		AuditDeletionReq:     "Account deletion requested",
		AuditDataExport:      "Data exported",
		AuditOrgCreated:      "Organisation created",
		AuditOrgUpdated:      "Organisation settings changed",
		AuditEmailVerified:   "E-mail verified",
		AuditAssignment:      "Staff assignment changed",
	})
}
