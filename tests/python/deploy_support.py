"""Helpers for the deployment tests: reading template.yaml the way
CloudFormation would (parameters, conditions, NoValue), finding the
Lambda functions it declares that exist in this tree, and running them under
cargo-lambda's Lambda Runtime API emulator.

Nothing here talks to AWS: the AWS services, Secrets Manager included, are
moto's server on loopback.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import time
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
EVENTS = ROOT / "events"
VENV_BIN = ROOT / "tests" / ".venv" / "bin"

# The test credential the sample events carry (`Authorization: Basic …` of
# SK0123…:events-example-secret) and the VERIFY_API_KEYS entry that accepts it.
EVENTS_API_KEY_ID = "SK0123456789abcdef0123456789abcdef"
EVENTS_API_KEY_SECRET = "events-example-secret"
EVENTS_API_KEYS_JSON = json.dumps(
    [{"key_id": EVENTS_API_KEY_ID, "secret_sha256": hashlib.sha256(EVENTS_API_KEY_SECRET.encode()).hexdigest()}]
)


def load_template(path: Path = TEMPLATE) -> dict:
    """The template with intrinsic functions in their long form ({"Ref": …})."""
    from cfnlint.decode import cfn_yaml

    return cfn_yaml.load(str(path))


def tool(name: str) -> str:
    """A tool from tests/.venv/bin (installed by tests/setup.sh), else PATH."""
    local = VENV_BIN / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} not found; run tests/setup.sh")
    return found


def tool_env(**extra: str) -> dict:
    """Environment for the venv's tools: its bin first (cargo-lambda needs
    the venv's python for `python -m ziglang`), no SAM telemetry."""
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["SAM_CLI_TELEMETRY"] = "0"
    env.update(extra)
    return env


# --- Functions -------------------------------------------------------------


@dataclass
class Function:
    logical_id: str
    code_uri: str
    package_dir: Path
    binary: str  # = Cargo package name (one binary per package)
    properties: dict = field(repr=False, default_factory=dict)

    @property
    def exists(self) -> bool:
        return (self.package_dir / "Cargo.toml").exists()


def declared_functions(template: dict) -> list[Function]:
    """Every rust-cargolambda function of the template, present or not."""
    out = []
    for logical_id, res in template["Resources"].items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        if res.get("Metadata", {}).get("BuildMethod") != "rust-cargolambda":
            continue
        code_uri = str(res["Properties"]["CodeUri"])
        package_dir = ROOT / code_uri
        binary = Path(code_uri).name
        manifest = package_dir / "Cargo.toml"
        if manifest.exists():
            binary = tomllib.loads(manifest.read_text())["package"]["name"]
        binary = res.get("Metadata", {}).get("BuildProperties", {}).get("Binary", binary)
        out.append(Function(logical_id, code_uri, package_dir, binary, dict(res["Properties"])))
    return out


def present_functions(template: dict) -> list[Function]:
    """The declared functions whose crate exists in this tree (so the tests
    cover a function as soon as it is merged, and skip it until then)."""
    return [f for f in declared_functions(template) if f.exists]


def target_dir() -> Path:
    return Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))


# --- Resolving the template like CloudFormation ------------------------------


NO_VALUE = object()  # `!Ref AWS::NoValue`: the list item or property is left out


