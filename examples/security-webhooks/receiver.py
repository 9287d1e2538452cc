"""Receives verify's webhooks for a security team.

Each delivery is checked with the official Standard Webhooks library
(`webhook-id`, `webhook-timestamp`, `webhook-signature` over the raw body),
then stored once per webhook-id: verify delivers at least once and retries
with the same id, so a redelivery is answered 204 and changes nothing.

    WEBHOOK_SECRET=whsec_... EVENTS_DB=events.db flask --app receiver run --port 9000
"""

import binascii
import json
import os

from flask import Flask, request
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from store import EventStore


def create_app(secret=None, db_path=None):
    webhook = Webhook(secret or os.environ["WEBHOOK_SECRET"])
    store = EventStore(db_path or os.environ.get("EVENTS_DB", "events.db"))
    app = Flask(__name__)

    @app.post("/webhooks/verify")
    def receive():
        body = request.get_data()
        try:
            webhook.verify(body, dict(request.headers), json_parse=False)
        except (WebhookVerificationError, ValueError, binascii.Error):
            # Not signed with our secret, or too old or too new (5 minutes).
            return {"error": "invalid signature"}, 401
        try:
            event = json.loads(body)
        except ValueError:
            event = None
        if not isinstance(event, dict) or not isinstance(event.get("data", {}), dict):
            return {"error": "not an event"}, 400
        # The id is signed too: it is the one verify uses on every retry.
        store.add(request.headers["webhook-id"], event)
        return "", 204

    return app
