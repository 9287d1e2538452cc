"""A refusal as the official Twilio client reports it: one helper for every
suite that drives the API through twilio-python."""

import pytest
from twilio.base.exceptions import TwilioRestException


def rest_error(call):
    """Runs `call`, which must be refused, and returns the client's
    exception (its `status`, `code` and `msg`)."""
    with pytest.raises(TwilioRestException) as info:
        call()
    return info.value
