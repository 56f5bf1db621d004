"""python manage.py run_function HANDLER.js --type ... --payload FILE.json [--settings FILE.json]"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "run_function", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "source.js").write_text(
        "async function onRequest(request, settings) {\n"
        "  const body = request.json();\n"
        "  console.log('got', body.name, settings.region);\n"
        "  Segment.identify({ userId: body.id, traits: { name: body.name } });\n"
        "  Segment.set({ collection: 'users', id: body.id, properties: { n: 1 } });\n"
        "}\n"
    )
    (tmp_path / "source.json").write_text(
        json.dumps(
            {
                "payload": {
                    "body": {"id": "u1", "name": "Ann"},
                    "headers": {"Content-Type": "application/json"},
                    "queryParameters": {},
                },
                "settings": {"region": "eu", "apiKey": "k"},
            }
        )
    )
    (tmp_path / "dest.js").write_text(
        "async function onTrack(event, settings) { return { ...event, key: settings.apiKey } }\n"
        "async function onBatch(events) { return events.length }\n"
        "async function onIdentify() { throw new RetryError('later') }\n"
    )
    (tmp_path / "track.json").write_text(
        json.dumps({"event": {"type": "track", "userId": "u"}, "settings": {"apiKey": "a"}})
    )
    (tmp_path / "batch.json").write_text(
        json.dumps({"event": [{"type": "track"}, {"type": "track"}]})
    )
    (tmp_path / "identify.json").write_text(
        json.dumps({"event": {"type": "identify", "userId": "u"}})
    )
    (tmp_path / "override.json").write_text(json.dumps({"apiKey": "b"}))
    (tmp_path / "bad.json").write_text("{not json")
    return tmp_path


def test_source_fixture(files: Path) -> None:
    p = cli(str(files / "source.js"), "--type", "source", "--payload", str(files / "source.json"))
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert set(out) >= {"events", "objects", "result", "logs", "error"}
    assert out["events"] == [{"type": "identify", "userId": "u1", "traits": {"name": "Ann"}}]
    assert out["objects"] == [{"collection": "users", "id": "u1", "properties": {"n": 1}}]
    assert out["logs"] == [{"level": "log", "message": "got Ann eu"}]
    assert out["error"] is None


def test_destination_settings_override_and_batch(files: Path) -> None:
    p = cli(
        str(files / "dest.js"),
        "--type",
        "destination",
        "--payload",
        str(files / "track.json"),
        "--settings",
        str(files / "override.json"),
    )
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["result"] == {"type": "track", "userId": "u", "key": "b"}
    p = cli(str(files / "dest.js"), "--type", "insert", "--payload", str(files / "batch.json"))
    assert json.loads(p.stdout)["result"] == 2


def test_thrown_error_still_exits_zero(files: Path) -> None:
    p = cli(
        str(files / "dest.js"), "--type", "destination", "--payload", str(files / "identify.json")
    )
    assert p.returncode == 0
    err = json.loads(p.stdout)["error"]
    assert (
        err["name"] == "RetryError" and err["message"] == "later" and "function.js" in err["stack"]
    )


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["missing.js", "--type", "source", "--payload", "{dir}/source.json"], "not found"),
        (["{dir}/source.js", "--type", "source", "--payload", "{dir}/nope.json"], "not found"),
        (["{dir}/source.js", "--type", "source", "--payload", "{dir}/bad.json"], "not valid JSON"),
        (
            ["{dir}/source.js", "--type", "webhook", "--payload", "{dir}/source.json"],
            "unknown --type",
        ),
    ],
)
def test_usage_errors_exit_2(files: Path, args: list[str], needle: str) -> None:
    p = cli(*[a.format(dir=files) for a in args])
    assert p.returncode == 2
    assert needle in p.stderr
    assert p.stdout == ""


def test_module_runner_accepts_settings(files: Path) -> None:
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "functions_ui.runtime.cli",
            str(files / "dest.js"),
            "--type",
            "destination",
            "--payload",
            str(files / "track.json"),
            "--settings",
            str(files / "override.json"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["result"]["key"] == "b"


def test_mock_fetch_lists_every_outbound_request_with_its_headers_and_body(tmp_path: Path):
    (tmp_path / "relay.js").write_text(
        "async function onTrack(event, settings) {\n"
        "  const r = await fetch('https://api.example.com/e', { method: 'POST',\n"
        "    headers: { Authorization: 'Bearer ' + settings.apiKey, 'X-Team': 'a' },\n"
        "    body: JSON.stringify({ e: event.event }) });\n"
        "  if (r.status !== 503) throw new Error('not mocked');\n"
        "}\n"
    )
    (tmp_path / "event.json").write_text(
        json.dumps({"event": {"type": "track", "event": "Paid"}, "settings": {"apiKey": "k1"}})
    )
    done = cli(
        str(tmp_path / "relay.js"),
        "--type",
        "destination",
        "--payload",
        str(tmp_path / "event.json"),
        "--mock-fetch",
        "--mock-status",
        "503",
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["status"] == "success"
    [fetch] = out["fetches"]
    assert (fetch["method"], fetch["url"], fetch["status"]) == (
        "POST",
        "https://api.example.com/e",
        503,
    )
    assert fetch["headers"]["authorization"] == "••••"
    assert fetch["headers"]["x-team"] == "a"
    assert json.loads(fetch["body"]) == {"e": "Paid"}
    assert fetch["mocked"] is True
