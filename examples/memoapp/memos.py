"""Server-rendered pages: the list of memos, one memo, and the form to write one."""

from __future__ import annotations

import typing as t

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_login import current_user
from flask_login import login_required
from sqlalchemy.orm import joinedload

from .forms import validate_memo
from .models import Memo
from .models import db

bp = Blueprint("memos", __name__)


@bp.route("/")
def index() -> t.Any:
    # Load the authors with the memos: one query for the page, not one per memo. The
    # page size is read for each request.
    query = (
        db.select(Memo)
        .options(joinedload(Memo.author))
        .order_by(Memo.created.desc(), Memo.id.desc())
    )
    memos = db.paginate(query, per_page=current_app.config["MEMOS_PER_PAGE"], error_out=False)
    return render_template("memos/index.html", memos=memos)


@bp.route("/memos/<int:memo_id>")
def detail(memo_id: int) -> t.Any:
    memo = db.get_or_404(Memo, memo_id)
    return render_template("memos/detail.html", memo=memo)


@bp.route("/memos/new", methods=["GET", "POST"])
@login_required
def create() -> t.Any:
    if request.method == "POST":
        errors = validate_memo(request.form)
        if not errors:
            memo = Memo(
                author_id=current_user.id,
                title=request.form["title"].strip(),
                body=request.form.get("body", ""),
            )
            db.session.add(memo)
            db.session.commit()
            flash("Memo saved.", "success")
            return redirect(url_for("memos.detail", memo_id=memo.id))
        for error in errors.values():
            flash(error, "error")
        return render_template("memos/form.html", form=request.form, errors=errors), 422
    return render_template("memos/form.html", form={}, errors={})


@bp.route("/memos/<int:memo_id>/delete", methods=["POST"])
@login_required
def delete(memo_id: int) -> t.Any:
    memo = db.get_or_404(Memo, memo_id)
    if memo.author_id != current_user.id:
        abort(403)
    db.session.delete(memo)
    db.session.commit()
    flash("Memo deleted.", "info")
    return redirect(url_for("memos.index"))
