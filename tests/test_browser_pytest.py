"""Headless Chromium against the pytest plugin's ``live_server``, with the plugin's ``db``:
the browser sees the test's rows, the rows its form writes are in the test's database,
and all of it is rolled back after each test. Skipped with the reason without
Chromium, failed instead under ``CI=true`` (see test_browser)."""

from __future__ import annotations

import typing as t

import flask
import pytest
import sqlalchemy as sa
from _dbs import url_for
from test_browser import Greeting
from test_browser import create_app
from test_browser import names
from test_browser import start_chromium
from test_browser import stop_chromium

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def driver(live_server: t.Any) -> t.Iterator[t.Any]:
    browser = start_chromium()
    try:
        yield browser
    finally:
        stop_chromium(browser)
        # The plugin's server lasts for the session; this suite's other tests check
        # that no live server thread outlives its tests, so stop it with the module.
        live_server.stop()


@pytest.fixture(params=["sqlite_memory", "postgresql"])
def database(request: pytest.FixtureRequest) -> str:
    return url_for(request.param, "browser")


@pytest.fixture
def app(database: str) -> flask.Flask:
    return create_app(database)


def wait_for(driver: t.Any, css: str) -> t.Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, 10).until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))


def test_the_browser_sees_and_writes_the_tests_data(
    driver: t.Any, live_server: t.Any, db: t.Any
) -> None:
    from selenium.webdriver.common.by import By

    db.session.add(Greeting(name="Grace"))
    db.session.commit()
    driver.get(live_server.url("/greet"))
    driver.find_element(By.ID, "name").send_keys("Ada")
    driver.find_element(By.ID, "send").click()
    assert wait_for(driver, "#greeting").text == "Hello, Ada!"
    listed = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#everyone li")]
    assert listed == ["Grace", "Ada"]
    assert names() == ["Grace", "Ada"]


def test_the_next_test_starts_empty(driver: t.Any, live_server: t.Any, db: t.Any) -> None:
    from selenium.webdriver.common.by import By

    driver.get(live_server.url("/result/nobody"))
    assert wait_for(driver, "#greeting").text == "Hello, nobody!"
    assert driver.find_elements(By.CSS_SELECTOR, "#everyone li") == []


@pytest.mark.postgresql
def test_nothing_is_left_in_the_database() -> None:
    # In memory there is no outside to look from; on PostgreSQL, a new connection.
    engine = sa.create_engine(url_for("postgresql", "browser"), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table(Greeting.__tablename__):
                # Without Chromium the browser tests skipped before making the table.
                return
            assert conn.scalar(sa.select(sa.func.count()).select_from(Greeting)) == 0
    finally:
        engine.dispose()
