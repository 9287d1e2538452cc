"""examples/studio-ivr: the Studio flow is one Studio accepts, and it verifies
a caller on verify-local.

1. Structure: every key, widget type, property and transition event is one
   Studio defines (tests/python/data/studio_widgets.json, with its sources),
   every transition names an existing state, every state can be reached.
2. Replay: a small interpreter walks flow.json as Studio would for one call
   (the caller's key presses scripted), rendering the widgets' Liquid, and
   sends each make-http-request widget's request as Studio sends it: POST,
   form-encoded HTTP Parameters, signed with X-Twilio-Signature by the
   account's auth token, no other credentials. verify-local answers; the
   splits branch on what it answered.
"""

import copy
import json
import re
from pathlib import Path

import pytest
import requests
from twilio.request_validator import RequestValidator

from conftest import ROOT, SIGNING_TOKEN, launch_verify_local

FLOW = json.loads((ROOT / "examples" / "studio-ivr" / "flow.json").read_text())
SPEC = json.loads((Path(__file__).parent / "data" / "studio_widgets.json").read_text())
PLACEHOLDER = "https://verify.example.com"


# --- 1. structure -----------------------------------------------------------


def _type_problems(where, value, kind):
    if isinstance(kind, dict) and "enum" in kind:
        return [] if value in kind["enum"] else [f"{where}: {value!r} is not one of {kind['enum']}"]
    if isinstance(kind, dict) and "integer" in kind:
        low, high = kind["integer"]
        ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
        return [] if ok else [f"{where}: {value!r} is not an integer in {low}..{high}"]
    ok = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "offset": lambda v: isinstance(v, dict) and set(v) == {"x", "y"} and all(isinstance(n, int) for n in v.values()),
        "key_values": lambda v: isinstance(v, list)
        and all(isinstance(i, dict) and set(i) == {"key", "value"} and all(isinstance(s, str) for s in i.values()) for i in v),
    }[kind](value)
    return [] if ok else [f"{where}: {value!r} is not a {kind}"]


def _transition_problems(state, names, widget):
    problems = []
    for t in state.get("transitions", []):
        where = f"{state.get('name')}: transition {t}"
        problems += [f"{where}: unknown key {k!r}" for k in t if k not in SPEC["transition"]["keys"]]
        if t.get("event") not in widget["events"]:
            problems.append(f"{where}: {state['type']} has no event {t.get('event')!r}")
        if "next" in t and t["next"] not in names:
            problems.append(f"{where}: no state named {t['next']!r}")
        if ("conditions" in t) != (t.get("event") == "match"):
            problems.append(f"{where}: conditions go on match transitions, and only there")
        for c in t.get("conditions", []):
            if sorted(c) != sorted(SPEC["condition"]["keys"]):
                problems.append(f"{where}: a condition has keys {sorted(c)}")
            if c.get("type") not in SPEC["condition"]["types"]:
                problems.append(f"{where}: unknown condition type {c.get('type')!r}")
            if c.get("arguments") != [state["properties"].get("input")]:
                problems.append(f"{where}: a condition's arguments are not the split's input")
    return problems


def _state_problems(state, names):
    name = state.get("name")
    problems = [f"{name}: unknown key {k!r}" for k in state if k not in SPEC["state"]["keys"]]
    problems += [f"{name}: missing {k!r}" for k in SPEC["state"]["required"] if k not in state]
    widget = SPEC["widgets"].get(state.get("type"))
    if widget is None:
        return problems + [f"{name}: unknown widget type {state.get('type')!r}"]
    props = state.get("properties", {})
    for key, value in props.items():
        if key not in widget["properties"]:
            problems.append(f"{name}: {state['type']} has no property {key!r}")
        else:
            problems += _type_problems(f"{name}.{key}", value, widget["properties"][key])
    problems += [f"{name}: missing property {k!r}" for k in widget["required"] if k not in props]
    return problems + _transition_problems(state, names, widget)


