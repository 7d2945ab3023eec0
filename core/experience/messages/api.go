package messages

import (
	"context"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"
)

func principal(ctx context.Context) *accounts.Principal {
	p, _ := accounts.PrincipalFrom(ctx)
	return p
}

type idPath struct {
	ID uint `path:"id" doc:"Conversation ID"`
}

type messagesThreadOutput struct{ Body *Thread }

type messagesMessageBody struct {
	Body string `json:"body" minLength:"1" maxLength:"5000" doc:"The message text"`
}

type messagesMessageOutput struct{ Body *Message }

// RegisterAPI declares the messages operations under /api/v1/messages.
// Customers, staff and admins call them (not API tokens: conversations are
// private between people).
func (s *Service) RegisterAPI(api huma.API) {
	tag := func(o *huma.Operation) { o.Tags = []string{"Messages"} }
	people := accounts.Allow(participants...)
	convMatrix := accounts.Matrix(s.conversationFixture)

	type messagesListInput struct {
		Unanswered bool `query:"unanswered" doc:"Only conversations waiting for a staff answer"`
		Page       int  `query:"page" minimum:"0" default:"1"`
		Size       int  `query:"size" minimum:"0" maximum:"200" default:"50"`
	}
	type messagesListOutput struct {
		Body struct {
			Conversations []InboxItem `json:"conversations"`
			Total         int64       `json:"total"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "messages-list", Method: http.MethodGet, Path: "/api/v1/messages/conversations",
		Summary: "My conversations (inbox)", Description: "A customer's own conversations; for staff those of the customers assigned to them, for admins every conversation of the organisation. Staff and admins get unanswered conversations first, the longest waiting at the top."},
		func(ctx context.Context, in *messagesListInput) (*messagesListOutput, error) {
			items, total, err := s.Inbox(ctx, principal(ctx), InboxFilter{Unanswered: in.Unanswered, Page: in.Page, Size: in.Size})
			if err != nil {
				return nil, err
			}
			out := &messagesListOutput{}
			out.Body.Conversations, out.Body.Total = items, total
			return out, nil
		}, people, tag)

	type messagesStartInput struct {
		Body struct {
			StaffID    uint   `json:"staff_id,omitempty" doc:"Customers: whom to write to (one of their assigned staff; default the first)"`
			CustomerID uint   `json:"customer_id,omitempty" doc:"Staff and admins: the customer to write to"`
			Module     string `json:"module,omitempty" maxLength:"32" doc:"Topic: a module of the organisation, or empty"`
			Subject    string `json:"subject" minLength:"1" maxLength:"200"`
			Body       string `json:"body" minLength:"1" maxLength:"5000"`
		}
	}
	type messagesConvOutput struct{ Body *Conversation }
	accounts.Register(api, huma.Operation{OperationID: "messages-start", Method: http.MethodPost, Path: "/api/v1/messages/conversations",
		Summary: "Start a conversation", Description: "A customer writes to one of their assigned staff; staff write to a customer assigned to them. 409 when no one is assigned to the customer.", DefaultStatus: 201},
		func(ctx context.Context, in *messagesStartInput) (*messagesConvOutput, error) {
			c, err := s.Start(ctx, principal(ctx), NewConversation{StaffID: in.Body.StaffID, CustomerID: in.Body.CustomerID, Module: in.Body.Module,
				Subject: in.Body.Subject, Body: in.Body.Body})
			if err != nil {
				return nil, err
			}
			return &messagesConvOutput{Body: c}, nil
		}, people, tag, web.Idempotent())

	accounts.Register(api, huma.Operation{OperationID: "messages-get", Method: http.MethodGet, Path: "/api/v1/messages/conversations/{id}",
		Summary: "Read a conversation", Description: "The messages with their attachments and read receipts. Reading does not move the caller's receipt; POST .../read does."},
		func(ctx context.Context, in *idPath) (*messagesThreadOutput, error) {
			t, err := s.Thread(ctx, principal(ctx), in.ID)
			if err != nil {
				return nil, err
			}
			return &messagesThreadOutput{Body: t}, nil
		}, people, tag, convMatrix)

	accounts.Register(api, huma.Operation{OperationID: "messages-read", Method: http.MethodPost, Path: "/api/v1/messages/conversations/{id}/read",
		Summary: "Mark a conversation read", Description: "Moves the caller's read receipt to the latest message.", DefaultStatus: 204},
		func(ctx context.Context, in *idPath) (*struct{}, error) {
			return nil, s.MarkRead(ctx, principal(ctx), in.ID)
		}, people, tag, convMatrix)

	type messagesSendInput struct {
		ID   uint `path:"id" doc:"Conversation ID"`
		Body messagesMessageBody
	}
	accounts.Register(api, huma.Operation{OperationID: "messages-send", Method: http.MethodPost, Path: "/api/v1/messages/conversations/{id}/messages",
		Summary: "Send a message", Description: "The other side is notified. To attach files use .../messages/form.", DefaultStatus: 201},
		func(ctx context.Context, in *messagesSendInput) (*messagesMessageOutput, error) {
			m, err := s.Send(ctx, principal(ctx), in.ID, in.Body.Body, nil)
			if err != nil {
				return nil, err
			}
			return &messagesMessageOutput{Body: m}, nil
		}, people, tag, convMatrix, web.Idempotent())

	type messagesFormInput struct {
		ID      uint `path:"id" doc:"Conversation ID"`
		RawBody huma.MultipartFormFiles[struct {
			// Text, not Body: huma skips a form field whose Go name is Body
			// (reserved for request bodies), which dropped the text.
			Text  string          `form:"body" required:"false" maxLength:"5000" doc:"The message text (may be empty when files are attached)"`
			Files []huma.FormFile `form:"files" required:"false" doc:"Attachments; each at most messages.attachment_max_bytes, of an allowed type (checked by content, not by name)"`
		}]
	}
	accounts.Register(api, huma.Operation{OperationID: "messages-send-form", Method: http.MethodPost, Path: "/api/v1/messages/conversations/{id}/messages/form",
		Summary: "Send a message with attachments", Description: "multipart/form-data with a body field and files. A file over the size limit answers 413; a file whose content is not of an allowed type answers 422 naming it.", DefaultStatus: 201},
		func(ctx context.Context, in *messagesFormInput) (*messagesMessageOutput, error) {
			d := in.RawBody.Data()
			var files []Upload
			for _, f := range d.Files {
				if !f.IsSet {
					continue
				}
				files = append(files, Upload{Name: f.Filename, Size: f.Size, Reader: f.File})
			}
			m, err := s.Send(ctx, principal(ctx), in.ID, d.Text, files)
			if err != nil {
				return nil, err
			}
			return &messagesMessageOutput{Body: m}, nil
		}, people, tag, accounts.MatrixSkip("multipart body, which the matrix cannot send; the same Send call and checks as POST .../messages (in the matrix), "+
			"and TestAttachmentLimitsAndLeakage calls this route as every kind of outsider"), web.Idempotent())

	type messagesAttachmentInput struct {
		ID uint `path:"id" doc:"Attachment ID"`
	}
	type messagesAttachmentOutput struct {
		ContentType        string `header:"Content-Type"`
		ContentDisposition string `header:"Content-Disposition"`
		CacheControl       string `header:"Cache-Control"`
		CSP                string `header:"Content-Security-Policy"`
		Body               []byte
	}
	accounts.Register(api, huma.Operation{OperationID: "messages-attachment", Method: http.MethodGet, Path: "/api/v1/messages/attachments/{id}",
		Summary: "Download an attachment", Description: "Only for those who may read its conversation; always as a download, with the content type found when it was uploaded."},
		func(ctx context.Context, in *messagesAttachmentInput) (*messagesAttachmentOutput, error) {
			a, rc, err := s.Attachment(ctx, principal(ctx), in.ID)
			if err != nil {
				return nil, err
			}
			defer rc.Close()
			b, err := io.ReadAll(rc)
			if err != nil {
				return nil, err
			}
			h := DownloadHeaders(a)
			return &messagesAttachmentOutput{ContentType: h["Content-Type"], ContentDisposition: h["Content-Disposition"], CacheControl: h["Cache-Control"],
				CSP: h["Content-Security-Policy"], Body: b}, nil
		}, people, tag, accounts.Matrix(s.attachmentFixture))

	type messagesTimesInput struct {
		Days int `query:"days" minimum:"1" maximum:"365" default:"30" doc:"The period, in days up to now"`
	}
	type messagesTimesOutput struct {
		Body struct {
			Since time.Time     `json:"since"`
			Staff []StaffFigure `json:"staff"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "messages-response-times", Method: http.MethodGet, Path: "/api/v1/messages/response-times",
		Summary: "Median first-response times", Description: "Per staff member: how long waiting customers waited for the first answer (median) and how many were answered. Staff see their own; admins every staff member."},
		func(ctx context.Context, in *messagesTimesInput) (*messagesTimesOutput, error) {
			since := s.now().AddDate(0, 0, -in.Days)
			figs, err := s.ResponseTimes(ctx, principal(ctx), since)
			if err != nil {
				return nil, err
			}
			out := &messagesTimesOutput{}
			out.Body.Since, out.Body.Staff = since, figs
			return out, nil
		}, accounts.Allow(accounts.Staff, accounts.Admin), tag)
}

