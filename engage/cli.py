"""Command-line tools: ``flask --app engage demo`` and ``create-user``."""

from __future__ import annotations

import os

import click
import sqlalchemy as sa
from flask import Flask

from engage.extensions import db
from engage.models import Organisation, Plan, Role, StaffUser


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_command)
    app.cli.add_command(create_user_command)
    app.cli.add_command(worker_command)


@click.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
def worker_command(once: bool) -> None:
    """Deliver due text messages (and, later, schedule reminders)."""
    from flask import current_app

    from engage.sms.worker import run

    handled = run(current_app._get_current_object(), once=once)
    if once:
        click.echo(f"Handled {handled} message(s).")


@click.command("demo")
def demo_command() -> None:
    """Load realistic demo data (safe to run again)."""
    from engage.demo import load_demo

    logins = load_demo()
    db.session.commit()
    from engage.demo import DEMO_REFERRAL_CODE

    click.echo("Demo data is ready. Sign in at /login with:")
    for role, email, password in logins:
        click.echo(f"  {role:<12} {email:<40} password: {password}")
    click.echo(f"Parents can sign up at /join?ref={DEMO_REFERRAL_CODE} or by texting JOIN {DEMO_REFERRAL_CODE}.")


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--plan", "plans", multiple=True, help="Plan slug (coordinators; may repeat).")
@click.option("--org", help="Organisation slug (CBO staff).")
@click.option("--name", help="Name shown to colleagues (defaults to the part of the email before @).")
def create_user_command(email: str, role: str, plans: tuple[str, ...], org: str | None, name: str | None) -> None:
    """Create a staff account, or update its role and password. The password comes
    from ENGAGE_PASSWORD or a prompt."""
    from engage.auth.services import normalise_email

    email = normalise_email(email)
    if "@" not in email:
        raise click.BadParameter("not an email address", param_hint="EMAIL")
    plan_rows = []
    for slug in plans:
        plan = db.session.scalar(sa.select(Plan).where(Plan.slug == slug))
        if plan is None:
            raise click.BadParameter(f"no plan with slug {slug!r}", param_hint="--plan")
        plan_rows.append(plan)
    organisation = None
    if org:
        organisation = db.session.scalar(sa.select(Organisation).where(Organisation.slug == org))
        if organisation is None:
            raise click.BadParameter(f"no organisation with slug {org!r}", param_hint="--org")
    if role == "coordinator" and not plan_rows:
        raise click.UsageError("a coordinator needs at least one --plan")
    if role == "cbo" and organisation is None:
        raise click.UsageError("CBO staff need --org")

    password = os.environ.get("ENGAGE_PASSWORD") or click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 12:
        raise click.UsageError("the password must be at least 12 characters")

    user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == email))
    created = user is None
    user = user or StaffUser(email=email, name=name or email.split("@")[0])
    if name:
        user.name = name
    user.role = Role(role)
    user.plans = plan_rows if role == "coordinator" else []
    user.organisation = organisation if role == "cbo" else None
    user.is_enabled = True
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"{'Created' if created else 'Updated'} {role} account {user.id}.")