def _reachable(flow):
    by_name = {s["name"]: s for s in flow["states"]}
    seen, todo = set(), [flow["initial_state"]]
    while todo:
        name = todo.pop()
        if name in seen or name not in by_name:
            continue
        seen.add(name)
        todo += [t["next"] for t in by_name[name]["transitions"] if "next" in t]
    return seen


def structural_problems(flow):
    """Everything in `flow` Studio would not accept, as readable lines."""
    problems = [f"flow: unknown key {k!r}" for k in flow if k not in SPEC["flow"]["keys"]]
    problems += [f"flow: missing {k!r}" for k in SPEC["flow"]["required"] if k not in flow]
    if "$schema" in flow and flow["$schema"] != SPEC["flow"]["schema_uri"]:
        problems.append("flow: unknown $schema")
    for flag, value in flow.get("flags", {}).items():
        if flag not in SPEC["flow"]["flags"]:
            problems.append(f"flags: unknown flag {flag!r}")
        else:
            problems += _type_problems(f"flags.{flag}", value, SPEC["flow"]["flags"][flag])
    states = flow.get("states", [])
    if not 1 <= len(states) <= SPEC["flow"]["max_states"]:
        problems.append(f"flow: {len(states)} states")
    names = [s.get("name") for s in states]
    problems += [f"flow: two states named {n!r}" for n in sorted({n for n in names if names.count(n) > 1})]
    if flow.get("initial_state") not in names:
        problems.append(f"flow: initial_state {flow.get('initial_state')!r} is not a state")
    for state in states:
        problems += _state_problems(state, set(names))
    if not problems:
        problems += [f"{n}: cannot be reached from {flow['initial_state']}" for n in names if n not in _reachable(flow)]
    return problems


def test_the_flow_is_one_studio_accepts():
    assert structural_problems(FLOW) == []
    used = {s["type"] for s in FLOW["states"]}
    assert used == set(SPEC["widgets"]), "the definition lists exactly the widgets the flow uses"
    urls = {s["properties"]["url"] for s in FLOW["states"] if s["type"] == "make-http-request"}
    assert urls == {f"{PLACEHOLDER}/start-verify", f"{PLACEHOLDER}/check-verify"}


def _edit(path_fn):
    flow = copy.deepcopy(FLOW)
    path_fn({s["name"]: s for s in flow["states"]}, flow)
    return flow


@pytest.mark.parametrize(
    "mistake, edit, expected",
    [
        ("misspelt property", lambda s, f: s["check_code"]["properties"].update(urll="x"), "has no property 'urll'"),
        ("unknown widget", lambda s, f: s["say_verified"].update(type="say-and-play"), "unknown widget type"),
        ("dangling next", lambda s, f: s["use_sms"]["transitions"][0].update(next="start"), "no state named 'start'"),
        ("unknown event", lambda s, f: s["check_code"]["transitions"][1].update(event="fail"), "has no event 'fail'"),
        ("wrong type", lambda s, f: s["ask_for_code"]["properties"].update(number_of_digits="6"), "is not an integer"),
        ("bad content type", lambda s, f: s["start_verification"]["properties"].update(content_type="text/plain"), "is not one of"),
        ("bad operator", lambda s, f: s["route_result"]["transitions"][1]["conditions"][0].update(type="equals"), "unknown condition type"),
        ("missing state", lambda s, f: f.update(initial_state="Start"), "is not a state"),
        ("duplicate name", lambda s, f: s["say_locked"].update(name="say_verified"), "two states named"),
        ("orphan", lambda s, f: s["say_try_again"]["transitions"][0].update(next="not_verified")
         or s["route_attempts"]["transitions"][1].update(next="say_still_wrong"), "cannot be reached"),
    ],
)
def test_the_structure_check_finds_each_kind_of_mistake(mistake, edit, expected):
    problems = structural_problems(_edit(edit))
    assert any(expected in p for p in problems), (mistake, problems)


# --- 2. replay --------------------------------------------------------------

LIQUID = re.compile(r"\{\{\s*([\w.]+)\s*((?:\|[^}]*)?)\}\}")


