"""Demo linked resources for the demo clinics (added once; existing names are kept)."""

from sqlalchemy import select

from portal.core.db import utcnow
from portal.extensions import db
from portal.search.models import LinkedResource

DEMO_RESOURCES = [
    {
        "name": "Рубрикатор клинических рекомендаций Минздрава России",
        "url": "https://cr.minzdrav.gov.ru",
        "description": "Действующие клинические рекомендации, одобренные научно-практическим советом Минздрава России.",
        "access_note": "Открытый доступ.",
    },
    {
        "name": "Научная электронная библиотека eLIBRARY.RU",
        "url": "https://elibrary.ru",
        "description": "Российские научные журналы и РИНЦ.",
        "access_note": "Полные тексты части журналов — после регистрации; вход с компьютеров кабинета.",
    },
]


def seed_demo(context):
    now = utcnow()
    for clinic in context["clinics"]:
        existing = set(db.session.scalars(select(LinkedResource.name).where(LinkedResource.clinic_id == clinic.id)))
        for spec in DEMO_RESOURCES:
            if spec["name"] not in existing:
                db.session.add(LinkedResource(clinic_id=clinic.id, created_at=now, **spec))
    db.session.flush()
