"""The systemd units of deploy/systemd/ as the tests use them: parsed, and rendered with a
test's paths so that their commands run as plain processes (CI has no systemd)."""

import shlex
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

PROJECT = Path(__file__).resolve().parents[1]
UNITS_DIR = PROJECT / "deploy" / "systemd"
# The install paths the units and docs name (docs/production.md, "One machine, step by step").
VENV_BIN = "/opt/pix/venv/bin/"
CONFIG_DIR = "/etc/pix/"
STATE_DIR = "/var/lib/pix"
CHECKOUT = "/opt/pix/pix_pipeline"
# Every service, in the order of `systemctl enable --now` in docs/production.md.
START_ORDER = (
    "pix-code-server",
    "pix-daemon",
    "pix-webserver",
    "pix-webserver-viewers",
    "pix-desk",
    "pix-proxy",
)


def dagster_env(database_url: str, home: Path, compute_logs: Path) -> dict[str, str]:
    """The variables of /etc/pix/dagster.env for a Dagster instance on the PostgreSQL database at
    `database_url`, with step logs on local disk (deploy/dagster.one-machine.yaml)."""
    db = make_url(database_url)
    return {
        "DAGSTER_HOME": str(home),
        "DAGSTER_POSTGRES_HOST": db.host or "127.0.0.1",
        "DAGSTER_POSTGRES_PORT": str(db.port or 5432),
        "DAGSTER_POSTGRES_USER": db.username or "postgres",
        "DAGSTER_POSTGRES_PASSWORD": db.password or "",
        "DAGSTER_POSTGRES_DB": db.database or "",
        "DAGSTER_COMPUTE_LOGS_DIR": str(compute_logs),
    }


@dataclass(frozen=True)
class Unit:
    """One service unit: its name and its [Service] entries (a key may repeat)."""

    name: str
    text: str

    def values(self, key: str) -> list[str]:
        found, section = [], ""
        for raw in self.text.splitlines():
            line = raw.strip()
            if line.startswith("["):
                section = line
            elif section == "[Service]" and line.startswith(f"{key}="):
                found.append(line.split("=", 1)[1])
        return found

    def value(self, key: str) -> str | None:
        values = self.values(key)
        return values[-1] if values else None

    @property
    def command(self) -> list[str]:
        start = self.value("ExecStart")
        assert start is not None, f"{self.name} has no ExecStart"
        return shlex.split(start)

    @property
    def environment_files(self) -> list[str]:
        return self.values("EnvironmentFile")


def units() -> dict[str, Unit]:
    """Every service unit shipped, by name without `.service`."""
    return {
        path.stem: Unit(path.stem, path.read_text(encoding="utf-8"))
        for path in sorted(UNITS_DIR.glob("*.service"))
    }


def env_file_values(path: Path) -> dict[str, str]:
    """`NAME=value` lines as systemd's EnvironmentFile= reads them (comments and blanks skipped)."""
    values = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip().strip('"')
    return values


def env_file_names(path: Path) -> set[str]:
    """Every variable a shipped environment file names, set or commented out."""
    names = set()
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip().lstrip("#").strip()
        name, sep, _ = line.partition("=")
        if sep and name.isidentifier() and name.isupper():
            names.add(name)
    return names


def render(unit: Unit, *, bin_dir: Path, config_dir: Path, state_dir: Path) -> str:
    """The unit with the test's paths in place of the install paths, and without User=/Group=
    (the test runs as whoever runs it)."""
    text = (
        unit.text.replace(VENV_BIN, f"{bin_dir}/")
        .replace(CONFIG_DIR, f"{config_dir}/")
        .replace(STATE_DIR, str(state_dir))
        .replace(CHECKOUT, str(PROJECT))
    )
    return (
        "\n".join(line for line in text.splitlines() if not line.startswith(("User=", "Group=")))
        + "\n"
    )