def _lookup(context, path):
    value = context
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _as_liquid_text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render(template, context):
    """The Liquid this flow uses: variable lookups and the `plus` filter."""

    def one(m):
        value = _lookup(context, m.group(1))
        for f in filter(None, (p.strip() for p in m.group(2).split("|"))):
            name, _, arg = f.partition(":")
            assert name.strip() == "plus", f"filter {name!r} is not implemented by this replay"
            value = int(_as_liquid_text(value) or 0) + int(arg)
        return _as_liquid_text(value)

    return LIQUID.sub(one, template)


def _condition_holds(c, tested):
    if c["type"] == "equal_to":
        return tested == c["value"]
    if c["type"] == "less_than":
        return float(tested) < float(c["value"])
    raise AssertionError(f"condition type {c['type']} is not implemented by this replay")


class Call:
    """One execution of the flow for one caller, as Studio runs it."""

    def __init__(self, flow, keypresses, sign=True):
        self.states = {s["name"]: s for s in flow["states"]}
        self.initial = flow["initial_state"]
        self.keypresses = list(keypresses)  # digits, a callable giving digits, or None (no input)
        self.sign = sign
        self.said, self.requests, self.path = [], [], []
        self.context = {"flow": {"variables": {}}, "widgets": {}}

    def run(self, event, trigger):
        self.context["trigger"] = trigger
        name = self._next(self.states[self.initial], event)
        while name is not None:
            assert len(self.path) < 100, "Studio ends an execution after 1,000 steps; this one loops"
            assert self.path[-9:] != [name] * 9, "Studio stops a widget run 10 times in a row"
            self.path.append(name)
            state = self.states[name]
            event = getattr(self, "_" + state["type"].replace("-", "_"))(state)
            name = self._next(state, event)
        return self.context["flow"]["variables"]

    def _next(self, state, event):
        if state["type"] == "split-based-on":
            tested = render(state["properties"]["input"], self.context)
            for t in state["transitions"]:
                if t["event"] == "match" and all(_condition_holds(c, tested) for c in t["conditions"]):
                    return t.get("next")
            event = "noMatch"
        return next(t.get("next") for t in state["transitions"] if t["event"] == event)

    def _split_based_on(self, state):
        return None  # decided in _next

    def _set_variables(self, state):
        for v in state["properties"]["variables"]:
            value = render(v["value"], self.context)
            self.context["flow"]["variables"][v["key"]] = value
            self.context["widgets"].setdefault(state["name"], {})[v["key"]] = value
        return "next"

    def _say_play(self, state):
        self.said.append(render(state["properties"]["say"], self.context))
        return "audioComplete"

    def _gather_input_on_call(self, state):
        self.said.append(render(state["properties"]["say"], self.context))
        assert self.keypresses, f"the caller was asked at {state['name']} but has nothing left to press"
        pressed = self.keypresses.pop(0)
        pressed = pressed() if callable(pressed) else pressed
        if pressed is None:
            return "timeout"
        self.context["widgets"][state["name"]] = {"Digits": pressed}
        return "keypress"

    def _make_http_request(self, state):
        props = state["properties"]
        assert (props["method"], props["content_type"]) == ("POST", "application/x-www-form-urlencoded;charset=utf-8")
        url = render(props["url"], self.context)
        params = {p["key"]: render(p["value"], self.context) for p in props["parameters"]}
        headers = {"Content-Type": props["content_type"], "User-Agent": "TwilioProxy/1.1"}
        if self.sign:
            headers["X-Twilio-Signature"] = RequestValidator(SIGNING_TOKEN).compute_signature(url, params)
        r = requests.post(url, data=params, headers=headers, timeout=10)
        answer = {"status_code": r.status_code, "content_type": r.headers.get("content-type", ""), "body": r.text}
        if answer["content_type"].startswith("application/json"):
            answer["parsed"] = r.json()
        self.context["widgets"][state["name"]] = answer
        self.requests.append((state["name"], params, r.status_code, answer.get("parsed")))
        return "success" if 200 <= r.status_code < 300 else "failed"


