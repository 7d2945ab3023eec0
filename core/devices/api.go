package devices

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"
)

// Who may call what (Actor in registry.go has the object rules): customers
// their own devices, staff those of the customers they reach, admins and
// integrator tokens (devices:read / devices:write) every device of their
// organisation.
var (
	viewers  = []accounts.Role{accounts.Customer, accounts.Staff, accounts.Admin, accounts.Integrator}
	people   = []accounts.Role{accounts.Customer, accounts.Staff, accounts.Admin}
	managers = []accounts.Role{accounts.Staff, accounts.Admin, accounts.Integrator}
	admins   = []accounts.Role{accounts.Admin, accounts.Integrator}
)

func actor(ctx context.Context) Actor {
	p, _ := accounts.PrincipalFrom(ctx)
	return ActorOf(p)
}

type devicesIDPath struct {
	ID string `path:"id" maxLength:"32" doc:"Device ID (also its MQTT username)"`
}

// DeviceCredentials is the answer to creating or rotating a device: the
// secret appears here only.
type DeviceCredentials struct {
	ID       string  `json:"id" doc:"Device ID"`
	Username string  `json:"username" doc:"MQTT username (the device ID)"`
	Secret   string  `json:"secret" doc:"MQTT password; shown only now"`
	Topics   Topics  `json:"topics"`
	Device   *Device `json:"device"`
}

type devicesCredentialsOutput struct{ Body DeviceCredentials }

type devicesDeviceOutput struct{ Body *Device }

func credentials(c *Created) *devicesCredentialsOutput {
	return &devicesCredentialsOutput{Body: DeviceCredentials{ID: c.ID, Username: c.Username, Secret: c.Secret, Topics: c.Topics, Device: c.Device}}
}

// deviceFixture creates, for the authorization matrix, a device owned by
// owner (a customer) or, for staff and admins, by the organisation's first
// customer (the matrix's owner, whom its staff reach).
func (s *Service) deviceFixture(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
	ownerID := owner.UserID
	if owner.Role != accounts.Customer {
		var u accounts.User
		if err := store.Org(tx, owner.OrgID).Where("role = ?", accounts.Customer).Order("id").Take(&u).Error; err != nil {
			return nil, nil, err
		}
		ownerID = u.ID
	}
	hash, err := HashSecret(newSecret())
	if err != nil {
		return nil, nil, err
	}
	d := &Device{ID: newDeviceID(), OrgSlug: owner.OrgSlug, OwnerID: ownerID, Module: "matrix", Name: "Matrix device", Status: StatusActive, SecretHash: hash}
	if err := store.Org(tx, owner.OrgID).Create(d).Error; err != nil {
		return nil, nil, err
	}
	return map[string]string{"id": d.ID}, nil, nil
}

