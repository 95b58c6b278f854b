"""What the registration form says is stored and why, and the consent record it leaves.

The registration form (public) and the JSON API (api) record consent the same way: the
record names the version, the channel, the language and the very words agreed to.
"""

import functools

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

CONSENT_VERSION = "2026-12"  # 2026-12: the answers to the event's questions

# What the form says is stored and why. Its text is also what the attendee's consent
# records, so the record says exactly what they agreed to, in the language they read it in.
PRIVACY_NOTICE = _l(
    "We store your name, email address, organisation, job role, session choices and answers "
    "to the event's questions to organise this event: to keep your seats, send you "
    "confirmations and programme changes, and check you in. We do not share them. You can "
    "download or delete your data from your personal page at any time."
)
CONSENT_LABEL = _l("I agree that my data is processed to organise this event, as described above.")


def consent_record(channel: str, locale: str) -> str:
    """The consent as recorded: version, channel, language and the words agreed to."""
    return f"{CONSENT_VERSION} {channel} [{locale}]: {_consent_words(locale)}"


@functools.cache
def _consent_words(locale: str) -> str:
    """The notice and the checkbox label in `locale`, whatever language the request is in
    (an API client says which language the attendee reads). The catalogs do not change
    while the process runs, so each language is rendered once."""
    with force_locale(locale):
        return f"{PRIVACY_NOTICE} {CONSENT_LABEL}"
