package messages

import (
	"time"

	"github.com/portalkit/portalkit/core/store"
)

// Conversation is a private thread between one customer and the staff who
// look after them, on one topic, optionally about one object of a module.
type Conversation struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	CustomerID uint `gorm:"not null;index" json:"customer_id"`
	// StaffID is the staff member the conversation is addressed to (they
	// are notified); every staff member assigned to the customer may read
	// and answer it.
	StaffID uint `gorm:"not null;index" json:"staff_id"`
	// GroupID, when not 0, is the policy group (core/accounts) the
	// conversation belongs to (OpenInGroup): the group's staff side reads
	// and answers it, and no other staff member, whoever else reaches the
	// customer (a course's professors and TAs, not those of the student's
	// other courses).
	GroupID uint `gorm:"not null;default:0;index" json:"group_id,omitempty"`
	// Module is the topic: the ID of the module the conversation is about,
	// "" for a general question.
	Module  string `gorm:"size:32;not null;default:''" json:"module"`
	Subject string `gorm:"size:200;not null" json:"subject"`
	// SubjectType, SubjectID and SubjectTitle name the module's object the
	// conversation is about ("vehicle", "42", "Fiat Panda AB123CD").
	SubjectType  string `gorm:"size:40;not null;default:''" json:"subject_type,omitempty"`
	SubjectID    string `gorm:"size:64;not null;default:''" json:"subject_id,omitempty"`
	SubjectTitle string `gorm:"size:200;not null;default:''" json:"subject_title,omitempty"`
	// AwaitingStaff is true while the customer's last message has no
	// answer; AwaitingSince is when the unanswered run began.
	AwaitingStaff bool       `gorm:"not null;default:false" json:"awaiting_staff"`
	AwaitingSince *time.Time `json:"awaiting_since,omitempty"`
	LastMessageAt time.Time  `gorm:"not null;index" json:"last_message_at"`
	LastSenderID  uint       `gorm:"not null;default:0" json:"last_sender_id"`
	MessageCount  int        `gorm:"not null;default:0" json:"message_count"`
	CreatedBy     uint       `gorm:"not null" json:"created_by"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// TableName keeps the table in the messages namespace.
func (Conversation) TableName() string { return "messages_conversations" }

// Message is one message of a conversation.
type Message struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	ConversationID uint      `gorm:"not null;index" json:"conversation_id"`
	SenderID       uint      `gorm:"not null" json:"sender_id"`
	SenderRole     string    `gorm:"size:20;not null" json:"sender_role"`
	Body           string    `gorm:"type:text;not null" json:"body"`
	CreatedAt      time.Time `gorm:"not null" json:"created_at"`
}

// TableName keeps the table in the messages namespace.
func (Message) TableName() string { return "messages_messages" }

// Attachment is a file sent with a message. The bytes live in the blob
// store under BlobKey; ContentType is what sniffing the bytes found.
type Attachment struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	ConversationID uint      `gorm:"not null;index" json:"conversation_id"`
	MessageID      uint      `gorm:"not null;index" json:"message_id"`
	Name           string    `gorm:"size:200;not null" json:"name"`
	ContentType    string    `gorm:"size:120;not null" json:"content_type"`
	Size           int64     `gorm:"not null" json:"size"`
	SHA256         string    `gorm:"column:sha256;size:64;not null" json:"sha256"`
	BlobKey        string    `gorm:"size:120;not null;uniqueIndex" json:"-"`
	CreatedAt      time.Time `json:"created_at"`
}

// TableName keeps the table in the messages namespace.
func (Attachment) TableName() string { return "messages_attachments" }

// Read is how far one participant has read a conversation (read receipts).
type Read struct {
	ID uint `gorm:"primaryKey" json:"-"`
	store.OrgOwned
	ConversationID    uint      `gorm:"not null" json:"-"`
	UserID            uint      `gorm:"not null" json:"user_id"`
	LastReadMessageID uint      `gorm:"not null" json:"last_read_message_id"`
	ReadAt            time.Time `gorm:"not null" json:"read_at"`
}

// TableName keeps the table in the messages namespace.
func (Read) TableName() string { return "messages_reads" }

// ResponseTime records how long a customer waited for a staff answer: from
// the first unanswered customer message to the first staff message after
// it. The inbox's response-time figures are medians of these.
type ResponseTime struct {
	ID uint `gorm:"primaryKey"`
	store.OrgOwned
	ConversationID uint      `gorm:"not null;index"`
	StaffID        uint      `gorm:"not null;index"`
	CustomerID     uint      `gorm:"not null"`
	AskedAt        time.Time `gorm:"not null"`
	AnsweredAt     time.Time `gorm:"not null;index"`
	Seconds        int64     `gorm:"not null"`
}

// TableName keeps the table in the messages namespace.
func (ResponseTime) TableName() string { return "messages_response_times" }