// RegisterAPI declares the devices operations under /api/v1/devices.
func (s *Service) RegisterAPI(api huma.API) {
	tag := func(o *huma.Operation) { o.Tags = []string{"Devices"} }
	matrix := accounts.Matrix(s.deviceFixture)

	type devicesCreateInput struct{ Body NewDevice }
	accounts.Register(api, huma.Operation{OperationID: "devices-create", Method: http.MethodPost, Path: "/api/v1/devices",
		Summary: "Register a device", DefaultStatus: 201,
		Description: "Returns the device ID (its MQTT username), its secret (MQTT password, shown only now) and its topics. Customers register their own devices; staff name a customer they reach, admins and integrator tokens any customer of the organisation."},
		func(ctx context.Context, in *devicesCreateInput) (*devicesCredentialsOutput, error) {
			c, err := s.Create(ctx, actor(ctx), in.Body)
			if err != nil {
				return nil, err
			}
			return credentials(c), nil
		}, accounts.Allow(viewers...), tag, web.Idempotent())

	type devicesListInput struct {
		Module string `query:"module" maxLength:"40"`
		Status string `query:"status" enum:"active,disabled,"`
		Owner  uint   `query:"owner_id"`
		Offset int    `query:"offset" minimum:"0" doc:"Devices to skip (the next_offset of the previous page)"`
		Limit  int    `query:"limit" minimum:"1" maximum:"1000" default:"100" doc:"Page size"`
	}
	type devicesListOutput struct {
		Body struct {
			Devices    []Device `json:"devices"`
			NextOffset int      `json:"next_offset,omitempty" doc:"Pass as offset for the next page; absent on the last page"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "devices-list", Method: http.MethodGet, Path: "/api/v1/devices",
		Summary: "List devices", Description: "A customer's own devices; those of the customers they reach for staff; every device of the organisation for admins and integrator tokens."},
		func(ctx context.Context, in *devicesListInput) (*devicesListOutput, error) {
			limit := max(1, in.Limit)
			list, err := s.List(ctx, actor(ctx), ListFilter{OwnerID: in.Owner, Module: in.Module, Status: in.Status, Offset: in.Offset, Limit: limit + 1})
			if err != nil {
				return nil, err
			}
			out := &devicesListOutput{}
			if len(list) > limit {
				list, out.Body.NextOffset = list[:limit], in.Offset+limit
			}
			out.Body.Devices = list
			if out.Body.Devices == nil {
				out.Body.Devices = []Device{}
			}
			return out, nil
		}, accounts.Allow(viewers...), tag)

	accounts.Register(api, huma.Operation{OperationID: "devices-get", Method: http.MethodGet, Path: "/api/v1/devices/{id}", Summary: "Read a device"},
		func(ctx context.Context, in *devicesIDPath) (*devicesDeviceOutput, error) {
			d, err := s.Get(ctx, actor(ctx), in.ID)
			if err != nil {
				return nil, err
			}
			return &devicesDeviceOutput{Body: d}, nil
		}, accounts.Allow(viewers...), tag, matrix)

	accounts.Register(api, huma.Operation{OperationID: "devices-disable", Method: http.MethodPost, Path: "/api/v1/devices/{id}/disable",
		Summary: "Disable a device", Description: "The device is disconnected and refused until enabled again. Its owner may disable it."},
		func(ctx context.Context, in *devicesIDPath) (*devicesDeviceOutput, error) {
			d, err := s.Disable(ctx, actor(ctx), in.ID)
			if err != nil {
				return nil, err
			}
			return &devicesDeviceOutput{Body: d}, nil
		}, accounts.Allow(viewers...), tag, matrix)

	accounts.Register(api, huma.Operation{OperationID: "devices-enable", Method: http.MethodPost, Path: "/api/v1/devices/{id}/enable", Summary: "Enable a device"},
		func(ctx context.Context, in *devicesIDPath) (*devicesDeviceOutput, error) {
			d, err := s.Enable(ctx, actor(ctx), in.ID)
			if err != nil {
				return nil, err
			}
			return &devicesDeviceOutput{Body: d}, nil
		}, accounts.Allow(managers...), tag, matrix, accounts.MatrixReach())

	accounts.Register(api, huma.Operation{OperationID: "devices-rotate", Method: http.MethodPost, Path: "/api/v1/devices/{id}/rotate",
		Summary: "Rotate a device's secret", Description: "Admins and integrator tokens only. Returns a new secret (shown only now); the old one stops working and the device is disconnected."},
		func(ctx context.Context, in *devicesIDPath) (*devicesCredentialsOutput, error) {
			c, err := s.Rotate(ctx, actor(ctx), in.ID)
			if err != nil {
				return nil, err
			}
			return credentials(c), nil
		}, accounts.Allow(admins...), tag, matrix, accounts.MatrixReach())

	accounts.Register(api, huma.Operation{OperationID: "devices-delete", Method: http.MethodDelete, Path: "/api/v1/devices/{id}",
		Summary: "Delete a device", Description: "Admins and integrator tokens only. Removes the device with its readings, reject log and commands.", DefaultStatus: 204},
		func(ctx context.Context, in *devicesIDPath) (*struct{}, error) {
			return nil, s.Delete(ctx, actor(ctx), in.ID)
		}, accounts.Allow(admins...), tag, matrix, accounts.MatrixReach())

	type devicesRejectsOutput struct {
		Body struct {
			Rejects []Reject `json:"rejects"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "devices-rejects", Method: http.MethodGet, Path: "/api/v1/devices/{id}/rejects",
		Summary: "A device's reject log", Description: "The latest refused or invalid messages with the reason, newest first (bounded by devices.reject_log_size)."},
		func(ctx context.Context, in *devicesIDPath) (*devicesRejectsOutput, error) {
			list, err := s.Rejects(ctx, actor(ctx), in.ID)
			if err != nil {
				return nil, err
			}
			out := &devicesRejectsOutput{}
			out.Body.Rejects = append([]Reject{}, list...)
			return out, nil
		}, accounts.Allow(viewers...), tag, matrix)

	type devicesReadingsInput struct {
		ID    string `path:"id" maxLength:"32"`
		Limit int    `query:"limit" minimum:"1" maximum:"1000" default:"100"`
	}
	type devicesReadingsOutput struct {
		Body struct {
			Readings []Reading `json:"readings"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "devices-readings", Method: http.MethodGet, Path: "/api/v1/devices/{id}/readings",
		Summary: "A device's latest readings", Description: "Raw readings, newest first; older ones are rolled up hourly after devices.retention."},
		func(ctx context.Context, in *devicesReadingsInput) (*devicesReadingsOutput, error) {
			list, err := s.Readings(ctx, actor(ctx), in.ID, in.Limit)
			if err != nil {
				return nil, err
			}
			out := &devicesReadingsOutput{}
			out.Body.Readings = append([]Reading{}, list...)
			return out, nil
		}, accounts.Allow(viewers...), tag, matrix)
}
