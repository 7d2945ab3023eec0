package messages

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/store"
)

// MaxBodyLength bounds one message's text.
const MaxBodyLength = 5000

// participant roles may take part in conversations.
var participants = []accounts.Role{accounts.Customer, accounts.Staff, accounts.Admin}

// NewConversation starts a conversation from the messages pages or API.
type NewConversation struct {
	// CustomerID is the customer, when staff or an admin start it (a
	// customer always starts their own).
	CustomerID uint
	// StaffID is whom a customer writes to: one of their assigned staff
	// (0: the first assigned).
	StaffID uint
	// Module is the topic (a module enabled for the organisation, or "").
	Module string
	// Subject is the conversation's title.
	Subject string
	// SubjectType, SubjectID and SubjectTitle name a module object.
	SubjectType, SubjectID, SubjectTitle string
	Body                                 string
	Files                                []Upload

	// fromModule marks a conversation a module opens (Open, OpenFor): its
	// topic is the calling module, which need not be checked against the
	// principal's enabled modules (a job may act with a bare principal).
	fromModule bool
	// group and groupStaff: a conversation OpenInGroup starts, seen by the
	// group's staff side only, addressed to groupStaff.
	group, groupStaff uint
}

// Open starts, or continues, the customer p's conversation about one object
// of a module, inside the module's transaction tx: a module page offers
// "ask about this vehicle" and calls it. The conversation goes to the
// customer's assigned staff; a second Open about the same object adds
// firstMessage to the existing conversation. p must be the customer.
func (s *Service) Open(ctx context.Context, tx *gorm.DB, p *accounts.Principal, module, subjectType, subjectID, subjectTitle, firstMessage string) (*Conversation, error) {
	if p == nil || !p.Is(accounts.Customer) {
		return nil, errs.Forbiddenf("only the customer opens a conversation about their own object; staff use OpenFor")
	}
	return s.OpenFor(ctx, tx, p, p.UserID, module, subjectType, subjectID, subjectTitle, firstMessage)
}

// OpenFor is Open for any participant: a customer about their own object,
// or staff (assigned) and admins about an object of customerID.
func (s *Service) OpenFor(ctx context.Context, tx *gorm.DB, p *accounts.Principal, customerID uint, module, subjectType, subjectID, subjectTitle, firstMessage string) (*Conversation, error) {
	subjectType, subjectID, subjectTitle = strings.TrimSpace(subjectType), strings.TrimSpace(subjectID), strings.TrimSpace(subjectTitle)
	if subjectType == "" || subjectID == "" {
		return nil, errs.Validation("the conversation needs an object", errs.Field("subject_type", "is required"), errs.Field("subject_id", "is required"))
	}
	var conv Conversation
	err := store.Org(tx.WithContext(ctx), p.OrgID).
		Where("customer_id = ? AND module = ? AND subject_type = ? AND subject_id = ?", customerID, module, subjectType, subjectID).
		Order("id").First(&conv).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		subject := subjectTitle
		if subject == "" {
			subject = subjectType + " " + subjectID
		}
		return s.startWith(ctx, tx, p, NewConversation{CustomerID: customerID, Module: module, Subject: subject, SubjectType: subjectType,
			SubjectID: subjectID, SubjectTitle: subjectTitle, Body: firstMessage, fromModule: true}, nil, nil, s.now())
	case err != nil:
		return nil, err
	}
	if err := s.mayAccess(ctx, tx, p, &conv, true); err != nil {
		return nil, err
	}
	if strings.TrimSpace(firstMessage) != "" {
		if _, err := s.send(ctx, tx, p, &conv, firstMessage, s.now()); err != nil {
			return nil, err
		}
	}
	return &conv, nil
}

// Start starts a conversation and sends its first message in one
// transaction.
func (s *Service) Start(ctx context.Context, p *accounts.Principal, in NewConversation) (*Conversation, error) {
	files, err := s.checkUploads(in.Files)
	if err != nil {
		return nil, err
	}
	var conv *Conversation
	err = s.withBlobs(ctx, p.OrgID, files, func(tx *gorm.DB, keys []string) error {
		var err error
		conv, err = s.startWith(ctx, tx, p, in, files, keys, s.now())
		return err
	})
	return conv, err
}