// DownloadHeaders are the headers an attachment is served with: its stored
// (sniffed) type, always as a download, never cached by shared caches, and
// a sandbox in case a browser renders it anyway. Every response also
// carries X-Content-Type-Options: nosniff.
func DownloadHeaders(a *Attachment) map[string]string {
	disp := mime.FormatMediaType("attachment", map[string]string{"filename": a.Name})
	if disp == "" {
		disp = `attachment; filename="attachment"`
	}
	return map[string]string{
		"Content-Type":            a.ContentType,
		"Content-Disposition":     disp,
		"Cache-Control":           "private, no-store",
		"Content-Security-Policy": "default-src 'none'; sandbox",
	}
}

// conversationFixture creates, for the authorization matrix, a
// conversation of the owner (a customer) with one message.
func (s *Service) conversationFixture(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
	c, err := s.fixtureConversation(ctx, tx, owner)
	if err != nil {
		return nil, nil, err
	}
	return map[string]string{"id": strconv.FormatUint(uint64(c.ID), 10)}, messagesMessageBody{Body: "Matrix message"}, nil
}

func (s *Service) fixtureConversation(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (*Conversation, error) {
	now := s.now()
	c := &Conversation{CustomerID: owner.UserID, Subject: "Matrix", LastMessageAt: now, CreatedBy: owner.UserID, MessageCount: 1, LastSenderID: owner.UserID}
	db := store.Org(tx.WithContext(ctx), owner.OrgID)
	if err := db.Create(c).Error; err != nil {
		return nil, err
	}
	m := &Message{ConversationID: c.ID, SenderID: owner.UserID, SenderRole: string(owner.Role), Body: "Hello", CreatedAt: now}
	return c, db.Create(m).Error
}

// attachmentFixture creates a conversation of the owner with an attachment.
func (s *Service) attachmentFixture(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
	c, err := s.fixtureConversation(ctx, tx, owner)
	if err != nil {
		return nil, nil, err
	}
	data := []byte("matrix attachment\n")
	key := newKey(owner.OrgID, s.now())
	if err := s.blobs.Put(ctx, key, bytesReader(data), int64(len(data)), "text/plain; charset=utf-8"); err != nil {
		return nil, nil, err
	}
	var m Message
	if err := store.Org(tx, owner.OrgID).Where("conversation_id = ?", c.ID).First(&m).Error; err != nil {
		return nil, nil, err
	}
	a := Attachment{ConversationID: c.ID, MessageID: m.ID, Name: "matrix.txt", ContentType: "text/plain; charset=utf-8", Size: int64(len(data)), SHA256: "-", BlobKey: key}
	if err := store.Org(tx, owner.OrgID).Create(&a).Error; err != nil {
		return nil, nil, err
	}
	return map[string]string{"id": strconv.FormatUint(uint64(a.ID), 10)}, nil, nil
}

// Area is the policy area of messages (accounts.Reach): staff reach a
// customer's messages by assignment, or through a policy group whose kind opens
// "messages" (docs/security.md).
const Area = "messages"
