"""The Flask extensions the app uses, made here and set up in ``create_app()``."""

from __future__ import annotations

from flask_login import LoginManager
from flask_mailman import Mail
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

#: CSRF protection for every form POST (the JSON API is exempt).
csrf = CSRFProtect()

#: Who is logged in; ``auth.py`` says how to load a user and where to log in.
login_manager = LoginManager()

#: Sending email: the welcome email after registration.
mail = Mail()

#: The schema's migrations (``examples/migrations``, made with ``flask db init`` and
#: ``flask db migrate``): ``flask --app memoapp db upgrade`` builds the database.
migrate = Migrate()
