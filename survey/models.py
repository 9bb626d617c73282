"""Database tables (SQLModel). Every schema change goes through an Alembic migration.

Nothing here may hold a register row in clear: the draw keeps aggregate counts and the
drawn roster, and each roster unit's personal columns are one secretbox ciphertext.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel


class Study(SQLModel, table=True):
    __tablename__ = "study"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=32, unique=True)
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_on: date


class SeedCommitment(SQLModel, table=True):
    """A seed fixed (and its SHA-256 published) before the register is drawn from.

    With the register the seed rebuilds the sample, so it is personal data: it is stored only
    as a secretbox under the study's roster key and goes when that key is destroyed. Its
    SHA-256, the commitment, is what is published.
    """

    __tablename__ = "seed_commitment"

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(foreign_key="study.id", index=True)
    # None once erased (migration 0014): the commitment, seed_sha256, stays.
    seed_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    seed_sha256: str = Field(max_length=64)
    created_on: date
    used: bool = False


class Draw(SQLModel, table=True):
    """The one sample draw of a study, with everything needed to re-run and verify it.

    The seed is sealed under the roster key like the roster itself (see SeedCommitment):
    once that key is destroyed the draw can no longer be re-run, by anyone. Every draw has
    both seed columns; they are nullable only because SQLite cannot make a column of a
    referenced table NOT NULL in place (migration 0008). A missing seed reads as erased.
    """

    __tablename__ = "draw"

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(foreign_key="study.id", unique=True)
    seed_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    seed_sha256: str | None = Field(default=None, max_length=64)
    committed: bool = False
    register_sha256: str = Field(max_length=64)
    register_rows: int
    as_of: date
    allocation: dict[str, int] = Field(sa_column=Column(JSON, nullable=False))
    settings: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    code_version: str = Field(max_length=64)
    algorithm: str = Field(max_length=64)
    selection_sha256: str = Field(max_length=64)
    frame: dict[str, int] = Field(sa_column=Column(JSON, nullable=False))
    removed: dict[str, int] = Field(sa_column=Column(JSON, nullable=False))
    sample: dict[str, int] = Field(sa_column=Column(JSON, nullable=False))
    no_frame: int
    # Guardian households per type: {"cohort", "members": {earlier cohort: count},
    # "households", "removed"} (survey.sampling.households). Aggregate counts only, never a
    # household. None: drawn before 0.x recorded it (migration 0011).
    household_types: list[dict[str, Any]] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )
    drawn_on: date


class FrameCount(SQLModel, table=True):
    """Aggregate frame counts: the only trace of undrawn residents the system keeps.

    ``units`` is the cell's count in the full frame (N_h), ``removed`` how many of them
    earlier draws took out (m_h); the sampled frame N'_h is their difference.
    """

    __tablename__ = "frame_count"
    __table_args__ = (
        UniqueConstraint("draw_id", "cohort", "sex", "age_band", "district", name="uq_frame_cell"),
    )

    id: int | None = Field(default=None, primary_key=True)
    draw_id: int = Field(foreign_key="draw.id", index=True)
    cohort: str = Field(max_length=32)
    sex: str = Field(max_length=8)
    age_band: str = Field(max_length=16)
    district: str = Field(max_length=64)
    units: int
    removed: int


class RosterUnit(SQLModel, table=True):
    """One drawn unit. Only the random id and the cohort are in clear."""

    __tablename__ = "roster_unit"

    id: str = Field(primary_key=True, max_length=32)
    draw_id: int = Field(foreign_key="draw.id", index=True)
    cohort: str = Field(max_length=32)
    sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class StudyKey(SQLModel, table=True):
    """The study's public key (answers are sealed to it). The private key is never stored."""

    __tablename__ = "study_key"

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(foreign_key="study.id", unique=True)
    public_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    fingerprint: str = Field(max_length=64)
    installed_on: date


class AccessCode(SQLModel, table=True):
    """A one-time access code, stored only as its keyed hash, with its cohort and a used flag.

    Deliberately no time of use and no link to a roster unit. On SQLite the table has no rowid,
    so its physical order is the order of the random hashes, not of insertion.
    """

    __tablename__ = "access_code"
    __table_args__ = {"sqlite_with_rowid": False}

    hash: bytes = Field(sa_column=Column(LargeBinary(32), primary_key=True))
    study_id: int = Field(foreign_key="study.id", index=True)
    cohort: str = Field(max_length=32)
    used: bool = False
    # How it was used: "web" (a bundle reported it) or "paper" (a returned sheet); no time.
    channel: str | None = Field(default=None, max_length=8)