func (s *Service) startWith(ctx context.Context, tx *gorm.DB, p *accounts.Principal, in NewConversation, files []checked, keys []string, now time.Time) (*Conversation, error) {
	if p == nil || !p.Is(participants...) {
		return nil, errs.Forbiddenf("only customers and their staff exchange messages")
	}
	in.Subject = strings.TrimSpace(in.Subject)
	in.Module = strings.TrimSpace(in.Module)
	var fields []errs.FieldError
	if in.Subject == "" || utf8.RuneCountInString(in.Subject) > 200 {
		fields = append(fields, errs.Field("subject", "is required (at most 200 characters)"))
	}
	if in.Module != "" && !in.fromModule && !slices.Contains(p.Modules, in.Module) {
		fields = append(fields, errs.Field("module", "is not a topic of your organisation"))
	}
	if err := checkBody(in.Body, len(files)); err != nil {
		fields = append(fields, *err)
	}
	if len(fields) > 0 {
		return nil, errs.Validation("the message is not valid", fields...)
	}
	db := tx.WithContext(ctx)
	conv := &Conversation{Module: in.Module, Subject: in.Subject, SubjectType: trimTo(in.SubjectType, 40), SubjectID: trimTo(in.SubjectID, 64),
		SubjectTitle: trimTo(in.SubjectTitle, 200), CreatedBy: p.UserID, LastMessageAt: now}
	switch p.Role {
	case accounts.Customer:
		conv.CustomerID = p.UserID
		if in.group != 0 {
			conv.GroupID, conv.StaffID = in.group, in.groupStaff
			break
		}
		staff, err := s.staffFor(db, p.OrgID, p.UserID, in.StaffID)
		if err != nil {
			return nil, err
		}
		conv.StaffID = staff
	default:
		if in.CustomerID == 0 {
			return nil, errs.InvalidField("customer_id", "is required: choose the customer to write to")
		}
		if err := s.canWrite(ctx, db, p, p.OrgID, in.CustomerID); err != nil {
			return nil, errs.InvalidField("customer_id", "is not a customer you look after")
		}
		var cust accounts.User
		if err := store.Org(db, p.OrgID).First(&cust, in.CustomerID).Error; err != nil || cust.Role != accounts.Customer {
			return nil, errs.InvalidField("customer_id", "is not a customer you look after")
		}
		conv.CustomerID = in.CustomerID
		conv.StaffID = p.UserID
	}
	if err := store.Org(db, p.OrgID).Create(conv).Error; err != nil {
		return nil, err
	}
	if err := s.publish(ctx, db, events.Event{Name: EventConversationStarted, OrgID: p.OrgID, ActorID: p.UserID, SubjectID: conv.CustomerID,
		Data:    eventData(conv, fmt.Sprintf("Conversation started: “%s”", conv.Subject)),
		Summary: "Conversation started: “%s”", SummaryArgs: []any{conv.Subject}, Link: conversationLink(conv)}); err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.Body) != "" || len(files) > 0 {
		if _, err := s.sendChecked(ctx, db, p, conv, in.Body, files, keys, now); err != nil {
			return nil, err
		}
	}
	return conv, nil
}