class Resolver:
    """Evaluates the intrinsic functions that environment variables and
    policies use, with parameter values (defaults unless overridden), resource
    names standing in for physical ids, and resource attributes
    (`Fn::GetAtt`, `${Res.Attr}`) where given. The template holds no secret
    (the functions read theirs from Secrets Manager: `store_secrets`)."""

    def __init__(
        self,
        template: dict,
        parameters: dict[str, str],
        resources: dict[str, str],
        attributes: dict[str, str] | None = None,
    ):
        self.t = template
        self.resources = resources
        self.attributes = attributes or {}
        self.params = {}
        for name, spec in template.get("Parameters", {}).items():
            if name in parameters:
                self.params[name] = str(parameters[name])
            elif "Default" in spec:
                self.params[name] = str(spec["Default"])
        self.params.update({"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::StackName": "verify",
                            "AWS::Partition": "aws"})

    def ref(self, name: str):
        if name == "AWS::NoValue":
            return NO_VALUE
        if "." in name:
            return self.getatt(*name.split(".", 1))
        if name in self.params:
            return self.params[name]
        if name in self.resources:
            return self.resources[name]
        raise KeyError(f"Ref {name}: no parameter value and no stand-in for the resource")

    def getatt(self, resource: str, attribute: str) -> str:
        key = f"{resource}.{attribute}"
        if key not in self.attributes:
            raise KeyError(f"GetAtt {key}: no stand-in for the attribute")
        return self.attributes[key]

    def condition(self, name: str) -> bool:
        return self.boolean(self.t["Conditions"][name])

    def boolean(self, expr) -> bool:
        (fn, args), = expr.items()
        if fn == "Fn::Equals":
            return self.value(args[0]) == self.value(args[1])
        if fn == "Fn::Not":
            return not self.boolean(args[0])
        if fn == "Fn::And":
            return all(self.boolean(a) for a in args)
        if fn == "Fn::Or":
            return any(self.boolean(a) for a in args)
        if fn == "Condition":
            return self.condition(args)
        raise ValueError(f"unsupported condition {fn}")

    def value(self, expr):
        if isinstance(expr, (str, int, float)) and not isinstance(expr, bool):
            return str(expr)
        if isinstance(expr, bool):
            return "true" if expr else "false"
        if isinstance(expr, list):
            return [v for v in (self.value(e) for e in expr) if v is not NO_VALUE]
        if isinstance(expr, dict) and len(expr) == 1:
            (fn, args), = expr.items()
            if fn == "Ref":
                return self.ref(args)
            if fn == "Fn::Sub":
                text = args if isinstance(args, str) else args[0]
                extra = {} if isinstance(args, str) else {k: self.value(v) for k, v in args[1].items()}
                return re.sub(r"\$\{([^}!]+)\}", lambda m: extra.get(m.group(1)) or self.ref(m.group(1)), text)
            if fn == "Fn::If":
                return self.value(args[1] if self.condition(args[0]) else args[2])
            if fn == "Fn::Join":
                return args[0].join(self.value(a) for a in args[1])
            if fn == "Fn::Split":
                return self.value(args[1]).split(args[0])
            if fn == "Fn::GetAtt":
                resource, attribute = args if isinstance(args, list) else args.split(".", 1)
                return self.getatt(resource, attribute)
        raise ValueError(f"unsupported intrinsic {expr!r}")

    def environment(self, fn: Function) -> dict[str, str]:
        """Globals' variables merged with the function's, as SAM merges them."""
        merged = dict(self.t.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {}))
        merged.update(fn.properties.get("Environment", {}).get("Variables", {}))
        return {k: str(self.value(v)) for k, v in merged.items()}


def store_secrets(client, secrets: dict[str, str]) -> dict[str, str]:
    """Creates (or updates) each secret, name → SecretString, in the Secrets
    Manager `client` talks to; returns name → ARN."""
    arns = {}
    for name, value in secrets.items():
        try:
            arns[name] = client.create_secret(Name=name, SecretString=value)["ARN"]
        except client.exceptions.ResourceExistsException:
            arns[name] = client.put_secret_value(SecretId=name, SecretString=value)["ARN"]
    return arns


# --- Processes ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout} s")


def wait_for_line(proc: subprocess.Popen, log: Path, needle: str, timeout: float = 60.0) -> str:
    """Waits until the process's log file has a line containing `needle`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace") if log.exists() else ""
        for line in text.splitlines():
            if needle in line:
                return line
        if proc.poll() is not None:
            raise RuntimeError(f"exited ({proc.returncode}) before printing {needle!r}:\n{text}")
        time.sleep(0.05)
    raise RuntimeError(f"no {needle!r} within {timeout} s:\n{log.read_text(errors='replace')}")


def stop(proc: subprocess.Popen | None) -> None:
    """Stops one process this test started: TERM, then KILL."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


