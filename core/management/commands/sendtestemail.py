"""``manage.py sendtestemail ADDRESS...``: send a test message through ``EMAIL_URL``."""
import argparse
import socket

from core.i18n import gettext as _
from core.i18n import gettext_lazy as _l
from core.mail import MailError, Mailer
from core.management import Command, CommandError

#: the test message, in ``LANGUAGE``
SUBJECT = _l("Test email from Bastion")
TEXT = _l("This is a test message from Bastion's `manage.py sendtestemail` on %(host)s.\n\n"
          "If you can read it, EMAIL_URL (%(backend)s) and DEFAULT_FROM_EMAIL work.\n")


def address(value):
    """An argparse type: something that looks like an e-mail address (else exit 2)."""
    value = value.strip()
    name, at, domain = value.rpartition("@")
    if not at or not name or not domain or any(c.isspace() for c in value) or len(value) > 254:
        raise argparse.ArgumentTypeError(_("%(value)s is not an email address") % {
            "value": repr(value)})
    return value


class SendTestEmailCommand(Command):
    name = "sendtestemail"
    help = _l("Send a test message to ADDRESS through EMAIL_URL (from DEFAULT_FROM_EMAIL); "
              "exit 1 with the reason when it cannot be sent.")

    def add_arguments(self, parser):
        parser.add_argument("addresses", metavar="ADDRESS", nargs="+", type=address,
                            help=_("where to send it (one or more)"))

    async def handle(self, args):
        mailer = Mailer.from_settings(self.settings)       # a wrong EMAIL_URL: exit 1
        text = TEXT % {"host": socket.gethostname(), "backend": mailer.backend.label}
        try:
            message = mailer.message(str(SUBJECT), args.addresses, text)
        except ValueError as exc:                 # e.g. a line break in DEFAULT_FROM_EMAIL
            raise CommandError(_("cannot build the message: %(reason)s") % {
                "reason": exc}) from None
        try:
            await mailer.send(message, log_failure=False)  # said below
        except MailError as exc:
            raise CommandError(str(exc)) from None
        self.write(_("sent %(subject)s to %(addresses)s via %(backend)s") % {
            "subject": repr(str(SUBJECT)), "addresses": ", ".join(args.addresses),
            "backend": mailer.backend.label})
        return 0
