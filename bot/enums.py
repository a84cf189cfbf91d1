"""The closed vocabularies of the domain: case statuses, staff roles, channels, case event kinds.

StrEnum members are the strings stored in the database and in the YAML rules, so a member compares
equal to its value ("ejecutivo" == Role.EJECUTIVO) and rows written before these enums existed read
the same. A misspelt status is now a NameError at import instead of a case that never shows up.
"""
from __future__ import annotations

from enum import StrEnum


class CaseStatus(StrEnum):
    ABIERTO = "abierto"
    PENDIENTE_REQUISITOS = "pendiente_requisitos"  # waiting for documents from the client
    EN_PROCESO = "en_proceso"
    REABIERTO = "reabierto"  # the client said "no" to the quality check: back to the ejecutivo(a)
    RESUELTO = "resuelto"  # staff resolved it; the quality check follows
    CONCLUIDO = "concluido"
    CERRADO = "cerrado"  # the client confirmed "sí" to the quality check
    SIN_FACTIBILIDAD = "sin_factibilidad"
    NO_PROCEDE = "no_procede"  # the rules refused it (e.g. a second suspension in the year)
    ANULADO = "anulado"  # the client withdrew it before it was attended


# Work still to do: the queue and the indicators' open count.
OPEN_STATUSES: tuple[CaseStatus, ...] = (CaseStatus.ABIERTO, CaseStatus.PENDIENTE_REQUISITOS,
                                         CaseStatus.EN_PROCESO, CaseStatus.REABIERTO)
# What the indicators count as attended.
RESOLVED_STATUSES: tuple[CaseStatus, ...] = (CaseStatus.RESUELTO, CaseStatus.CONCLUIDO, CaseStatus.CERRADO,
                                             CaseStatus.SIN_FACTIBILIDAD)


class Role(StrEnum):
    EJECUTIVO = "ejecutivo"
    GESTOR_COMERCIAL = "gestor_comercial"
    GESTOR_TECNICO = "gestor_tecnico"
    ANALISTA_TECNICO = "analista_tecnico"
    RESPONSABLE = "responsable"


class ChannelName(StrEnum):
    WHATSAPP = "whatsapp"
    EMAIL = "email"
    CONSOLE = "console"


class EventKind(StrEnum):
    """What a case's append-only log records (templates/backoffice/_events.html words them)."""

    OPENED = "opened"
    RULE = "rule"  # a business rule's decision: rule code + facts
    DERIVED = "derived"
    ASSIGNED = "assigned"
    NOTE = "note"
    REPLIED = "replied"
    TAKEN_OVER = "taken_over"
    HANDED_BACK = "handed_back"
    REQUIREMENT_RECEIVED = "requirement_received"
    DOCUMENT_ADDED = "document_added"
    SMARTFLEX = "smartflex"
    ENGINEERING_SERVICE = "engineering_service"
    NO_FEASIBILITY = "no_feasibility"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    VISIT_SCHEDULED = "visit_scheduled"
    VISIT_CANCELLED = "visit_cancelled"
    QUALITY_CHECK_SENT = "quality_check_sent"
    QUALITY_OK = "quality_ok"
    QUALITY_FAILED = "quality_failed"
    QUALITY_NO_ANSWER = "quality_no_answer"
    MESSAGE_FAILED = "message_failed"
    EMAIL_BOUNCED = "email_bounced"
    WITHDRAWN = "withdrawn"  # the client withdrew the case
