"""Outgoing e-mail: SMTP when MAIL_SERVER is set, otherwise the log."""
import logging
import smtplib
from email.message import EmailMessage

log = logging.getLogger("portal.mail")


def send_mail(config, to, subject, body):
    message = EmailMessage()
    message["From"] = config["MAIL_DEFAULT_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    if not config.get("MAIL_SERVER"):
        log.info("mail (no MAIL_SERVER set) to=%s subject=%s\n%s", to, subject, body)
        return
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException):
        # The in-app notification is already saved; a mail outage must not undo the user's action.
        log.exception("could not send mail to %s", to)