def deployed(server):
    """flow.json with the widgets pointed at this verify-local, as step 2 of
    the wiring guide has you paste your own URLs."""
    return json.loads(json.dumps(FLOW).replace(PLACEHOLDER, server.base_url))


def wrong(code):
    return "".join("1" if d != "1" else "2" for d in code)


@pytest.mark.parametrize("channel", ["sms", "call"])
def test_a_caller_is_verified_by_the_channel_they_choose(server, number, channel):
    code = lambda: server.last_code(number)  # noqa: E731 - read when the flow asks
    call = Call(deployed(server), keypresses=["1" if channel == "sms" else "2", code])
    result = call.run("incomingCall", {"call": {"From": number, "CallSid": "CA" + "5" * 32}})

    starts = [r for r in call.requests if r[0] == "start_verification"]
    assert starts[0][1] == {"to": number, "channel": channel}
    # Either channel is delivered at once: no fallback to a text.
    assert [s[2] for s in starts] == [201]
    assert "instead" not in " ".join(call.said)
    assert [m["channel"] for m in server.messages(number)] == [channel]
    assert result["verified"] == "true"
    assert call.path[-2:] == ["say_verified", "verified"]
    check = call.requests[-1]
    assert check[0] == "check_code" and check[2] == 200 and check[3]["status"] == "approved"


def test_a_call_the_service_does_not_allow_falls_back_to_a_text(number):
    # A verify whose service delivers SMS only: the call is refused with
    # 60223 and the flow says so and texts instead.
    sms_only = {"services": [{"friendly_name": "Acme", "channels": ["sms"]}]}
    server = launch_verify_local(extra_env={"VERIFY_SERVICES": json.dumps(sms_only)})
    try:
        code = lambda: server.last_code(number)  # noqa: E731
        call = Call(deployed(server), keypresses=["2", code])
        result = call.run("incomingCall", {"call": {"From": number, "CallSid": "CA" + "6" * 32}})
        starts = [r for r in call.requests if r[0] == "start_verification"]
        assert starts[0][1] == {"to": number, "channel": "call"}
        assert starts[0][2] == 400 and starts[0][3]["code"] == 60223
        assert "we will send you a text message instead" in " ".join(call.said)
        assert starts[1][1] == {"to": number, "channel": "sms"} and starts[1][2] == 201
        assert [m["channel"] for m in server.messages(number)] == ["sms"]
        assert result["verified"] == "true"
    finally:
        server.stop()


def test_a_wrong_code_gets_a_retry_then_the_right_one_verifies(server, number):
    code = lambda: server.last_code(number)  # noqa: E731
    call = Call(deployed(server), keypresses=["1", lambda: wrong(code()), code])
    # As a subflow: the parent's Run Subflow widget passes the number as `to`.
    result = call.run("incomingParent", {"parent": {"parameters": {"to": number}}})
    assert result["verified"] == "true"
    assert "That code is not right. Please try again." in call.said
    assert [r[3]["success"] for r in call.requests if r[0] == "check_code"] == [False, True]


def test_three_wrong_codes_end_the_call_unverified(server, number):
    code = lambda: wrong(server.last_code(number))  # noqa: E731
    call = Call(deployed(server), keypresses=["1", code, None, code])  # one of them a silence
    result = call.run("incomingCall", {"call": {"From": number}})
    assert result["verified"] == "false"
    assert call.path[-2:] == ["say_still_wrong", "not_verified"]
    assert [r[3]["success"] for r in call.requests if r[0] == "check_code"] == [False, False]
    assert len(server.messages(number)) == 1, "one code sent, never approved"


def test_unsigned_widget_requests_are_refused_and_send_nothing(server, number):
    call = Call(deployed(server), keypresses=["1"], sign=False)
    result = call.run("incomingCall", {"call": {"From": number}})
    assert result["verified"] == "false"
    assert call.requests[0][2] == 401 and call.requests[0][3]["code"] == 20003
    assert call.path[-2:] == ["say_cannot_send", "not_verified"]
    assert server.messages(number) == []
