"""How fast the public and staff pages render, in process, on SQLite with demo data.

Measures the application itself (routing, queries, templates, translations), not a
web server or the network: requests per second through Flask's test client.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

PAGES = [
    ("home (en)", "/?lang=en", None),
    ("home (zh_Hant)", "/?lang=zh_Hant", None),
    ("committees (es)", "/committees?lang=es", None),
    ("committee page", "/committees/valle-central-children", None),
    ("login form", "/login", None),
    ("admin overview", "/admin/", "admin@engage.example.org"),
    ("admin staff list", "/admin/staff", "admin@engage.example.org"),
    ("coordinator home", "/coordinator/", "coordinator@valle-central.example.org"),
    ("you said, we did (es)", "/committees/valle-central-children/outcomes?lang=es", None),
    ("committee calendar (.ics)", "/committees/valle-central-children/calendar.ics", None),
    ("coordinator meetings", "/coordinator/meetings", "coordinator@valle-central.example.org"),
    ("coordinator supports", "/coordinator/supports", "coordinator@valle-central.example.org"),
    ("coordinator stipends", "/coordinator/stipends", "coordinator@valle-central.example.org"),
    ("coordinator themes", "/coordinator/themes", "coordinator@valle-central.example.org"),
    ("coordinator measures", "/coordinator/measures", "coordinator@valle-central.example.org"),
]


def main(seconds: float = 2.0) -> None:
    import sqlalchemy as sa

    from bench.sms import quiet_upgrade
    from engage import create_app
    from engage.demo import load_demo
    from engage.extensions import db
    from engage.models import StaffUser

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "LOG_LEVEL": "WARNING"})
        with app.app_context():
            quiet_upgrade()
            load_demo()
            db.session.commit()
            ids = {u.email: u.get_id() for u in db.session.scalars(sa.select(StaffUser))}
        print(f"{'page':<22} {'req/s':>8} {'median ms':>10} {'p95 ms':>8}")
        for name, path, who in PAGES:
            client = app.test_client()
            if who:
                with client.session_transaction() as sess:
                    sess["_user_id"] = ids[who]
            assert client.get(path).status_code == 200, path
            timings = []
            end = time.perf_counter() + seconds
            while time.perf_counter() < end:
                start = time.perf_counter()
                client.get(path)
                timings.append(time.perf_counter() - start)
            timings.sort()
            median = statistics.median(timings) * 1000
            p95 = timings[int(len(timings) * 0.95)] * 1000
            print(f"{name:<22} {len(timings) / seconds:>8.0f} {median:>10.2f} {p95:>8.2f}")
