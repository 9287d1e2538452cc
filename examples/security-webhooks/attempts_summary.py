"""Pulls /v2/Attempts/Summary with the official twilio client: attempts
(codes sent), converted and the conversion rate, overall and per country.

    VERIFY_BASE_URL=http://127.0.0.1:8080 VERIFY_API_KEY=SK... VERIFY_API_SECRET=... \\
    VERIFY_ACCOUNT_SID=AC... python attempts_summary.py --hours 24 US GB

Without VERIFY_BASE_URL it asks Twilio Verify itself.
"""

import argparse
import os
from datetime import datetime, timedelta, timezone

# The helper library rewrites the host when these are set.
for name in ("TWILIO_EDGE", "TWILIO_REGION"):
    os.environ.pop(name, None)

from twilio.rest import Client  # noqa: E402


def client_from_env():
    client = Client(os.environ["VERIFY_API_KEY"], os.environ["VERIFY_API_SECRET"], os.environ["VERIFY_ACCOUNT_SID"])
    if os.environ.get("VERIFY_BASE_URL"):
        client.verify.base_url = os.environ["VERIFY_BASE_URL"].rstrip("/")
    return client


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("countries", nargs="*", help="ISO 3166 alpha-2 codes to break out")
    parser.add_argument("--hours", type=int, default=24, help="how far back (default 24)")
    args = parser.parse_args()
    since = datetime.now(timezone.utc) - timedelta(hours=args.hours)
    summary = client_from_env().verify.v2.verification_attempts_summary()
    print(f"Attempts since {since:%Y-%m-%dT%H:%M:%SZ}")
    for country in [None, *args.countries]:
        s = summary.fetch(date_created_after=since, country=country) if country else summary.fetch(date_created_after=since)
        print(
            f"{country or 'all':<4} attempts {s.total_attempts:>5}  converted {s.total_converted:>5}  "
            f"unconverted {s.total_unconverted:>5}  conversion {float(s.conversion_rate_percentage or 0):.1f}%"
        )


if __name__ == "__main__":
    main()
