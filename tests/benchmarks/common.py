"""What the benchmarks share: where SAG-anon lies, and a fresh database for one run."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def sag_dir() -> Path:
    """$CUBE_SHARED_DIR/data/SAG-anon, else <repo>/../shared/data/SAG-anon (never copied into the repo)."""
    base = os.environ.get("CUBE_SHARED_DIR")
    return (Path(base) if base else REPO.parent / "shared") / "data" / "SAG-anon"


def sag_files() -> list[Path]:
    root = sag_dir()
    return sorted(root.glob("*.dcm")) if root.is_dir() else []


def fresh_database(tmp: Path) -> tuple[dict[str, str], Callable[[], None]]:
    """Env naming a new database (on the server of DATABASE_URL if it is PostgreSQL, else SQLite in tmp),
    and a callable that drops it."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return {"DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}"}, lambda: None
    import dj_database_url
    import psycopg2

    cfg = dj_database_url.parse(url)
    name = f"cube_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(dbname="postgres", user=cfg["USER"], password=cfg["PASSWORD"] or None,
                             host=cfg["HOST"], port=cfg["PORT"] or 5432)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

    return {"DATABASE_URL": f"{url.rsplit('/', 1)[0]}/{name}"}, drop
