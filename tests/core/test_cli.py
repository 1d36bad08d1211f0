"""The command line: users, tokens, staff import and demo data."""

from sqlalchemy import func, select

from portal.auth.models import User
from portal.clinics.models import Clinic
from portal.extensions import db


def invoke(app, *args):
    db.session.commit()
    return app.test_cli_runner().invoke(args=list(args))


def test_create_user_needs_a_clinic_except_for_superadmin(app, make_clinic):
    make_clinic(short_name="ДГП-94")
    result = invoke(
        app, "portal", "create-user", "--email", "a@example.org", "--password", "long-enough-1", "--role", "doctor"
    )
    assert result.exit_code != 0 and "нужна поликлиника" in result.output
    result = invoke(
        app,
        "portal",
        "create-user",
        "--email",
        "a@example.org",
        "--password",
        "long-enough-1",
        "--role",
        "doctor",
        "--clinic",
        "ДГП-94",
        "--name",
        "Анна Врачева",
    )
    assert result.exit_code == 0, result.output
    result = invoke(
        app,
        "portal",
        "create-user",
        "--email",
        "root@example.org",
        "--password",
        "long-enough-1",
        "--role",
        "superadmin",
    )
    assert result.exit_code == 0, result.output
    names = db.session.scalars(select(User.full_name).order_by(User.id)).all()
    assert names == ["Анна Врачева", "root@example.org"]


def test_import_users_writes_nothing_when_any_row_is_bad(app, make_clinic, tmp_path):
    make_clinic(short_name="ДГП-94")
    path = tmp_path / "staff.csv"
    path.write_text(
        "email,full_name,role,clinic\n"
        "ok@example.org,Хороший Врач,doctor,ДГП-94\n"
        "bad-email,Плохой Адрес,doctor,ДГП-94\n"
        "x@example.org,Неизвестная,doctor,НЕТ-ТАКОЙ\n",
        encoding="utf-8",
    )
    result = invoke(app, "portal", "import-users", str(path))
    assert result.exit_code != 0
    assert "строка 3" in result.output and "строка 4" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_import_users_creates_every_good_row(app, make_clinic, tmp_path):
    make_clinic(short_name="ДГП-94")
    path = tmp_path / "staff.csv"
    path.write_text(
        "\ufeffemail,full_name,role,clinic,password\n"
        "one@example.org,Первый Врач,doctor,ДГП-94,\n"
        "two@example.org,Второй Тренер,trainer,ДГП-94,long-enough-pass\n",
        encoding="utf-8",
    )
    result = invoke(app, "portal", "import-users", str(path))
    assert result.exit_code == 0, result.output
    assert "Created 2 user(s)" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 2


def test_seed_demo_is_idempotent_and_prints_the_logins(app):
    first = invoke(app, "portal", "seed-demo")
    assert first.exit_code == 0, first.output
    assert "doctor@dgp94.demo.portal" in first.output
    counts = (
        db.session.scalar(select(func.count()).select_from(User)),
        db.session.scalar(select(func.count()).select_from(Clinic)),
    )
    second = invoke(app, "portal", "seed-demo")
    assert second.exit_code == 0, second.output
    assert (
        db.session.scalar(select(func.count()).select_from(User)),
        db.session.scalar(select(func.count()).select_from(Clinic)),
    ) == counts
    assert counts[1] == 2
