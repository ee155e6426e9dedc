"""The deployment files cannot rot: every HEADSHOTS_* name in deploy/compose.yaml is a setting
(pydantic-settings ignores unknown names, so a renamed setting would be dropped silently), the
values validate and pass the production checks, every `headshots ...` command parses with the
real CLI, and every variable the file needs is in env.example and the docs' table."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
import typer
import yaml
from pydantic import BaseModel

from headshots.cli import app
from headshots.config import Settings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
COMPOSE = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
OURS = {name: s for name, s in SERVICES.items() if s.get("command", [""])[0] == "headshots"}
VARIABLE = re.compile(r"\$\{(\w+)(?::?[?-][^}]*)?\}")
# what an operator puts in deploy/.env, in the right form for each check
SAMPLE = {"POSTGRES_PASSWORD": "pw",
          "HEADSHOTS_MASTER_KEY": base64.b64encode(b"k" * 32).decode(),
          "HEADSHOTS_SESSION_SECRET": "s" * 48, "HEADSHOTS_PUBLIC_URL": "https://headshots.example",
          "S3_ACCESS_KEY_ID": "key", "S3_SECRET_ACCESS_KEY": "secret"}


def celery_present() -> bool:
    import headshots.runners

    return hasattr(headshots.runners, "make_celery")


def setting_exists(env_name: str) -> bool:
    """HEADSHOTS_A__B names field b of the model in Settings field a."""
    model: type[BaseModel] = Settings
    parts = env_name.removeprefix("HEADSHOTS_").lower().split("__")
    for i, part in enumerate(parts):
        field = model.model_fields.get(part)
        if field is None:
            return False
        if i < len(parts) - 1:
            inner = field.annotation
            if not (isinstance(inner, type) and issubclass(inner, BaseModel)):
                return False
            model = inner
    return True


def environment(service: dict) -> dict[str, str]:
    env = {}
    for name, value in service.get("environment", {}).items():
        def fill(m: re.Match) -> str:
            assert m.group(1) in SAMPLE, f"{m.group(1)} is not in env.example / SAMPLE"
            return SAMPLE[m.group(1)]

        env[name] = VARIABLE.sub(fill, str(value))
    return env


def test_the_compose_file_has_every_process():
    assert {"web", "cpu-worker", "gpu-worker", "beat", "redis", "postgres", "seaweedfs"} <= \
        set(SERVICES)
    assert set(OURS) == {"web", "cpu-worker", "gpu-worker", "beat"}
    gpu = SERVICES["gpu-worker"]["deploy"]["resources"]["reservations"]["devices"][0]
    assert gpu["capabilities"] == ["gpu"] and gpu["driver"] == "nvidia"
    assert SERVICES["gpu-worker"]["command"][2:4] == ["--queues", "gpu"]
    assert SERVICES["cpu-worker"]["command"][2:4] == ["--queues", "cpu"]
    assert sum("--beat" in s["command"] for s in OURS.values()) == 1  # exactly one beat


@pytest.mark.parametrize("service", sorted(OURS))
def test_every_setting_named_exists_and_validates(service, monkeypatch, tmp_path):
    env = environment(OURS[service])
    optional = {"HEADSHOTS_BROKER_URL"} | {n for n in env if n.startswith("HEADSHOTS_WORKER__")}
    missing = [n for n in env if n.startswith("HEADSHOTS_") and not setting_exists(n)]
    if not celery_present():  # the Celery runner's settings arrive with its branch
        missing = [n for n in missing if n not in optional]
    assert missing == [], f"{service}: not settings: {missing}"
    assert env["HEADSHOTS_BROKER_URL"] == "redis://redis:6379/0"
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HEADSHOTS_DATA_DIR", str(tmp_path))
    settings = Settings()
    assert settings.environment == "production" and settings.blobs.kind == "s3"
    assert settings.resolved_database_url.startswith("postgresql+psycopg://headshots:pw@")
    assert settings.master_key is not None and len(settings.service.base_models) == 2
    if service == "web":
        from headshots.api._secrets import check_production

        check_production(settings)  # raises on what production would refuse


@pytest.mark.parametrize("service", sorted(OURS))
def test_every_command_is_a_real_cli_command(service):
    args = OURS[service]["command"][1:]
    group = typer.main.get_command(app)
    if args[0] == "worker" and not celery_present():
        pytest.skip("`headshots worker` arrives with the Celery runner")
    command = group.commands[args[0]]  # type: ignore[attr-defined]
    command.make_context(args[0], list(args[1:]))  # unknown options or bad values raise


def test_the_dockerfile_default_command_parses_and_copies_what_exists():
    text = (DEPLOY / "Dockerfile").read_text()
    cmd = yaml.safe_load(re.search(r"^CMD (\[.*\])$", text, re.M).group(1))
    assert cmd == SERVICES["web"]["command"]
    for source in re.findall(r"^COPY (.+) \S+$", text, re.M):
        for path in source.split():
            assert (ROOT / path).exists(), path


def test_every_variable_is_documented():
    used = set(VARIABLE.findall((DEPLOY / "compose.yaml").read_text()))
    example = {line.split("=")[0] for line in (DEPLOY / "env.example").read_text().splitlines()
               if line and not line.startswith("#")}
    assert used == example == set(SAMPLE)
    docs = (ROOT / "docs" / "deploy.md").read_text()
    names = {n for s in OURS.values() for n in s["environment"] if n.startswith("HEADSHOTS_")}
    assert [n for n in sorted(names) if f"`{n}`" not in docs] == []
