"""The console in a real browser: headless Chromium (Debian's `chromium` package) driven by
Playwright for Python, against a `kiln serve` seeded through boto3 with pipelines, a build
that failed at a workflow step, a build waiting at a WaitForAction step and a lifecycle
policy. Clicks through the failed build to its failed step, resumes the waiting step and
watches the build finish, runs a pipeline, and checks each page with axe-core (no serious or
critical violation). Screenshots are kept in test-artifacts/console/ (KILN_TEST_ARTIFACTS).

Skipped, with the reason, when Chromium or Playwright is absent:
    apt-get install chromium && pip install -e '.[test]'
"""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import boto3
import pytest

from kiln.pytest_plugin import KilnControl, KilnProcess
from tests.console.seed import FAILURE, seed

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("KILN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip("Chromium is not installed (apt-get install chromium, or set KILN_CHROMIUM to its path)",
                allow_module_level=True)
try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:
    pytest.skip("Playwright for Python is not installed (pip install -e '.[test]')", allow_module_level=True)

ARTIFACTS = Path(os.environ.get("KILN_TEST_ARTIFACTS") or REPO / "test-artifacts") / "console"
# Builds move on by themselves, fast: the page is seen updating while they run.
BUILD_TIMING = "0.4"
SERIOUS = ("serious", "critical")


def _axe_source() -> str | None:
    try:
        import axe_playwright_python

        return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
    except ImportError:
        local = REPO / "console" / "node_modules" / "axe-core" / "axe.min.js"
        return local.read_text() if local.exists() else None


AXE = _axe_source()


@pytest.fixture(scope="module")
def kiln_url():
    server = KilnProcess(build_timing=BUILD_TIMING).start()
    yield server.url
    server.stop()


@pytest.fixture(scope="module")
def ib(kiln_url):
    return boto3.client("imagebuilder", region_name="us-east-1", endpoint_url=kiln_url,
                        aws_access_key_id="123456789012", aws_secret_access_key="x")


@pytest.fixture(scope="module")
def seeded(ib, kiln_url):
    return seed(ib, KilnControl(url=kiln_url))


@pytest.fixture(scope="module")
def browser():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser, kiln_url, seeded):
    context = browser.new_context(base_url=kiln_url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_default_timeout(15_000)
    yield page
    context.close()
    assert errors == [], f"the page threw: {errors}"


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def accessible(page, name: str) -> None:
    """axe-core on the page as it stands: no serious or critical violation (all kept in <name>.axe.json)."""
    if AXE is None:
        pytest.skip("axe-core is not installed (pip install -e '.[test]')")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE)  # evaluated, not a <script>: the console's Content-Security-Policy allows no inline script
    violations = page.evaluate("""() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))})))""")
    (ARTIFACTS / f"{name}.axe.json").write_text(json.dumps(violations, indent=2))
    serious = [v for v in violations if v["impact"] in SERIOUS]
    assert serious == [], json.dumps(serious, indent=2)


def open_console(page, route: str = "") -> None:
    page.goto("/_kiln/console/" + (f"#/{route}" if route else ""))
    expect(page.locator("main h1")).to_be_visible()


# -- images ---------------------------------------------------------------------------------------------

def test_the_root_opens_the_console_on_the_images(page, seeded):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/_kiln/console/#/images$"))
    expect(page.locator("main h1")).to_have_text("Images")
    rows = page.locator("main tbody tr")
    expect(rows).to_have_count(5)
    expect(page.get_by_role("row", name=re.compile(r"^web 1\.0\.0\/1 .*failed"))).to_be_visible()
    shot(page, "images")
    accessible(page, "images")


def test_images_filter_by_status_and_search(page, seeded):
    open_console(page, "images")
    expect(page.locator("main tbody tr")).to_have_count(5)
    page.get_by_label("Status").select_option("FAILED")
    expect(page.locator("main tbody tr")).to_have_count(1)
    expect(page.locator("main tbody tr")).to_contain_text("web")
    page.get_by_label("Status").select_option("")
    page.get_by_label("Search").fill("batch")
    expect(page.locator("main tbody tr")).to_have_count(3)
    expect(page.get_by_text("3 of 5 builds")).to_be_visible()