func trimTo(s string, n int) string {
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

func checkBody(body string, files int) *errs.FieldError {
	body = strings.TrimSpace(body)
	if body == "" && files == 0 {
		f := errs.Field("body", "write a message or attach a file")
		return &f
	}
	if utf8.RuneCountInString(body) > MaxBodyLength {
		f := errs.Field("body", fmt.Sprintf("at most %d characters", MaxBodyLength))
		return &f
	}
	return nil
}

// staffFor picks whom a customer writes to: want if it is one of their
// assigned staff, else the first assigned.
func (s *Service) staffFor(db *gorm.DB, orgID, customerID, want uint) (uint, error) {
	var list []accounts.Assignment
	if err := store.Org(db, orgID).Where("customer_id = ?", customerID).Order("id").Find(&list).Error; err != nil {
		return 0, err
	}
	if len(list) == 0 {
		return 0, errs.Conflictf("no one is assigned to look after you yet, so there is no one to write to; please contact your organisation")
	}
	if want == 0 {
		return list[0].StaffID, nil
	}
	for _, a := range list {
		if a.StaffID == want {
			return want, nil
		}
	}
	return 0, errs.InvalidField("staff_id", "is not one of the people who look after you")
}

func conversationLink(c *Conversation) string {
	return "/messages/" + strconv.FormatUint(uint64(c.ID), 10)
}

func eventData(c *Conversation, summary string) map[string]any {
	return map[string]any{"summary": summary, "link": conversationLink(c),
		"conversation_id": c.ID, "module": c.Module, "subject_type": c.SubjectType, "subject_id": c.SubjectID}
}

// conversation loads conversation id for p, or a not-found error when p may
// not read it.
func (s *Service) conversation(ctx context.Context, db *gorm.DB, p *accounts.Principal, id uint) (*Conversation, error) {
	if p == nil || !p.Is(participants...) {
		return nil, errs.NotFoundf("no conversation %d", id)
	}
	var conv Conversation
	err := store.Org(db.WithContext(ctx), p.OrgID).First(&conv, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errs.NotFoundf("no conversation %d", id)
	}
	if err != nil {
		return nil, err
	}
	if err := s.mayAccess(ctx, db, p, &conv, false); err != nil {
		return nil, errs.NotFoundf("no conversation %d", id)
	}
	return &conv, nil
}

// Send adds a message (and attachments) to conversation id.
func (s *Service) Send(ctx context.Context, p *accounts.Principal, id uint, body string, files []Upload) (*Message, error) {
	if _, err := s.conversation(ctx, s.st.DB, p, id); err != nil {
		return nil, err
	}
	checkedFiles, err := s.checkUploads(files)
	if err != nil {
		return nil, err
	}
	if fe := checkBody(body, len(checkedFiles)); fe != nil {
		return nil, errs.Validation("the message is not valid", *fe)
	}
	var msg *Message
	err = s.withBlobs(ctx, p.OrgID, checkedFiles, func(tx *gorm.DB, keys []string) error {
		conv, err := s.conversation(ctx, tx, p, id)
		if err != nil {
			return err
		}
		msg, err = s.sendChecked(ctx, tx, p, conv, body, checkedFiles, keys, s.now())
		return err
	})
	return msg, err
}

// withBlobs stores files, runs fn in a transaction with their keys, and
// removes the files again if the transaction fails.
func (s *Service) withBlobs(ctx context.Context, orgID uint, files []checked, fn func(tx *gorm.DB, keys []string) error) error {
	keys, err := s.storeBlobs(ctx, orgID, files)
	if err != nil {
		return err
	}
	if err := s.st.Tx(ctx, func(tx *gorm.DB) error { return fn(tx, keys) }); err != nil {
		s.removeBlobs(keys)
		return err
	}
	return nil
}

// send adds a text message to conv inside tx, at now.
func (s *Service) send(ctx context.Context, tx *gorm.DB, p *accounts.Principal, conv *Conversation, body string, now time.Time) (*Message, error) {
	if fe := checkBody(body, 0); fe != nil {
		return nil, errs.Validation("the message is not valid", *fe)
	}
	return s.sendChecked(ctx, tx, p, conv, body, nil, nil, now)
}

// canWrite is the messages area's CanWrite (staff who reach the customer
// may write), read through the caller's own transaction db (demo data, a
// module's transaction) so it sees an assignment or membership made there.
func (s *Service) canWrite(ctx context.Context, db *gorm.DB, p *accounts.Principal, orgID, customerID uint) error {
	r := s.acc.Reach(Area)
	if db != nil {
		r = r.WithTx(db)
	}
	return r.CanWrite(ctx, p, orgID, customerID, true)
}

// sendChecked stores a message whose body and files were checked, updates
// the conversation's unanswered state and response times, moves the
// sender's read receipt, notifies the other side and publishes the event.
func (s *Service) sendChecked(ctx context.Context, tx *gorm.DB, p *accounts.Principal, conv *Conversation, body string, files []checked, keys []string, now time.Time) (*Message, error) {
	if err := s.mayAccess(ctx, tx, p, conv, true); err != nil {
		return nil, errs.NotFoundf("no conversation %d", conv.ID)
	}
	db := store.Org(tx.WithContext(ctx), conv.OrgID)
	msg := &Message{ConversationID: conv.ID, SenderID: p.UserID, SenderRole: string(p.Role), Body: strings.TrimSpace(body), CreatedAt: now}
	if err := db.Create(msg).Error; err != nil {
		return nil, err
	}
	for i, f := range files {
		a := Attachment{ConversationID: conv.ID, MessageID: msg.ID, Name: f.name, ContentType: f.contentType, Size: int64(len(f.data)),
			SHA256: f.sha, BlobKey: keys[i], CreatedAt: now}
		if err := db.Create(&a).Error; err != nil {
			return nil, err
		}
	}
	fromCustomer := p.UserID == conv.CustomerID
	upd := map[string]any{"last_message_at": now, "last_sender_id": p.UserID, "message_count": gorm.Expr("message_count + 1"), "updated_at": now}
	var recipient uint
	if fromCustomer {
		if !conv.AwaitingStaff {
			upd["awaiting_staff"], upd["awaiting_since"] = true, now
			conv.AwaitingStaff, conv.AwaitingSince = true, &now
		}
		staff, err := s.recipientStaff(ctx, db, conv)
		if err != nil {
			return nil, err
		}
		if staff != conv.StaffID && staff != 0 {
			upd["staff_id"] = staff
			conv.StaffID = staff
		}
		recipient = staff
	} else {
		if conv.AwaitingStaff && conv.AwaitingSince != nil {
			rt := ResponseTime{ConversationID: conv.ID, StaffID: p.UserID, CustomerID: conv.CustomerID, AskedAt: *conv.AwaitingSince,
				AnsweredAt: now, Seconds: int64(now.Sub(*conv.AwaitingSince).Seconds())}
			if err := db.Create(&rt).Error; err != nil {
				return nil, err
			}
		}
		upd["awaiting_staff"], upd["awaiting_since"] = false, nil
		conv.AwaitingStaff, conv.AwaitingSince = false, nil
		recipient = conv.CustomerID
	}
	if err := db.Model(&Conversation{}).Where("id = ?", conv.ID).Updates(upd).Error; err != nil {
		return nil, err
	}
	conv.LastMessageAt, conv.LastSenderID = now, p.UserID
	conv.MessageCount++
	if err := s.markRead(db, conv.OrgID, conv.ID, p.UserID, msg.ID, now); err != nil {
		return nil, err
	}
	if recipient != 0 && recipient != p.UserID {
		if err := s.notifier.MessageReceived(ctx, tx, conv.OrgID, recipient, conv.ID, preview(msg.Body, len(files))); err != nil {
			return nil, err
		}
	}
	format, args := "%s wrote in “%s”", []any{p.Name, conv.Subject}
	if fromCustomer {
		format, args = "Sent a message in “%s”", []any{conv.Subject}
	}
	data := eventData(conv, fmt.Sprintf(format, args...))
	data["message_id"], data["sender_role"] = msg.ID, msg.SenderRole
	if err := s.publish(ctx, tx, events.Event{Name: EventMessageSent, OrgID: conv.OrgID, ActorID: p.UserID, SubjectID: conv.CustomerID, Data: data,
		Summary: format, SummaryArgs: args, Link: conversationLink(conv)}); err != nil {
		return nil, err
	}
	return msg, nil
}

// recipientStaff is whom a customer's message notifies: the conversation's
// staff member while they are still assigned (or an admin), else the
// first staff member now assigned, else nobody.
func (s *Service) recipientStaff(ctx context.Context, db *gorm.DB, conv *Conversation) (uint, error) {
	if conv.GroupID != 0 {
		return s.groupRecipient(ctx, db, conv)
	}
	if conv.StaffID != 0 {
		var staff accounts.User
		err := db.Session(&gorm.Session{}).First(&staff, conv.StaffID).Error
		if err == nil && staff.Active() {
			if staff.Role == accounts.Admin {
				return staff.ID, nil
			}
			ok, err := s.acc.Reach(Area).WithTx(db).Reaches(ctx, conv.OrgID, conv.StaffID, conv.CustomerID)
			if err != nil {
				return 0, err
			}
			if ok {
				return staff.ID, nil
			}
		} else if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return 0, err
		}
	}
	var a accounts.Assignment
	err := db.Session(&gorm.Session{}).Where("customer_id = ?", conv.CustomerID).Order("id").First(&a).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return 0, nil
	}
	return a.StaffID, err
}

