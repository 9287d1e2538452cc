"""Locales through the official `twilio` Python client against verify-local:
a locale of each script (Latin, Cyrillic, Arabic, CJK, Devanagari) on sms,
call and email, each message read back from /_local/messages, checked to be
in that language and approved with its code; an unknown region falling back
to its language, an unknown language to English, a tag that is no tag
refused; the locale from the number's country; and the verification's
`locale` field (not in Twilio's resource, so its client does not parse it
into an attribute: read with the client's own `request`)."""

import json
import re
import uuid

import pytest
from twilio.base.exceptions import TwilioRestException

from conftest import spoken

# Letters of each script (Unicode blocks).
LATIN_EXT = re.compile(r"[ąćęłńóśźż]")  # Polish letters outside ASCII
CYRILLIC = re.compile(r"[\u0400-\u04FF]")
ARABIC = re.compile(r"[\u0600-\u06FF]")
CJK = re.compile(r"[\u3040-\u30FF\u4E00-\u9FFF]")
DEVANAGARI = re.compile(r"[\u0900-\u097F]")

# (Locale asked for, a word of that locale's SMS text, its script).
SCRIPTS = [
    ("pl", "weryfikacyjny", LATIN_EXT),
    ("ru", "подтверждения", CYRILLIC),
    ("ar", "التحقق", ARABIC),
    ("ja", "認証コード", CJK),
    ("hi", "सत्यापन", DEVANAGARI),
]

_numbers = iter(range(5000, 10_000))


def fresh_number():
    return f"+1415555{next(_numbers):04d}"


def fresh_address():
    return f"loc.{uuid.uuid4().hex[:10]}@example.com"


def the_code(text):
    """The code in a message: its one run of 6 digits (the name has none;
    a call's readings, run together, are three runs of the same code)."""
    runs = set(re.findall(r"\d{6}", text))
    assert len(runs) == 1, text
    return runs.pop()


def locale_of(client, verification):
    """The `locale` field of the verification resource, fetched through the
    official client's own `request` (its model has no attribute for it)."""
    response = client.request("GET", verification.url)
    assert response.status_code == 200, response.text
    return json.loads(response.text)["locale"]


def start(client, service, to, channel, locale=None):
    kwargs = {"to": to, "channel": channel}
    if locale is not None:
        kwargs["locale"] = locale
    v = service.verifications.create(**kwargs)
    return v, locale_of(client, v)


def approve(service, to, code):
    check = service.verification_checks.create(to=to, code=code)
    assert check.status == "approved"


@pytest.mark.parametrize("locale,word,script", SCRIPTS, ids=[s[0] for s in SCRIPTS])
def test_sms_in_each_script(server, client, service, locale, word, script):
    to = fresh_number()
    v, used = start(client, service, to, "sms", locale)
    assert (v.status, used) == ("pending", locale)
    [sms] = server.messages(to)
    assert sms["channel"] == "sms"
    assert word in sms["body"] and script.search(sms["body"]) and "Acme" in sms["body"], sms["body"]
    approve(service, to, the_code(sms["body"]))


@pytest.mark.parametrize("locale,word,script", SCRIPTS, ids=[s[0] for s in SCRIPTS])
def test_email_in_each_script(server, client, service, locale, word, script):
    to = fresh_address()
    _, used = start(client, service, to, "email", locale)
    assert used == locale
    [mail] = server.messages(to)
    assert script.search(mail["subject"]) and "Acme" in mail["subject"], mail["subject"]
    assert word in mail["body"] and script.search(mail["body"]), mail["body"]
    assert f'lang="{locale}"' in mail["html"] and word in mail["html"]
    assert ('dir="rtl"' in mail["html"]) == (locale == "ar")
    code = the_code(mail["body"])
    assert f'<bdi dir="ltr">{code}</bdi>' in mail["html"]
    approve(service, to, code)


