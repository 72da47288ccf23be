"""All models, grouped by domain. Import from here."""

from engage.models.audit import AuditEvent
from engage.models.base import Base, utcnow
from engage.models.joining import CodePurpose, ReferralCode, SignupConversation, VerificationCode
from engage.models.members import (
    ConsentAction,
    ConsentChannel,
    ConsentEvent,
    Member,
    MemberSource,
    SmsStatus,
)
from engage.models.messaging import (
    FINAL_STATUSES,
    BulkMessage,
    CommitteeMembership,
    Conversation,
    InboundMessage,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    RosterRole,
    RosterStatus,
    SmsOptOut,
    SmsSender,
)
from engage.models.plans import Committee, Organisation, Plan
from engage.models.staff import Role, StaffUser

__all__ = [
    "CodePurpose",
    "ReferralCode",
    "SignupConversation",
    "VerificationCode",
    "FINAL_STATUSES",
    "BulkMessage",
    "CommitteeMembership",
    "Conversation",
    "InboundMessage",
    "OutboxKind",
    "OutboxMessage",
    "OutboxStatus",
    "RosterRole",
    "RosterStatus",
    "SmsOptOut",
    "SmsSender",
    "AuditEvent",
    "Base",
    "Committee",
    "ConsentAction",
    "ConsentChannel",
    "ConsentEvent",
    "Member",
    "MemberSource",
    "Organisation",
    "Plan",
    "Role",
    "SmsStatus",
    "StaffUser",
    "utcnow",
]