class TrackedFile(SQLModel, table=True):
    """A file the system wrote that holds personal data or plaintext codes, for erasure."""

    __tablename__ = "tracked_file"

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(foreign_key="study.id", index=True)
    kind: str = Field(max_length=32)
    path: str = Field(max_length=1024)
    size: int
    sha256: str = Field(max_length=64)
    created_on: date


class FormVersion(SQLModel, table=True):
    """A form version a study's codes open: frozen from the moment codes exist."""

    __tablename__ = "form_version"
    __table_args__ = (UniqueConstraint("study_id", "form_id", "version", name="uq_form_version"),)

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(foreign_key="study.id", index=True)
    form_id: str = Field(max_length=32)
    version: int
    cohort: str = Field(max_length=32)
    sha256: str = Field(max_length=64)
    frozen_on: date


class CodeBatch(SQLModel, table=True):
    """One run of ``survey codes``: how many codes per cohort (never which)."""

    __tablename__ = "code_batch"
    __table_args__ = (UniqueConstraint("study_id", "batch", name="uq_code_batch"),)

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(foreign_key="study.id", index=True)
    batch: int
    counts: dict[str, int] = Field(sa_column=Column(JSON, nullable=False))
    issued_on: date


class SealedResponse(SQLModel, table=True):
    """A web answer the office holds, as a bundle carried it: sealed bytes and the day.

    The id is the collector's random UUIDv4 and, on SQLite, the table has no rowid: physical
    order follows the random ids, not arrival. No time finer than the day (Asia/Tokyo).
    """

    __tablename__ = "sealed_response"
    __table_args__ = {"sqlite_with_rowid": False}

    id: str = Field(primary_key=True, max_length=32)
    study_id: int = Field(foreign_key="study.id", index=True)
    cohort: str = Field(max_length=32)
    form_id: str = Field(max_length=32)
    version: int
    day: date
    sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # Unique: the same sealed bytes cannot be stored twice (a replay).
    sealed_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False, unique=True))
    # Before the collector had tables of its own (0.1.0) this held its export sequence.
    bundle: int | None = Field(default=None, index=True)
    # The import that brought it (None: stored by a pre-0.2 one-process collector).
    import_id: int | None = Field(default=None, foreign_key="bundle_import.id", index=True)
    # Decrypted into a response or quarantined: never opened twice.
    opened: bool = False


class BundleImport(SQLModel, table=True):
    """A bundle the office imported: its place in its collector's chain, and what it held."""

    __tablename__ = "bundle_import"
    __table_args__ = (
        UniqueConstraint("study_id", "collector_key", "sequence", name="uq_bundle_import_seq"),
    )

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(foreign_key="study.id", index=True)
    collector_key: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    sequence: int
    sha256: str = Field(max_length=64)
    previous: str = Field(max_length=64)
    records: int  # in the bundle
    added: int  # new to the office (one-process mode already holds some)
    format: int = 1  # bundle format: v1 bundles carry no consumed codes
    consumed: int = 0  # codes the bundle reported used on the web
    imported_on: date


class BundleExport(SQLModel, table=True):
    """Legacy (0.1.0): bundles a collector wrote when it shared the office's tables."""

    __tablename__ = "bundle_export"
    __table_args__ = (UniqueConstraint("study_id", "sequence", name="uq_bundle_sequence"),)

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(foreign_key="study.id", index=True)
    sequence: int
    sha256: str = Field(max_length=64)
    previous: str = Field(max_length=64)
    records: int
    created_on: date


class TrustedCollector(SQLModel, table=True):
    """A collector's bundle-signing public key the office accepts bundles from."""

    __tablename__ = "trusted_collector"
    __table_args__ = (UniqueConstraint("study_id", "public_key", name="uq_trusted_collector"),)

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(foreign_key="study.id", index=True)
    public_key: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    fingerprint: str = Field(max_length=64)
    trusted_on: date


class StaffUser(SQLModel, table=True):
    """A staff account of the office app. Passwords are Argon2id hashes (libsodium's format)."""

    __tablename__ = "staff_user"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=32, unique=True)
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    password_hash: str = Field(max_length=256)
    disabled: bool = False
    failed_logins: int = 0
    locked_until: datetime | None = None
    # Set when someone else chose the password (creation, reset): the user must choose their
    # own at the next login, and the key made then replaces the provisional one.
    must_change: bool = False
    # Who created the account and who last reset its password (None: the command line without
    # --user). Neither may confirm the user's signing key: each could have done the user's
    # "own" first password change.
    created_by: int | None = Field(default=None, foreign_key="staff_user.id")
    reset_by: int | None = Field(default=None, foreign_key="staff_user.id")
    created_on: date