# A call is read by an Amazon Polly voice the voice API offers: Polish,
# Russian, Arabic and Japanese have one; Hindi has none there, so the call
# is read in English and the verification says so.
CALLS = [
    ("pl", "pl", "Powtarzam", LATIN_EXT),
    ("ru", "ru", "Повторяю", CYRILLIC),
    ("ar", "ar", "مرة أخرى", ARABIC),
    ("ja", "ja", "もう一度", CJK),
    ("hi", "en", "Once again", re.compile(r"^[\x00-\x7F]*$")),
]


@pytest.mark.parametrize("locale,read_in,word,script", CALLS, ids=[c[0] for c in CALLS])
def test_call_in_each_script(server, client, service, locale, read_in, word, script):
    to = fresh_number()
    _, used = start(client, service, to, "call", locale)
    assert used == read_in
    [call] = server.messages(to)
    assert call["channel"] == "call"
    heard = spoken(call["body"])
    assert word in heard and script.search(heard) and "Acme" in heard, heard
    code = the_code(heard)
    assert re.findall(r'<say-as interpret-as="digits">(\d)</say-as>', call["body"]) == list(code) * 3
    approve(service, to, code)


@pytest.mark.parametrize(
    "asked,used,word",
    [
        ("fr-CA", "fr", "Votre code de vérification"),
        ("es-419", "es", "Tu código de verificación"),
        ("PT_br", "pt-BR", "Seu código de verificação"),
        ("pt-PT", "pt", "O seu código de verificação"),
        ("zh-Hant", "zh-TW", "驗證碼"),
        ("zh-CN", "zh", "验证码"),
        ("fil", "tl", "Ang iyong"),
        ("xx", "en", "Your Acme verification code is"),
        ("en-US", "en", "Your Acme verification code is"),
    ],
)
def test_unknown_regions_fall_back_to_the_language_then_english(server, client, service, asked, used, word):
    to = fresh_number()
    _, locale = start(client, service, to, "sms", asked)
    assert locale == used
    [sms] = server.messages(to)
    assert word in sms["body"], sms["body"]
    approve(service, to, the_code(sms["body"]))


@pytest.mark.parametrize("bad", ["not a locale", "12", "fr--CA", "français"])
def test_a_value_that_is_no_language_tag_is_a_400_and_sends_nothing(server, service, bad):
    to = fresh_number()
    with pytest.raises(TwilioRestException) as info:
        service.verifications.create(to=to, channel="sms", locale=bad)
    assert (info.value.status, info.value.code) == (400, 60200)
    assert "Locale" in info.value.msg
    assert server.messages(to) == []


@pytest.mark.parametrize(
    "number,used,word",
    [
        ("+81 90 1234 {:04d}", "ja", "認証コード"),
        ("+55 11 91234 {:04d}", "pt-BR", "Seu código"),
        ("+7 912 345 {:04d}", "ru", "Ваш код"),
        ("+20 100 123 {:04d}", "ar", "رمز التحقق"),
        ("+1 415 555 {:04d}", "en", "Your Acme"),
    ],
)
def test_without_locale_the_numbers_country_picks_it(server, client, service, number, used, word):
    to = number.format(next(_numbers))
    v, locale = start(client, service, to, "sms")
    assert locale == used
    [sms] = server.messages(v.to)
    assert word in sms["body"], sms["body"]
    approve(service, v.to, the_code(sms["body"]))


def test_a_resend_in_another_locale_says_the_new_one(server, client, service):
    to = fresh_number()
    first, locale = start(client, service, to, "sms", "de")
    assert locale == "de"
    again, locale = start(client, service, to, "sms", "ko")
    assert (again.sid, locale) == (first.sid, "ko")
    texts = [m["body"] for m in server.messages(to)]
    assert "Bestätigungscode" in texts[0] and "인증번호" in texts[1]
    assert locale_of(client, first) == "ko", "the same verification, now in Korean"
    approve(service, to, the_code(texts[1]))
