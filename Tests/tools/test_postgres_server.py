"""The PostgreSQL the tests start (scripts/arcservers.py): a real server on loopback,
never as root, refusing a wrong password, gone without a trace after stop()."""
import os
import subprocess
from pathlib import Path

from arcservers import PostgreSQL, postgres_bin


def psql(url, sql):
    return subprocess.run([str(postgres_bin() / "psql"), "-XAt", url, "-c", sql], capture_output=True, text=True,
                          env={k: v for k, v in os.environ.items() if not k.startswith("PG")}, timeout=30)


def test_session_server_answers_as_an_unprivileged_user(postgres):
    r = psql(postgres.url, "SELECT current_database(), current_user")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "arc|arc"
    owner = Path(f"/proc/{postgres.proc.pid}").stat().st_uid
    assert owner != 0
    if os.geteuid() == 0:
        import pwd
        assert owner == pwd.getpwnam("postgres").pw_uid


def test_wrong_password_is_refused(postgres):
    r = psql(postgres.url.replace(postgres.password, "not-the-password"), "SELECT 1")
    assert r.returncode != 0
    assert "password authentication failed" in r.stderr


def test_stop_kills_the_server_and_removes_its_cluster(tmp_path):
    p = PostgreSQL(tmp_path / "pg").start()
    pid, cluster = p.proc.pid, p.cluster
    assert (cluster / "data" / "PG_VERSION").exists()
    p.stop()
    assert not cluster.exists()
    assert not Path(f"/proc/{pid}").exists()
    assert psql(p.url, "SELECT 1").returncode != 0


def test_command_line_start_and_stop(tmp_path):
    script = Path(__file__).resolve().parents[2] / "scripts" / "arcservers.py"
    out = subprocess.run([os.sys.executable, str(script), "postgres", "start", str(tmp_path)],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    assert out.startswith("export ARC_POSTGRES_URL=postgres://arc:")
    url = out.strip().split("=", 1)[1]
    try:
        assert psql(url, "SELECT 41 + 1").stdout.strip() == "42"
    finally:
        subprocess.run([os.sys.executable, str(script), "postgres", "stop", str(tmp_path)], check=True, timeout=60)
    assert psql(url, "SELECT 1").returncode != 0
    assert not (tmp_path / "postgres.pid").exists()