func (s *Service) markRead(db *gorm.DB, orgID, convID, userID, messageID uint, now time.Time) error {
	r := Read{OrgOwned: store.OrgOwned{OrgID: orgID}, ConversationID: convID, UserID: userID, LastReadMessageID: messageID, ReadAt: now}
	return db.Session(&gorm.Session{}).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "conversation_id"}, {Name: "user_id"}},
		DoUpdates: clause.Assignments(map[string]any{
			"last_read_message_id": gorm.Expr("CASE WHEN messages_reads.last_read_message_id > ? THEN messages_reads.last_read_message_id ELSE ? END", messageID, messageID),
			"read_at":              now,
		}),
	}).Create(&r).Error
}

// MarkRead records that p has read conversation id up to its latest
// message (their read receipt).
func (s *Service) MarkRead(ctx context.Context, p *accounts.Principal, id uint) error {
	return s.st.Tx(ctx, func(tx *gorm.DB) error {
		conv, err := s.conversation(ctx, tx, p, id)
		if err != nil {
			return err
		}
		var last uint
		if err := store.Org(tx, conv.OrgID).Model(&Message{}).Where("conversation_id = ?", conv.ID).Select("COALESCE(MAX(id), 0)").Scan(&last).Error; err != nil {
			return err
		}
		if last == 0 {
			return nil
		}
		return s.markRead(store.Org(tx, conv.OrgID), conv.OrgID, conv.ID, p.UserID, last, s.now())
	})
}