class RuntimeEmulator:
    """`cargo lambda watch --only-lambda-apis` on loopback: the Lambda Runtime
    API the function binaries poll, and the invoke endpoint `cargo lambda
    invoke` posts events to. The binaries are started by us (they are
    prebuilt), one per function, each polling `/.rt/<function name>`."""

    def __init__(self, log_dir: Path):
        self.port = free_port()
        self.log_dir = log_dir
        self.proc: subprocess.Popen | None = None
        self.functions: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}

    def __enter__(self) -> "RuntimeEmulator":
        log = open(self.log_dir / "cargo-lambda-watch.log", "wb")
        # stdin stays an open pipe: the watcher stops when its stdin closes.
        self.proc = subprocess.Popen(
            [tool("cargo-lambda"), "lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1", "-P", str(self.port)],
            cwd=ROOT,
            env=tool_env(),
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port, self.proc, "cargo lambda watch")
        return self

    def start_function(self, name: str, binary: Path, env: dict[str, str]) -> None:
        log_path = self.log_dir / f"{name}.log"
        full_env = {
            "PATH": os.environ.get("PATH", ""),
            "AWS_LAMBDA_RUNTIME_API": f"http://127.0.0.1:{self.port}/.rt/{name}",
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_EC2_METADATA_DISABLED": "true",
            "RUST_LOG": "info",
            **env,
        }
        self.functions[name] = subprocess.Popen(
            [str(binary)], env=full_env, stdin=subprocess.DEVNULL, stdout=open(log_path, "wb"), stderr=subprocess.STDOUT
        )
        self.logs[name] = log_path

    def invoke(self, name: str, event_file: Path, timeout: float = 30.0) -> dict:
        """`cargo lambda invoke NAME --data-file FILE`, as `sam local invoke -e` would."""
        proc = self.functions.get(name)
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{name} exited with {proc.returncode}:\n{self.log(name)}")
        out = subprocess.run(
            [tool("cargo-lambda"), "lambda", "invoke", name, "-A", "127.0.0.1", "-P", str(self.port), "--data-file", str(event_file)],
            cwd=ROOT,
            env=tool_env(),
            capture_output=True,
            timeout=timeout,
        )
        if out.returncode != 0:
            raise AssertionError(
                f"cargo lambda invoke {name} {event_file.name} failed ({out.returncode}):\n"
                f"{out.stdout.decode()}{out.stderr.decode()}\n--- function log ---\n{self.log(name)}"
            )
        return json.loads(out.stdout)

    def invoke_payload(self, name: str, payload: dict, timeout: float = 30.0) -> tuple[bool, object]:
        """Posts an event to the emulator's invoke endpoint (what `cargo
        lambda invoke` does); (True, response) or (False, the error)."""
        proc = self.functions.get(name)
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{name} exited with {proc.returncode}:\n{self.log(name)}")
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/2015-03-31/functions/{name}/invocations",
            data=json.dumps(payload).encode(),
            headers={"content-type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                body = resp.read()
                failed = resp.headers.get("X-Amz-Function-Error") is not None
        except urllib.error.HTTPError as e:
            return False, e.read().decode(errors="replace")
        try:
            parsed = json.loads(body)
        except ValueError:
            return False, body.decode(errors="replace")
        if failed or (isinstance(parsed, dict) and "errorType" in parsed and "errorMessage" in parsed):
            return False, parsed
        return True, parsed

    def log(self, name: str) -> str:
        """The function's output so far, without terminal colour codes."""
        path = self.logs.get(name)
        text = path.read_text(errors="replace") if path and path.exists() else ""
        return re.sub(r"\x1b\[[0-9;]*m", "", text)

    def __exit__(self, *exc) -> None:
        for proc in self.functions.values():
            stop(proc)
        if self.proc is not None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            stop(self.proc)
