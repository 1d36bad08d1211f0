"""Outgoing e-mail through a durable outbox, delivered by the worker, never inside a request.

`queue_mail` writes a message into the caller's transaction: a change that is
rolled back sends nothing, and one that commits cannot lose its mail to an
SMTP outage. The worker (`portal worker`, portal/core/worker.py) sends due
messages with `deliver_due`:

- each message is claimed in a short transaction of its own that marks it
  `sending` under a lease (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so concurrent
  workers take different messages without waiting; SQLite has one writer at a
  time), so two workers never send the same message;
- it goes out over SMTP (every step times out), then is marked `sent` in
  another short transaction; a failure records the error and schedules a retry
  with exponential back-off, and a message still undelivered a day after it was
  written is given up (`failed`, kept with its last error for an administrator);
- a worker that dies mid-send leaves its message `sending` until the lease
  ends, then another worker sends it. SMTP itself is at-least-once: a crash in
  the moment between the server's 250 and the `sent` mark duplicates that one
  message; nothing else can.

Without MAIL_SERVER a message is written to the log instead (development).
"""

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import delete, select, update

from portal.core import transaction
from portal.core.db import utcnow
from portal.core.models import OutboxMessage
from portal.extensions import db

log = logging.getLogger("portal.mail")

SMTP_TIMEOUT_SECONDS = 10
# Far longer than one message can take: a handful of SMTP steps, each timing out after 10 s.
LEASE = timedelta(minutes=5)
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(minutes=30)
GIVE_UP_AFTER = timedelta(days=1)
# Sent and given-up messages carry personal details: kept this long for questions, then deleted.
KEEP_FINISHED = timedelta(days=30)
# The server refused this one message; the connection still serves the next.
MESSAGE_REFUSED = (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError)
SUBJECT_LENGTH = OutboxMessage.subject.type.length


def queue_mail(to, subject, body):
    """Write an e-mail into the current transaction; the worker sends it once that has committed."""
    now = utcnow()
    # One line: a subject carries course titles and the like, and a line break is no header.
    subject = " ".join(str(subject).split())[:SUBJECT_LENGTH]
    db.session.add(OutboxMessage(recipient=to, subject=subject, body=str(body), created_at=now, next_attempt_at=now))


@dataclass
class Delivery:
    """What one run of the outbox did."""

    sent: int = 0
    retrying: int = 0
    given_up: int = 0

    @property
    def attempted(self):
        return self.sent + self.retrying + self.given_up

    def __str__(self):
        return f"sent {self.sent}, to retry {self.retrying}, given up {self.given_up}"


@dataclass(frozen=True)
class _Claimed:
    id: int
    recipient: str
    subject: str
    body: str
    attempts: int
    created_at: datetime


def deliver_due(config, *, now, limit=None, should_stop=lambda: False):
    """Send the messages due at `now` (at most `limit`) until none is due or the SMTP server fails.

    Ends its own short transactions, and holds none while talking to the SMTP
    server: call it outside a unit of work.
    """
    delivery = Delivery()
    with _Sender(config) as sender:
        while (limit is None or delivery.attempted < limit) and not should_stop():
            claimed = _claim_next(now)
            if claimed is None:
                break
            try:
                sender.send(claimed)
            except MESSAGE_REFUSED as error:
                _record_failure(claimed, error, now, delivery)
            except (OSError, smtplib.SMTPException) as error:
                _record_failure(claimed, error, now, delivery)
                break  # the server is unreachable or unwell: the other messages wait for the next run
            else:
                _settle(claimed, status="sent", sent_at=now, next_attempt_at=None, last_error=None)
                delivery.sent += 1
    return delivery


def forget_finished(now):
    """Delete sent and given-up messages older than KEEP_FINISHED (a periodic job)."""
    deleted = db.session.execute(
        delete(OutboxMessage)
        .where(OutboxMessage.status.in_(("sent", "failed")), OutboxMessage.created_at < now - KEEP_FINISHED)
        .execution_options(synchronize_session=False)
    ).rowcount
    return f"deleted {deleted} finished message(s)"


def _claim_next(now):
    due = (OutboxMessage.status.in_(("pending", "sending")), OutboxMessage.next_attempt_at <= now)
    oldest_due = (
        select(OutboxMessage.id)
        .where(*due)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    with transaction.unit_of_work():
        row = db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == oldest_due, *due)
            .values(status="sending", attempts=OutboxMessage.attempts + 1, next_attempt_at=now + LEASE)
            .returning(
                OutboxMessage.id,
                OutboxMessage.recipient,
                OutboxMessage.subject,
                OutboxMessage.body,
                OutboxMessage.attempts,
                OutboxMessage.created_at,
            )
            .execution_options(synchronize_session=False)
        ).one_or_none()
    return _Claimed(*row) if row is not None else None


def _record_failure(claimed, error, now, delivery):
    reason = f"{type(error).__name__}: {error}"[:1000]
    if now - claimed.created_at >= GIVE_UP_AFTER:
        log.error(
            "mail %s to %s given up after %d attempts: %s", claimed.id, claimed.recipient, claimed.attempts, reason
        )
        _settle(claimed, status="failed", next_attempt_at=None, last_error=reason)
        delivery.given_up += 1
        return
    wait = min(FIRST_RETRY * 2 ** min(claimed.attempts - 1, 10), LONGEST_RETRY)
    log.warning(
        "mail %s to %s failed (attempt %d), next attempt in %s: %s",
        claimed.id,
        claimed.recipient,
        claimed.attempts,
        wait,
        reason,
    )
    _settle(claimed, status="pending", next_attempt_at=now + wait, last_error=reason)
    delivery.retrying += 1


def _settle(claimed, **values):
    """Record how the attempt ended, unless another worker has taken the message since (our lease ended)."""
    with transaction.unit_of_work():
        settled = db.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == claimed.id,
                OutboxMessage.status == "sending",
                OutboxMessage.attempts == claimed.attempts,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
    if not settled:
        log.warning("mail %s was taken over by another worker after this one's lease ended", claimed.id)


class _Sender:
    """One SMTP connection per run, opened for the first message; the log without MAIL_SERVER."""

    def __init__(self, config):
        self.config = config
        self.smtp = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        if self.smtp is None:
            return
        try:
            self.smtp.quit()
        except (OSError, smtplib.SMTPException):
            self.smtp.close()

    def send(self, claimed):
        config = self.config
        message = EmailMessage()
        message["From"] = config["MAIL_DEFAULT_SENDER"]
        message["To"] = claimed.recipient
        message["Subject"] = claimed.subject
        message.set_content(claimed.body)
        if not config.get("MAIL_SERVER"):
            log.info("mail (no MAIL_SERVER set) to=%s subject=%s\n%s", claimed.recipient, claimed.subject, claimed.body)
            return
        if self.smtp is None:
            self.smtp = self._connect()
        self.smtp.send_message(message)

    def _connect(self):
        config = self.config
        smtp = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=SMTP_TIMEOUT_SECONDS)
        try:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        except BaseException:
            smtp.close()
            raise
        return smtp