def test_a_failed_build_says_why_down_to_its_failed_step(page, seeded, ib):
    open_console(page, "images")
    page.get_by_role("link", name="web", exact=True).click()
    why = page.get_by_role("region", name="Why the build failed")
    expect(why).to_contain_text(FAILURE)
    expect(why).to_contain_text("CreateOutputAMI")
    shot(page, "image-failed")
    accessible(page, "image-failed")
    why.get_by_role("link", name=re.compile("go to the failed step")).click()
    step_id = ib.get_image(imageBuildVersionArn=seeded["failed"])["image"]["state"]["failureContext"]["stepExecutionId"]
    expect(page).to_have_url(re.compile(f"/steps/{step_id}$"))
    step = page.locator(f"#step-{step_id}")
    expect(step).to_have_class(re.compile(r"\bfocused\b"))
    expect(step).to_contain_text("failed")
    expect(step).to_contain_text(f"Failed: {FAILURE}")
    # GetWorkflowStepExecution's details, and the step's inputs.
    expect(step.get_by_role("definition").filter(has_text="Abort")).to_be_visible()
    expect(step.get_by_label("CreateOutputAMI inputs")).to_contain_text('"instanceId"')
    # The test workflow was cancelled after it.
    expect(page.get_by_role("article", name=re.compile("^TEST workflow"))).to_contain_text("cancelled")
    shot(page, "image-failed-step")
    accessible(page, "image-failed-step")


def test_a_waiting_step_is_resumed_and_the_build_finishes(page, seeded, ib):
    open_console(page, "waiting")
    expect(page.get_by_role("link", name=re.compile("^Waiting steps"))).to_contain_text("1")
    card = page.locator("main .card")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("WaitForApproval")
    shot(page, "waiting-steps")
    accessible(page, "waiting-steps")
    card.get_by_role("link", name="WaitForApproval").click()
    expect(page.locator("main h1")).to_contain_text("gated")
    expect(page.get_by_role("status").filter(has_text="updating live")).to_be_visible()
    shot(page, "image-waiting")
    accessible(page, "image-waiting")
    page.get_by_label("Reason (optional)").fill("Approved by QA")
    page.get_by_role("button", name="Resume WaitForApproval").click()
    # The page follows the build, without a reload, until it is AVAILABLE with its AMI.
    expect(page.locator(".status-line .badge")).to_have_text("available", timeout=20_000)
    expect(page.get_by_role("table", name="AMIs")).to_contain_text("ami-")
    expect(page.get_by_text("updating live")).to_have_count(0)
    step = page.locator("li.step", has_text="WaitForApproval")
    expect(step).to_contain_text("completed")
    step.get_by_text("Inputs and outputs").click()
    expect(step.get_by_label("WaitForApproval outputs")).to_contain_text("Approved by QA")
    assert ib.get_image(imageBuildVersionArn=seeded["waiting"])["image"]["state"]["status"] == "AVAILABLE"
    expect(page.get_by_role("link", name=re.compile("^Waiting steps")).locator(".count")).to_have_count(0)
    shot(page, "image-resumed")


# -- pipelines ------------------------------------------------------------------------------------------

def test_pipelines_say_when_they_run_next(page, seeded, ib):
    open_console(page, "pipelines")
    nightly = page.get_by_role("row", name=re.compile("^nightly-web"))
    expect(nightly).to_contain_text("At 03:00 (UTC)")
    next_run = ib.get_image_pipeline(imagePipelineArn=seeded["pipelines"]["nightly-web"])["imagePipeline"]["dateNextRun"]
    expect(nightly.get_by_role("list", name="Next runs of nightly-web").locator("li")).to_have_count(3)
    expect(nightly.get_by_role("list", name="Next runs of nightly-web").locator("li").first).to_contain_text(
        next_run[:10] + " 03:00:00 UTC")
    expect(page.get_by_role("row", name=re.compile("^weekday-batch"))).to_contain_text(
        "At 09:30, Monday through Friday (Europe/Berlin)")
    expect(page.get_by_role("row", name=re.compile("^twice-a-day"))).to_contain_text("Every 12 hours")
    expect(page.get_by_role("row", name=re.compile("^on-demand"))).to_contain_text("Manual only")
    shot(page, "pipelines")
    accessible(page, "pipelines")


