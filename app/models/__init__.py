"""Database models. Field-node tables first; central's come with the sync work."""

from app.models.field import AuditEvent, HscProfile, Resident, Visit

__all__ = ["AuditEvent", "HscProfile", "Resident", "Visit"]
