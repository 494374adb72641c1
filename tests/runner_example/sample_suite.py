"""A user's test module, run by tests/test_runners.py under each runner.

It has 4 passing tests, 1 failing, 2 erroring and 1 skipped.
"""

import unittest

import flask

from flask_testcase import TestCase


def create_app():
    app = flask.Flask(__name__)
    app.config["SECRET_KEY"] = "runner"

    @app.route("/")
    def index():
        flask.flash("hi")
        return flask.render_template_string("{{ who }}", who="world")

    return app


class Passing(TestCase):
    def create_app(self):
        return create_app()

    def test_status(self):
        self.assert200(self.client.get("/"))

    def test_template_and_flash(self):
        self.client.get("/")
        self.assertContext("who", "world")
        self.assertMessageFlashed("hi")


class PerClass(TestCase):
    app_per_class = True

    def create_app(self):
        return create_app()

    def test_one(self):
        self.app.config["CHANGED"] = True

    def test_two(self):
        self.assertNotIn("CHANGED", self.app.config)


class Failing(TestCase):
    def create_app(self):
        return create_app()

    def test_fails(self):
        self.assert404(self.client.get("/"))


class Erroring(TestCase):
    def create_app(self):
        return create_app()

    def test_errors(self):
        raise ValueError("broken test")


class BrokenApp(TestCase):
    def create_app(self):
        raise RuntimeError("cannot build app")

    def test_never_runs(self):
        raise AssertionError("must not run")


@unittest.skip("not today")
class Skipped(TestCase):
    def create_app(self):
        raise AssertionError("a skipped test builds nothing")

    def test_skipped(self):
        pass


def tearDownModule():
    # Every runner must release the per-class app once the class is done.
    if "_flask_testcase_class_app" in vars(PerClass):
        raise RuntimeError("PerClass's app was not released after the class")
