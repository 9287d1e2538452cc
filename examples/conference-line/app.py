"""An OTP-protected conference line: Flask, TwiML from the official twilio
library, and verification through the same library's Verify client.

A call comes in (Twilio POSTs /voice); the caller's number must be on the
participant list; they choose a text message or a call, we start a
verification to their number, <Gather> the digits, check them, and only an
approved check <Dial>s them into the <Conference>. Wrong digits get a retry,
then a polite goodbye. Every request must carry Twilio's X-Twilio-Signature.

Run it against verify-local (see README.md):
    flask --app app run --port 5000
"""

import os
import re
from functools import wraps

from flask import Flask, abort, request
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

MAX_TRIES = 3
VOICE = {"voice": "Polly.Joanna", "language": "en-US"}


def settings_from_env():
    """The app's settings; every one an environment variable."""
    env = os.environ
    return {
        # Your Twilio account's auth token: Twilio signs its webhooks with it.
        "twilio_auth_token": env["TWILIO_AUTH_TOKEN"],
        # Who may join: E.164 numbers, comma-separated; the moderator too.
        "participants": [n.strip() for n in env.get("PARTICIPANTS", "").split(",") if n.strip()],
        "moderator": env.get("MODERATOR", "").strip() or None,
        "conference_name": env.get("CONFERENCE_NAME", "Verified line"),
        # The Verify service: Twilio's, or this project's (VERIFY_BASE_URL).
        "verify_base_url": env.get("VERIFY_BASE_URL"),
        "verify_api_key": env["VERIFY_API_KEY"],
        "verify_api_secret": env["VERIFY_API_SECRET"],
        "verify_account_sid": env["VERIFY_ACCOUNT_SID"],
        "verify_service_sid": env["VERIFY_SERVICE_SID"],
        # The URL Twilio calls, when a proxy sits in front (signatures cover it).
        "public_base_url": env.get("PUBLIC_BASE_URL"),
    }


def verify_service(settings):
    """The official client, pointed at verify when VERIFY_BASE_URL is set."""
    client = Client(settings["verify_api_key"], settings["verify_api_secret"], settings["verify_account_sid"])
    if settings["verify_base_url"]:
        client.verify.base_url = settings["verify_base_url"].rstrip("/")
    return client.verify.v2.services(settings["verify_service_sid"])


def twiml(response):
    return str(response), 200, {"Content-Type": "text/xml"}


def goodbye(text):
    response = VoiceResponse()
    response.say(text, **VOICE)
    response.hangup()
    return twiml(response)


def create_app(settings=None):
    settings = settings or settings_from_env()
    participants = set(settings["participants"]) | ({settings["moderator"]} - {None})
    validator = RequestValidator(settings["twilio_auth_token"])
    service = verify_service(settings)
    app = Flask(__name__)

    def signed_by_twilio(view):
        """Refuse anything Twilio did not sign; then admit only participants."""

        @wraps(view)
        def checked():
            base = settings["public_base_url"]
            url = base.rstrip("/") + request.full_path.rstrip("?") if base else request.url
            if not validator.validate(url, request.form.to_dict(), request.headers.get("X-Twilio-Signature", "")):
                abort(403)
            if request.form.get("From") not in participants:
                return goodbye("This conference line is for invited participants only. Goodbye.")
            return view(request.form["From"])

        return checked

    @app.post("/voice")
    @signed_by_twilio
    def incoming_call(caller):
        response = VoiceResponse()
        gather = Gather(num_digits=1, action="/channel", timeout=5)
        gather.say("Welcome. To get your code by text message, press 1. To get it by a phone call, press 2.", **VOICE)
        response.append(gather)
        response.redirect("/channel")  # no key pressed: a text message
        return twiml(response)

    @app.post("/channel")
    @signed_by_twilio
    def send_code(caller):
        channel = "call" if request.form.get("Digits") == "2" else "sms"
        response = VoiceResponse()
        try:
            service.verifications.create(to=caller, channel=channel)
        except TwilioRestException as e:
            if not (e.code == 60223 and channel == "call"):
                return goodbye(start_refusal(e))
            # Calls are not enabled for this service: fall back to a text.
            service.verifications.create(to=caller, channel="sms")
            response.say("Calls are not available right now, so we sent you a text message instead.", **VOICE)
        return twiml(ask_for_code(response, attempt=1))

    @app.post("/check")
    @signed_by_twilio
    def check_code(caller):
        attempt = int(request.args.get("attempt", MAX_TRIES))
        digits = request.form.get("Digits", "")
        approved = False
        if re.fullmatch(r"[0-9]{4,10}", digits):
            try:
                approved = service.verification_checks.create(to=caller, code=digits).status == "approved"
            except TwilioRestException as e:
                return goodbye(check_refusal(e))
        if approved:
            return twiml(join_conference(caller, settings))
        if attempt >= MAX_TRIES:
            return goodbye("Sorry, that code is still not right. Goodbye.")
        response = VoiceResponse()
        response.say("That code is not right. Please try again.", **VOICE)
        return twiml(ask_for_code(response, attempt=attempt + 1))

    return app


def ask_for_code(response, attempt):
    # The try count rides in the action URL, which Twilio signs.
    gather = Gather(num_digits=6, finish_on_key="#", timeout=15, action=f"/check?attempt={attempt}")
    gather.say("Please enter the six digit code we sent you.", **VOICE)
    response.append(gather)
    response.say("We did not receive a code. Goodbye.", **VOICE)
    response.hangup()
    return response


def join_conference(caller, settings):
    moderator = settings["moderator"]
    response = VoiceResponse()
    response.say("Thank you. You are verified. Joining the conference.", **VOICE)
    dial = Dial()
    dial.conference(
        settings["conference_name"],
        # With a moderator, the others wait for them, and leave when they do.
        start_conference_on_enter=moderator is None or caller == moderator,
        end_conference_on_exit=caller == moderator,
    )
    response.append(dial)
    return response


def start_refusal(e):
    if e.code == 60203:
        return "We have sent too many codes to this number. Please try again later. Goodbye."
    return "Sorry, we could not send you a code. Goodbye."


def check_refusal(e):
    if e.status == 404:
        return "That code has expired. Please call again to get a new one. Goodbye."
    if e.code == 60202:
        return "There have been too many wrong codes for this number. Please try again later. Goodbye."
    return "Sorry, we could not check your code. Goodbye."


if __name__ == "__main__":
    create_app().run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")))