class StaffKey(SQLModel, table=True):
    """A staff member's Ed25519 signing key; the private half wrapped under their password.

    The wrapping key is derived from the password with its own random salt (never the login
    hash's salt). Retired keys keep their public half. No key may sign an erasure until a
    manager other than its holder, its account's creator and its last resetter has confirmed
    its fingerprint (survey.staff_keys).
    """

    __tablename__ = "staff_key"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="staff_user.id", index=True)
    public_key: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    fingerprint: str = Field(max_length=64)
    wrapped: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    salt: bytes = Field(sa_column=Column(LargeBinary(16), nullable=False))
    opslimit: int
    memlimit: int
    active: bool = True
    confirmed: bool = False
    confirmed_by: int | None = Field(default=None, foreign_key="staff_user.id")
    confirmed_at: datetime | None = None
    # Confirmed by the installation's one key ceremony (the first manager; no confirmer).
    bootstrap: bool = False
    created_on: date


class StaffSession(SQLModel, table=True):
    """A server-side office session. The id is the SHA-256 of the cookie's token."""

    __tablename__ = "staff_session"

    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="staff_user.id", index=True)
    csrf: str = Field(max_length=64)
    created_at: datetime
    last_seen: datetime


class StaffLoginToken(SQLModel, table=True):
    """A pre-login token issued with the login form (the id is its SHA-256), valid until
    ``expires_at`` and consumed by the one attempt it was issued for. Kept in the database,
    not in the client: several workers share it and the client cannot choose its value."""

    __tablename__ = "staff_login_token"

    id: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = Field(index=True)


class AuditEntry(SQLModel, table=True):
    """One entry of the append-only, hash-chained audit log (triggers refuse changes)."""

    __tablename__ = "audit_entry"

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime
    actor: str = Field(max_length=80)
    action: str = Field(max_length=64, index=True)
    object: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    prev: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)
    # The rule ``hash`` was computed by (survey.audit.HASH_RULES). Entries from before
    # migration 0007 are 1 and keep verifying by it; append() writes the current rule.
    hash_version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})


class Response(SQLModel, table=True):
    """An accepted response: one row of the dataset, whatever its channel.

    The id is random and new: neither the sealed record's id nor a receipt number, so nothing
    links a row back to a bundle, an arrival day or an envelope. Only the ISO week is kept.
    ``answers`` holds every variable of the form as validated (missing codes included); a
    free-text variable holds only whether it was answered (1) or its missing code, the text
    itself is in :class:`FreeText`. ``derived`` holds the form's derived variables.
    """

    __tablename__ = "response"
    __table_args__ = {"sqlite_with_rowid": False}

    id: str = Field(primary_key=True, max_length=32)
    study_id: int = Field(foreign_key="study.id", index=True)
    cohort: str = Field(max_length=32)
    channel: str = Field(max_length=8)  # "web" or "paper"
    form_id: str = Field(max_length=32)
    version: int
    week: str = Field(max_length=8)  # ISO week, e.g. 2026-W23
    answers: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    derived: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class FreeText(SQLModel, table=True):
    """A free-text answer, apart from the dataset: only the analyst reads it, no table or
    export carries it (invariant 6)."""

    __tablename__ = "free_text"

    id: int | None = Field(default=None, primary_key=True)
    response_id: str = Field(foreign_key="response.id", index=True, max_length=32)
    variable: str = Field(max_length=32)
    text: str


class OpinionCategory(SQLModel, table=True):
    """A category free-text answers are coded into, defined per study by the analyst."""

    __tablename__ = "opinion_category"
    __table_args__ = (UniqueConstraint("study_id", "name", name="uq_opinion_category_name"),)

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(foreign_key="study.id", index=True)
    name: str = Field(max_length=64)


class OpinionCoding(SQLModel, table=True):
    """The analyst's coding of one free-text answer: its categories, a redacted version kept
    beside the original (only the redacted one may be published) and the approval."""

    __tablename__ = "opinion_coding"

    id: int | None = Field(default=None, primary_key=True)
    free_text_id: int = Field(foreign_key="free_text.id", unique=True)
    categories: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    redacted: str | None = None
    coded_by: str = Field(max_length=64)
    approved_by: str | None = Field(default=None, max_length=64)  # None: not publishable


class EditLog(SQLModel, table=True):
    """A value the validation changed (e.g. an out-of-range answer made −8): never silent."""

    __tablename__ = "edit_log"

    id: int | None = Field(default=None, primary_key=True)
    response_id: str = Field(foreign_key="response.id", index=True, max_length=32)
    variable: str = Field(max_length=32)
    value: int  # the code stored instead
    reason: str = Field(max_length=200)