def test_run_a_pipeline_now(page, seeded, ib):
    open_console(page, "pipelines")
    page.get_by_role("link", name="on-demand").click()
    expect(page.locator("main h1")).to_have_text("on-demand")
    expect(page.get_by_role("region", name="Images it built")).to_contain_text("None yet")
    page.get_by_role("button", name="Run on-demand now").click()
    started = page.get_by_role("status").filter(has_text="Started")
    expect(started).to_contain_text("web/1.0.0/2")
    built = page.get_by_role("region", name="Images it built")
    expect(built.locator("tbody tr")).to_have_count(1)
    expect(built.locator("tbody tr")).to_contain_text("available", timeout=20_000)
    expect(built.locator("tbody tr")).to_contain_text("user initiated")
    images = ib.list_image_pipeline_images(imagePipelineArn=seeded["pipelines"]["on-demand"])["imageSummaryList"]
    assert [i["state"]["status"] for i in images] == ["AVAILABLE"]
    shot(page, "pipeline-run")
    accessible(page, "pipeline-run")
    started.get_by_role("link").click()
    expect(page.locator("main h1")).to_contain_text("web")
    expect(page.get_by_text("Built by the pipeline")).to_contain_text("on-demand")


# -- lifecycle policies, components, workflows -------------------------------------------------------------

def test_a_lifecycle_policy_previews_what_it_will_delete_then_runs(page, seeded):
    open_console(page, "lifecycle")
    accessible(page, "lifecycle-policies")
    page.get_by_role("link", name="keep-newest-batch").click()
    expect(page.get_by_role("region", name="Rules")).to_contain_text("Delete images beyond the newest 1 of each image name")
    preview = page.get_by_role("table", name=re.compile("What the next run would do"))
    expect(preview.locator("tbody tr")).to_have_count(2)
    expect(preview).to_contain_text("batch 1.0.0/1")
    expect(preview).to_contain_text("batch 1.0.0/2")
    expect(preview).not_to_contain_text("batch 1.0.0/3")
    expect(page.get_by_text("Preview: no Image Builder operation says what a run will do")).to_be_visible()
    shot(page, "lifecycle-preview")
    accessible(page, "lifecycle-preview")
    page.get_by_role("button", name="Run it now (kiln)").click()
    run = page.locator("details.execution")
    expect(run).to_have_count(1)
    expect(run).to_contain_text("success")
    run.locator("summary").click()
    expect(run.locator("tbody tr")).to_have_count(2)
    expect(run.locator("tbody")).to_contain_text("delete")
    expect(page.get_by_text("The next run would change no image.")).to_be_visible()
    shot(page, "lifecycle-ran")
    accessible(page, "lifecycle-ran")


def test_components_and_workflows_show_their_documents_highlighted(page, seeded):
    open_console(page, "components")
    page.get_by_role("link", name="hello").click()
    document = page.get_by_label("hello document, YAML")
    expect(document).to_contain_text("ExecuteBash")
    expect(document.locator(".hljs-attr").first).to_be_visible()  # highlight.js marked up the keys
    shot(page, "component")
    accessible(page, "component")
    open_console(page, "workflows")
    page.get_by_role("link", name="wait-build").click()
    expect(page.get_by_label("wait-build document, YAML")).to_contain_text("WaitForAction")
    accessible(page, "workflow")
    page.goto("/_kiln/console/#/components")
    page.get_by_label("Owner").select_option("Amazon")
    expect(page.get_by_role("link", name="update-linux")).to_be_visible()


# -- kiln's controls --------------------------------------------------------------------------------------

