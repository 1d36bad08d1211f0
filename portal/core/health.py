"""GET /healthz for load balancers: no session, one trivial query."""
from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

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
    return jsonify(status="ok")
