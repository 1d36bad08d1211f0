"""GET /healthz for load balancers: no session, one trivial query."""

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from portal.core.redis_client import redis_status
from portal.extensions import csrf, db, limiter

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
@csrf.exempt
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable"), 503
    finally:
        db.session.close()
    if redis_status() == "unreachable":
        # Still in rotation: the portal serves without Redis, only slower and with per-process limits.
        return jsonify(status="degraded", redis="unreachable")
    return jsonify(status="ok")
