"""The Safe List through the official Python client: create, fetch, delete
(`client.verify.v2.safelist`; `admin` only: see test_scoped_keys.py); a listed number passes a
service's country restriction but not the per-number send limit."""


from conftest import US_ONLY_SERVICE_SID
from twilio_errors import rest_error

UK = "+442079460959"


def test_create_fetch_delete(server, client):
    number = "+442079460960"
    created = client.verify.v2.safelist.create(phone_number=number)
    assert created.sid.startswith("GN") and len(created.sid) == 34
    assert created.phone_number == number
    assert created.url == f"{server.base_url}/v2/SafeList/Numbers/{number}"
    fetched = client.verify.v2.safelist(number).fetch()
    assert (fetched.sid, fetched.phone_number) == (created.sid, number)
    e = rest_error(lambda: client.verify.v2.safelist.create(phone_number=number))
    assert (e.status, e.code) == (400, 60411)
    assert client.verify.v2.safelist(number).delete() is True
    e = rest_error(lambda: client.verify.v2.safelist(number).fetch())
    assert (e.status, e.code) == (404, 20404)
    e = rest_error(lambda: client.verify.v2.safelist(number).delete())
    assert (e.status, e.code) == (404, 20404)


def test_bad_numbers_are_400(client):
    for bad in ("4155550123", "not a number", ""):
        e = rest_error(lambda: client.verify.v2.safelist.create(phone_number=bad))
        assert (e.status, e.code) == (400, 60200), bad
    e = rest_error(lambda: client.verify.v2.safelist("12").fetch())
    assert (e.status, e.code) == (400, 60200)


def test_a_listed_number_passes_geo_permissions_not_the_send_limit(server, client):
    us = client.verify.v2.services(US_ONLY_SERVICE_SID)
    e = rest_error(lambda: us.verifications.create(to=UK, channel="sms"))
    assert (e.status, e.code) == (403, 60605)
    assert server.messages(UK) == []
    client.verify.v2.safelist.create(phone_number=UK)
    try:
        for _ in range(5):
            assert us.verifications.create(to=UK, channel="sms").status == "pending"
        e = rest_error(lambda: us.verifications.create(to=UK, channel="sms"))
        assert (e.status, e.code) == (429, 60203)
        assert len(server.messages(UK)) == 5
    finally:
        client.verify.v2.safelist(UK).delete()