class Quarantine(SQLModel, table=True):
    """A sealed answer that could not be accepted, with its reason; never dropped."""

    __tablename__ = "quarantine"

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(foreign_key="study.id", index=True)
    sealed_id: str = Field(foreign_key="sealed_response.id", unique=True, max_length=32)
    cohort: str = Field(max_length=32)
    form_id: str = Field(max_length=32)
    version: int
    reason: str = Field(max_length=32)
    detail: str = Field(default="", max_length=400)  # ids and counts, never an answer
    found_on: date


class DatasetBuild(SQLModel, table=True):
    """A build of the dataset: its size and digest (an export writes exactly this build)."""

    __tablename__ = "dataset_build"

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(foreign_key="study.id", index=True)
    rows: int
    counts: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    columns: int
    sha256: str = Field(max_length=64)
    built_on: date


class ErasureRequest(SQLModel, table=True):
    """A request to erase one scope of a study's data, with its inventory (survey.erasure).

    The id is random (it is in every signed message). The inventory is fixed when the request
    is made: if what it lists changes, the request can no longer be signed or executed.
    """

    __tablename__ = "erasure_request"

    id: str = Field(primary_key=True, max_length=32)
    study_id: int = Field(foreign_key="study.id", index=True)
    scope: str = Field(max_length=32)
    requested_by: int = Field(foreign_key="staff_user.id")
    requested_at: datetime
    inventory: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    inventory_sha256: str = Field(max_length=64)
    # requested, executing (destruction begun: a repeated execute resumes it), executed,
    # confirmed
    status: str = Field(default="requested", max_length=16)
    executed_by: int | None = Field(default=None, foreign_key="staff_user.id")
    executed_at: datetime | None = None
    # The certificates, exactly as written (RFC 8785 bytes): performed-by, then verified-by.
    certificate: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    confirmed_certificate: bytes | None = Field(
        default=None, sa_column=Column(LargeBinary, nullable=True)
    )
    confirmed_by: int | None = Field(default=None, foreign_key="staff_user.id")
    confirmed_at: datetime | None = None


class ErasureSignature(SQLModel, table=True):
    """An officer's or a manager's signature over an erasure request's inventory."""

    __tablename__ = "erasure_signature"
    __table_args__ = (UniqueConstraint("request_id", "role", name="uq_erasure_signature_role"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: str = Field(foreign_key="erasure_request.id", index=True, max_length=32)
    role: str = Field(max_length=16)
    user_id: int = Field(foreign_key="staff_user.id")
    key_id: int = Field(foreign_key="staff_key.id")
    inventory_sha256: str = Field(max_length=64)
    signature: bytes = Field(sa_column=Column(LargeBinary(64), nullable=False))
    signed_at: datetime


class PaperReceipt(SQLModel, table=True):
    """A returned envelope, logged on arrival (受付): one sheet, a blank return, or mail that
    never reached anyone (with its reason), per cohort, because the weights need them.

    ``code_hash`` and ``response_id`` are set when the sheet is accepted: the office must find
    the sheet that used a code (the earlier received wins) and the response to set aside.
    Neither leaves the office database; the dataset's response id links to nothing.
    """

    __tablename__ = "paper_receipt"
    __table_args__ = (UniqueConstraint("study_id", "receipt_no"),)

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(foreign_key="study.id", index=True)
    receipt_no: str = Field(max_length=16)
    batch: str = Field(max_length=32)
    received_on: date
    cohort: str = Field(max_length=32)
    status: str = Field(max_length=16)  # returned | blank | undeliverable
    reason: str | None = Field(default=None, max_length=16)  # 宛先不明, ... 対象外
    state: str = Field(default="logged", max_length=16)  # logged|reconcile|accepted|duplicate
    flag: str | None = Field(default=None, max_length=32)  # no_code, unknown_code, ...
    code_hash: bytes | None = Field(default=None, sa_column=Column(LargeBinary(32), index=True))
    response_id: str | None = Field(default=None, max_length=32)


class PaperEntry(SQLModel, table=True):
    """One keying of a sheet: what an operator typed, field by field, as typed (kept even where
    the editing rules later change the stored value). Never the plaintext code: its keyed hash
    and whether it was readable and passed the check symbol."""

    __tablename__ = "paper_entry"
    __table_args__ = (UniqueConstraint("receipt_id", "pass_no"),)

    id: int | None = Field(default=None, primary_key=True)
    receipt_id: int = Field(foreign_key="paper_receipt.id", index=True)
    pass_no: int  # 1 and 2: the two keyings; 0: a vendor's verified batch; 3: reconciled
    operator: str = Field(max_length=64)
    form_id: str = Field(max_length=32)
    version: int
    code_state: str = Field(max_length=16)  # ok | none | invalid
    code_hash: bytes | None = Field(default=None, sa_column=Column(LargeBinary(32)))
    values: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    keyed_on: date
