"""The JSON API: read memos, and write them as the logged-in user.

It takes JSON only, which a form on another site cannot send (nor a script there,
without CORS headers this app never gives), so it needs no CSRF token:
``create_app()`` exempts this blueprint from CSRF protection.
"""

from __future__ import annotations

import typing as t

from flask import Blueprint
from flask import jsonify
from flask import request
from flask import url_for
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from .forms import validate_memo
from .models import Memo
from .models import db

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.errorhandler(HTTPException)
def json_error(error: HTTPException) -> t.Any:
    # API clients get JSON errors, not the HTML pages the rest of the site serves.
    return jsonify(error=error.name, description=error.description), error.code


@bp.get("/memos")
def list_memos() -> t.Any:
    memos = db.session.execute(db.select(Memo).order_by(Memo.id)).scalars()
    return jsonify(memos=[memo.to_json() for memo in memos])


@bp.get("/memos/<int:memo_id>")
def get_memo(memo_id: int) -> t.Any:
    return jsonify(db.get_or_404(Memo, memo_id, description="No memo with that id.").to_json())


@bp.post("/memos")
def create_memo() -> t.Any:
    # Not login_required: that would redirect API clients to the HTML login page.
    if not current_user.is_authenticated:
        return jsonify(error="Unauthorized", description="Log in first."), 401
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify(error="Bad Request", description="Send a JSON object."), 400
    errors = validate_memo(data)
    if errors:
        return jsonify(error="Unprocessable Entity", errors=errors), 422
    memo = Memo(author_id=current_user.id, title=data["title"].strip(), body=data.get("body", ""))
    db.session.add(memo)
    db.session.commit()
    response = jsonify(memo.to_json())
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_memo", memo_id=memo.id)
    return response