def test_controls_move_the_clock_and_set_fault_rules(page, seeded):
    open_console(page, "controls")
    clock = page.get_by_role("region", name="Clock")
    before = clock.locator("strong").inner_text()
    clock.get_by_role("button", name="+1 day").click()
    expect(clock.get_by_role("status")).to_contain_text("kiln's clock now reads")
    expect(clock.locator("strong")).not_to_have_text(before)
    faults = page.get_by_role("region", name="Fault rules")
    faults.get_by_label("Operation (all if empty)").fill("ListImagePipelines")
    faults.get_by_label("Count").fill("1")
    faults.get_by_role("button", name="Add the rule").click()
    expect(faults.locator("tbody tr")).to_have_count(1)
    expect(faults.locator("tbody")).to_contain_text("ListImagePipelines")
    shot(page, "controls")
    accessible(page, "controls")
    # The rule answers the page's own next ListImagePipelines, as the service would.
    page.goto("/_kiln/console/#/pipelines")
    expect(page.get_by_role("alert")).to_contain_text("ServiceUnavailableException")
    page.reload()
    expect(page.get_by_role("row", name=re.compile("^nightly-web"))).to_be_visible()


def test_reset_empties_kiln(page, seeded):
    open_console(page, "controls")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Reset kiln").click()
    expect(page.get_by_text("kiln is empty.")).to_be_visible()
    page.get_by_role("link", name="Images").click()
    expect(page.get_by_text("No images in this account and Region yet.")).to_be_visible()


# -- signed requests and the admin token --------------------------------------------------------------------

def test_with_sigv4_and_an_admin_token_the_page_signs_and_asks(browser, tmp_path):
    credentials = tmp_path / "credentials.json"
    credentials.write_text(json.dumps({"AKIAKILNCONSOLE": {"secretAccessKey": "s3cret", "accountId": "111122223333"}}))
    server = KilnProcess(build_timing="immediate", extra_args=(
        "--auth", "sigv4", "--credentials", str(credentials), "--admin-token", "t0ken")).start()
    try:
        signed = boto3.client("imagebuilder", region_name="eu-west-1", endpoint_url=server.url,
                              aws_access_key_id="AKIAKILNCONSOLE", aws_secret_access_key="s3cret")
        signed.create_component(name="signed-hello", semanticVersion="1.0.0", platform="Linux",
                                data="name: x\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n"
                                     "      - name: A\n        action: ExecuteBash\n        inputs:\n"
                                     "          commands: [\"true\"]\n")
        context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto("/_kiln/console/#/components")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        accessible(page, "sign-in")
        page.get_by_label("Access key id").fill("AKIAKILNCONSOLE")
        page.get_by_label("Secret access key").fill("wrong")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("combobox", name="Region", exact=True).fill("eu-west-1")
        page.get_by_role("button", name="Show").click()
        expect(page.get_by_role("alert").first).to_contain_text("InvalidSignatureException")
        page.get_by_role("button", name="Sign out").click()
        page.get_by_label("Access key id").fill("AKIAKILNCONSOLE")
        page.get_by_label("Secret access key").fill("s3cret")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("link", name="signed-hello")).to_be_visible()
        page.get_by_role("link", name="signed-hello").click()
        expect(page.get_by_text("arn:aws:imagebuilder:eu-west-1:111122223333:component/signed-hello/1.0.0/1")).to_be_visible()
        # /_kiln/ routes that change state ask for the admin token.
        page.get_by_role("link", name="kiln controls").click()
        clock = page.get_by_role("region", name="Clock")
        clock.get_by_role("button", name="+1 hour").click()
        expect(clock.get_by_role("alert")).to_contain_text("needs kiln's admin token")
        page.get_by_role("textbox", name="Token", exact=True).fill("t0ken")
        page.get_by_role("button", name="Use this token").click()
        clock.get_by_role("button", name="+1 hour").click()
        expect(clock.get_by_role("status")).to_contain_text("kiln's clock now reads")
        shot(page, "signed-controls")
        assert page.evaluate("sessionStorage.getItem('kiln.secretAccessKey')") == "s3cret"
        assert page.evaluate("localStorage.getItem('kiln.secretAccessKey')") is None
        context.close()
    finally:
        server.stop()
