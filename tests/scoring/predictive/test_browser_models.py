"""The models pages in a real browser (Debian's Chromium through Playwright): the versions list,
then a version's page whose four charts are drawn by Chart.js under the strict CSP, with no
console error. The data (a world and a trained version) is made before the browser opens."""

from __future__ import annotations

from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from leadbase.accounts.models import Role
from leadbase.scoring.models import PredictiveModel
from tests.browser import BROWSER_MARKS, browser
from tests.conftest import make_user
from tests.scoring.test_browser_scoring import sign_in

pytestmark = BROWSER_MARKS
CHARTS = ("chart-roc", "chart-calibration", "chart-gains", "chart-importance")


def test_the_version_page_draws_its_charts(
    good_model: PredictiveModel, live_server: LiveServer
) -> None:
    make_user("mia", Role.MARKETER)
    version = good_model.version
    with browser(locale="en-US") as (page, problems):
        sign_in(page, f"{live_server.url}/scoring/models/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Predictive models")
        expect(page.locator(f"#model-{version}")).to_contain_text("Active")
        page.locator(f"#model-{version}").get_by_role("link", name=f"v{version}").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(f"Model v{version}")
        for canvas in CHARTS:
            expect(page.locator(f"#{canvas}")).to_be_visible()
        page.wait_for_function("() => window.Chart !== undefined")
        drawn = page.evaluate(
            "ids => ids.map(id => "
            "window.Chart.getChart(document.getElementById(id)) !== undefined)",
            list(CHARTS),
        )
        assert drawn == [True] * len(CHARTS)
        assert problems == [], problems