// Person is a participant as pages and the API show them.
type Person struct {
	ID   uint   `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
}

// MessageView is a message with its attachments and who has read it.
type MessageView struct {
	Message
	Sender      Person       `json:"sender"`
	Attachments []Attachment `json:"attachments"`
	// ReadBy are the other participants whose read receipt is at or past
	// this message.
	ReadBy []Person `json:"read_by"`
	Mine   bool     `json:"mine"`
}

// ReadByNames lists the names of those who have read the message.
func (v MessageView) ReadByNames() []string {
	out := make([]string, 0, len(v.ReadBy))
	for _, p := range v.ReadBy {
		out = append(out, p.Name)
	}
	return out
}

// Thread is a conversation with its messages, for one viewer.
type Thread struct {
	Conversation Conversation  `json:"conversation"`
	Customer     Person        `json:"customer"`
	Staff        Person        `json:"staff"`
	Messages     []MessageView `json:"messages"`
	Reads        []Read        `json:"reads"`
}

// Thread returns conversation id with its messages as p sees it.
func (s *Service) Thread(ctx context.Context, p *accounts.Principal, id uint) (*Thread, error) {
	db := s.st.DB.WithContext(ctx)
	conv, err := s.conversation(ctx, db, p, id)
	if err != nil {
		return nil, err
	}
	org := store.Org(db, conv.OrgID)
	var msgs []Message
	if err := org.Where("conversation_id = ?", conv.ID).Order("id").Find(&msgs).Error; err != nil {
		return nil, err
	}
	var atts []Attachment
	if err := org.Where("conversation_id = ?", conv.ID).Order("id").Find(&atts).Error; err != nil {
		return nil, err
	}
	var reads []Read
	if err := org.Where("conversation_id = ?", conv.ID).Order("user_id").Find(&reads).Error; err != nil {
		return nil, err
	}
	ids := []uint{conv.CustomerID, conv.StaffID}
	for _, m := range msgs {
		ids = append(ids, m.SenderID)
	}
	for _, r := range reads {
		ids = append(ids, r.UserID)
	}
	people, err := s.people(ctx, conv.OrgID, ids)
	if err != nil {
		return nil, err
	}
	byMsg := map[uint][]Attachment{}
	for _, a := range atts {
		byMsg[a.MessageID] = append(byMsg[a.MessageID], a)
	}
	t := &Thread{Conversation: *conv, Customer: people[conv.CustomerID], Staff: people[conv.StaffID], Reads: reads}
	if t.Reads == nil {
		t.Reads = []Read{}
	}
	for _, m := range msgs {
		v := MessageView{Message: m, Sender: people[m.SenderID], Attachments: byMsg[m.ID], ReadBy: []Person{}, Mine: m.SenderID == p.UserID}
		if v.Attachments == nil {
			v.Attachments = []Attachment{}
		}
		for _, r := range reads {
			if r.UserID != m.SenderID && r.LastReadMessageID >= m.ID {
				v.ReadBy = append(v.ReadBy, people[r.UserID])
			}
		}
		t.Messages = append(t.Messages, v)
	}
	if t.Messages == nil {
		t.Messages = []MessageView{}
	}
	return t, nil
}

// people loads the names of users of org.
func (s *Service) people(ctx context.Context, orgID uint, ids []uint) (map[uint]Person, error) {
	out := map[uint]Person{}
	var users []accounts.User
	if err := store.Org(s.st.DB.WithContext(ctx), orgID).Where("id IN ?", uniq(ids)).Find(&users).Error; err != nil {
		return nil, err
	}
	for _, u := range users {
		out[u.ID] = Person{ID: u.ID, Name: u.Name, Role: string(u.Role)}
	}
	return out, nil
}

func uniq(ids []uint) []uint {
	seen := map[uint]bool{}
	out := []uint{0}
	for _, id := range ids {
		if id != 0 && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// InboxFilter narrows an inbox.
type InboxFilter struct {
	// Unanswered keeps only conversations waiting for a staff answer.
	Unanswered bool
	Page, Size int
}

// InboxItem is one conversation in an inbox.
type InboxItem struct {
	Conversation
	Customer Person `json:"customer"`
	Staff    Person `json:"staff"`
	// Unread counts the messages of others after the viewer's read receipt.
	Unread int64 `json:"unread"`
}

// Inbox lists the conversations p may read: a customer's own; for staff,
// those of the customers assigned to them; for admins, all of the
// organisation. Staff and admins get unanswered conversations first (the
// longest waiting at the top), then the rest by latest message; customers
// get theirs by latest message.
func (s *Service) Inbox(ctx context.Context, p *accounts.Principal, f InboxFilter) ([]InboxItem, int64, error) {
	if p == nil || !p.Is(participants...) {
		return nil, 0, errs.Forbiddenf("only customers and their staff exchange messages")
	}
	db, err := s.whereVisible(ctx, p, store.Org(s.st.DB.WithContext(ctx), p.OrgID).Model(&Conversation{}))
	if err != nil {
		return nil, 0, err
	}
	if f.Unanswered {
		db = db.Where("awaiting_staff = ?", true)
	}
	var total int64
	if err := db.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, 0, err
	}
	if f.Size <= 0 || f.Size > 200 {
		f.Size = 50
	}
	if f.Page < 1 {
		f.Page = 1
	}
	order := "last_message_at DESC, id DESC"
	if !p.Is(accounts.Customer) {
		order = "awaiting_staff DESC, CASE WHEN awaiting_staff THEN awaiting_since END ASC, last_message_at DESC, id DESC"
	}
	var rows []Conversation
	if err := db.Session(&gorm.Session{}).Order(order).Offset((f.Page - 1) * f.Size).Limit(f.Size).Find(&rows).Error; err != nil {
		return nil, 0, err
	}
	unread, err := s.unread(ctx, p, rows)
	if err != nil {
		return nil, 0, err
	}
	var pids []uint
	for _, r := range rows {
		pids = append(pids, r.CustomerID, r.StaffID)
	}
	people, err := s.people(ctx, p.OrgID, pids)
	if err != nil {
		return nil, 0, err
	}
	out := make([]InboxItem, 0, len(rows))
	for _, r := range rows {
		out = append(out, InboxItem{Conversation: r, Customer: people[r.CustomerID], Staff: people[r.StaffID], Unread: unread[r.ID]})
	}
	return out, total, nil
}

// unread counts, for the conversations of one inbox page, the messages of
// others after p's read receipt.
func (s *Service) unread(ctx context.Context, p *accounts.Principal, convs []Conversation) (map[uint]int64, error) {
	out := map[uint]int64{}
	if len(convs) == 0 {
		return out, nil
	}
	ids := make([]uint, len(convs))
	for i, c := range convs {
		ids[i] = c.ID
	}
	// Raw SQL names its organisation itself.
	rows, err := s.st.DB.WithContext(ctx).Raw(`SELECT m.conversation_id, COUNT(*) FROM messages_messages m
LEFT JOIN messages_reads r ON r.conversation_id = m.conversation_id AND r.user_id = ?
WHERE m.org_id = ? AND m.conversation_id IN ? AND m.sender_id <> ? AND m.id > COALESCE(r.last_read_message_id, 0)
GROUP BY m.conversation_id`, p.UserID, p.OrgID, ids, p.UserID).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id uint
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

// StaffFigure is one staff member's response times.
type StaffFigure struct {
	Staff Person `json:"staff"`
	// Median is the median first-response time.
	Median time.Duration `json:"-"`
	// MedianSeconds is Median in seconds, for the API.
	MedianSeconds int64 `json:"median_seconds"`
	// Answered is how many waiting customers were answered.
	Answered int64 `json:"answered"`
}

// ResponseTimes returns the median first-response time per staff member
// over the answers given since since: staff see their own, admins every
// staff member of the organisation.
func (s *Service) ResponseTimes(ctx context.Context, p *accounts.Principal, since time.Time) ([]StaffFigure, error) {
	if !p.Is(accounts.Staff, accounts.Admin) {
		return nil, errs.Forbiddenf("response times are for staff")
	}
	db := store.Org(s.st.DB.WithContext(ctx), p.OrgID).Where("answered_at >= ?", since)
	if p.Is(accounts.Staff) {
		db = db.Where("staff_id = ?", p.UserID)
	}
	var rows []ResponseTime
	if err := db.Order("staff_id, seconds").Find(&rows).Error; err != nil {
		return nil, err
	}
	samples := map[uint][]int64{}
	var ids []uint
	for _, r := range rows {
		if _, ok := samples[r.StaffID]; !ok {
			ids = append(ids, r.StaffID)
		}
		samples[r.StaffID] = append(samples[r.StaffID], r.Seconds)
	}
	people, err := s.people(ctx, p.OrgID, ids)
	if err != nil {
		return nil, err
	}
	out := make([]StaffFigure, 0, len(ids))
	for _, id := range ids {
		m := Median(samples[id])
		out = append(out, StaffFigure{Staff: people[id], Median: time.Duration(m * float64(time.Second)), MedianSeconds: int64(m + 0.5), Answered: int64(len(samples[id]))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Staff.Name < out[j].Staff.Name })
	return out, nil
}

// Median returns the median of xs (the mean of the two middle values for
// an even count; 0 for none).
func Median(xs []int64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return float64(s[n/2])
	}
	return float64(s[n/2-1]+s[n/2]) / 2
}

// Attachment returns attachment id and its bytes, for those who may read
// its conversation.
func (s *Service) Attachment(ctx context.Context, p *accounts.Principal, id uint) (*Attachment, io.ReadCloser, error) {
	if p == nil || !p.Is(participants...) {
		return nil, nil, errs.NotFoundf("no attachment %d", id)
	}
	var a Attachment
	err := store.Org(s.st.DB.WithContext(ctx), p.OrgID).First(&a, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil, errs.NotFoundf("no attachment %d", id)
	}
	if err != nil {
		return nil, nil, err
	}
	if _, err := s.conversation(ctx, s.st.DB, p, a.ConversationID); err != nil {
		return nil, nil, errs.NotFoundf("no attachment %d", id)
	}
	rc, err := s.blobs.Open(ctx, a.BlobKey)
	if err != nil {
		return nil, nil, fmt.Errorf("messages: attachment %d: %w", id, err)
	}
	return &a, rc, nil
}
