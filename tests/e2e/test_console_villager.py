"""What signers, applicants and villagers see in the console (docs/rules.md §8, issue 14), in Debian's chromium on a
phone-sized screen against the real stack: a signer opens an image attachment (thumbnail, tap to enlarge)
and a PDF attachment before approving; a person of another village cannot fetch them; the QR code on the
sealed PDF is an https URL whose page — opened without signing in — shows the approval as valid and no
person's name or id; the discipline officer finds a matter by title fragment and village; a signer sees
their 已办 list; the seal-use register, the accountability records and the trail's labels. axe-core runs on
every new screen (no serious or critical violation)."""

import re
import subprocess
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, expect
from sealflow_cli.stack import Stack

from tests.e2e.test_seed_case import ROUTE, approve, get_matter
from tests.e2e.test_villager_view import PDF, PNG, directory, sealed_pdf, submission_with_files, submit
from tests.support.api import PUBLIC_URL, Api, seed_submission, wait_for
from tests.support.phone import PHONE, SLOW, Phone, axe_problems

pytestmark = pytest.mark.e2e


def qr_texts(pdf: bytes, tmp_path: Path) -> list[str]:
    """The QR codes of the rendered pages (pdftoppm + zxing-cpp, as tests/e2e/test_villager_view.py reads them)."""
    (tmp_path / "sealed.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(tmp_path / "sealed.pdf"), str(tmp_path / "page")], check=True)
    return [r.text for png in sorted(tmp_path.glob("page*.png")) for r in zxingcpp.read_barcodes(Image.open(png))]


def test_a_signer_opens_the_attachments_and_the_qr_code_opens_the_public_page(
    browser: Browser,
    stack: Stack,
    api: Api,
    shots: Path,
    unique: str,
    tmp_path: Path,  # noqa: F811
) -> None:
    title = f"附件与村务公开（手机端 {unique}）"
    matter = submit(api, submission_with_files(title))
    problems: list[str] = []

    # --- the first signer opens the matter from a notice's link (#/matters/<id>) and looks at both files ---
    director = Phone(browser, stack, shots, "jiulian-director")
    page = director.go(f"#/matters/{matter['id']}")
    expect(page.locator("main h1")).to_have_text(title)
    thumb = page.locator("#att-0 button.thumb img")
    expect(thumb).to_have_attribute("src", re.compile(r"^blob:"))
    page.wait_for_function("() => document.querySelector('#att-0 button.thumb img')?.naturalWidth === 64")
    problems += axe_problems(page, "matter with attachments")
    director.shot("v01-attachments")
    page.locator("#att-0 button.thumb").click()  # tap to enlarge
    big = page.locator("#lightbox img")
    expect(big).to_be_visible()
    assert page.evaluate("() => document.querySelector('#lightbox img').naturalHeight") == 48
    assert big.bounding_box()["width"] > 300, "enlarged to the phone's width"
    problems += axe_problems(page, "enlarged image")
    director.shot("v02-image-enlarged")
    page.click("#lightbox-close")
    expect(page.locator("#lightbox")).to_have_count(0)

    with page.expect_response(re.compile(rf"/v1/matters/{matter['id']}/attachments/1$")) as fetched:
        page.click("#att-1-open")
    assert fetched.value.status == 200 and fetched.value.headers["content-type"] == "application/pdf"
    tab = page.locator("#att-1-tab")
    expect(tab).to_have_attribute("href", re.compile(r"^blob:"))
    shown = page.evaluate("async (url) => Array.from(new Uint8Array(await (await fetch(url)).arrayBuffer()))", tab.get_attribute("href"))
    assert bytes(shown) == PDF, "the PDF opened is the one attached"
    with page.context.expect_page() as opened:
        tab.click()
    assert opened.value.url.startswith("blob:"), opened.value.url
    opened.value.close()
    director.shot("v03-pdf-opened")

    # --- having read both, the signer approves ---
    page.fill("#comment", "已看过报价单和发票照片，同意")
    page.click("#approve")
    expect(page.get_by_text("已同意，签名已提交。")).to_be_visible()
    director.close()

    # --- a person of another village: neither the files nor the matter ---
    for outsider in ("changbei-bookkeeper", "sanwei-secretary"):
        with api.as_(outsider) as client:
            for index in (0, 1):
                refused = client.get(f"/v1/matters/{matter['id']}/attachments/{index}")
                assert refused.status_code in (403, 404), refused.text
                assert refused.content not in (PNG, PDF)
    stranger = Phone(browser, stack, shots, "changbei-bookkeeper")
    stranger.page.goto(f"/app/#/matter/{matter['id']}")
    expect(stranger.page.get_by_role("alert")).to_contain_text("找不到该事项，或您无权查看")
    expect(stranger.page.locator("#attachments")).to_have_count(0)
    stranger.close()

    # --- everyone else signs; the sealed PDF's QR code is an https URL of the public page ---
    for stage, people in ROUTE:
        for person in people:
            if person != "jiulian-director":
                approve(api, person, matter, stage)
    done = wait_for(lambda: (m := get_matter(api, matter["id"]))["status"] == "completed" and m, timeout=120, what="completion")
    texts = qr_texts(sealed_pdf(api, matter["id"]), tmp_path)
    assert len(texts) == 1 and texts[0].startswith("https://") and texts[0].startswith(PUBLIC_URL), texts
    local = f"{stack.base_url}/app/{texts[0][len(PUBLIC_URL) :]}"
    assert local.endswith(f"/app/#/public/{done['approval_number']}"), local

    # --- opened by a villager who never signed in: valid, the facts, no person ---
    context = browser.new_context(**PHONE)
    context.set_default_timeout(SLOW)
    try:
        villager = context.new_page()
        villager.goto(local)
        expect(villager.locator("#public-verdict")).to_contain_text("真实有效")
        assert "#/public/" in villager.url, "no sign-in asked for"
        facts = villager.locator("#public-facts")
        expect(facts).to_contain_text(done["approval_number"])
        expect(facts).to_contain_text("久联村")
        expect(facts).to_contain_text(title)
        expect(facts).to_contain_text("120,000.00 元")
        expect(villager.locator("#public-stages > li")).to_have_count(len(done["stages"]))
        for stage in done["stages"]:
            expect(villager.locator("#public-stages")).to_contain_text(stage["name"])
        expect(villager.locator("#public-seals > li").first).to_contain_text("印章")
        shown_text = villager.locator("body").inner_text()
        for person in directory(api)["people"]:
            assert person["id"] not in shown_text, person["id"]
            assert person["name"] not in shown_text, person["name"]
        for hidden in (matter["id"], "发票照片", "报价单", "同意"):
            assert hidden not in shown_text, hidden
        problems += axe_problems(villager, "public page")
        villager.screenshot(path=str(shots / "v04-public-page.png"), full_page=True)

        # An unknown number, and a client asking too often: plain Chinese, never the sign-in page.
        villager.goto(f"{stack.base_url}/app/#/public/YN-1999-000001")
        expect(villager.get_by_role("alert")).to_contain_text("查无审批编号 YN-1999-000001")
        assert "#/public/" in villager.url
        problems += axe_problems(villager, "public page, unknown number")
        villager.route(
            re.compile(r"/v1/public/approvals/"),
            lambda route: route.fulfill(
                status=429, headers={"Retry-After": "17", "Content-Type": "application/json"},
                body='{"error": {"code": "rate_limited", "message": "too many"}}',
            ),
        )  # fmt: skip
        villager.goto(f"{stack.base_url}/app/#/public/{done['approval_number']}")
        villager.reload()
        expect(villager.get_by_role("alert")).to_contain_text("查询太频繁，请 17 秒后再试")
        villager.screenshot(path=str(shots / "v05-public-rate-limited.png"), full_page=True)
    finally:
        context.close()
    assert problems == []


def test_the_inspector_finds_a_matter_and_a_signer_sees_their_decided_list(
    browser: Browser,
    stack: Stack,
    api: Api,
    shots: Path,
    unique: str,  # noqa: F811
) -> None:
    fragment = f"检索{unique}"
    ours = submit(api, seed_submission(title=f"{fragment} 道路硬化", amount_fen=3_000_000))
    theirs = {**seed_submission(title=f"{fragment} 路灯维修"), "village_id": "changbei"}
    with api.as_("changbei-bookkeeper") as client:
        other = client.post("/v1/matters", json=theirs)
    assert other.status_code == 201, other.text
    approve(api, "jiulian-supervisor", ours, 1)
    problems: list[str] = []

    # --- the discipline officer: by title fragment, then narrowed to one village ---
    inspector = Phone(browser, stack, shots, "yinong-discipline")
    page = inspector.go("#/supervise")
    page.get_by_role("link", name="查询", exact=True).click()
    expect(page.locator("main h1")).to_have_text("查询事项")
    page.fill("#q", fragment)
    page.click("#search-submit")
    expect(page.locator("#search-results > li")).to_have_count(2)
    page.select_option("#village_id", label="久联村")
    page.click("#search-submit")
    expect(page.locator("#search-results > li")).to_have_count(1)
    expect(page.locator("#search-results > li")).to_contain_text(f"{fragment} 道路硬化")
    expect(page.locator("#search-results > li")).to_contain_text("久联村")
    expect(page.locator("#search-results > li")).to_contain_text("30,000.00 元")
    assert "village_id=jiulian" in page.url and "q=" in page.url
    page.reload()  # the search is in the address: a reload shows it again
    expect(page.locator("#search-results > li")).to_have_count(1)
    problems += axe_problems(page, "search")
    inspector.shot("v06-search")
    page.select_option("#status", "completed")
    page.click("#search-submit")
    expect(page.locator("#no-results")).to_be_visible()

    page.goto(f"/app/#/search?q={fragment}&village_id=jiulian")
    page.locator("#search-results a").first.click()
    expect(page.locator("main h1")).to_have_text(f"{fragment} 道路硬化")
    page.click("text=查看留痕记录")
    expect(page.locator("#chain")).to_contain_text("链完整")
    expect(page.locator(".trail-label").first).to_be_visible()
    # (The comment typed by the test helper's approval is "jiulian-supervisor 同意": what a person wrote stays.)
    trail_text = page.locator("main").inner_text().replace("jiulian-supervisor 同意", "")
    assert "jiulian-" not in trail_text and "matter.submitted" not in trail_text, trail_text
    problems += axe_problems(page, "trail with labels")

    # --- the seal-use register (with its CSV) and the accountability records ---
    page = inspector.go("#/seal-uses")
    expect(page.locator("main section[aria-label='用印记录'] > *").first).to_be_visible()
    problems += axe_problems(page, "seal uses")
    with page.expect_download() as exported:
        page.click("#su-csv")
    assert (
        Path(exported.value.path()).read_text(encoding="utf-8-sig").splitlines()[0]
        == "用印时间,印章,村,事项编号,版本,步骤,触发人,用印登记号"
    )
    inspector.shot("v07-seal-uses")
    page = inspector.go("#/accountability")
    expect(page.locator("main").get_by_text(re.compile("没有问责记录|未按时签批")).first).to_be_visible()
    problems += axe_problems(page, "accountability")
    inspector.shot("v08-accountability")
    inspector.close()

    # --- the signer's 已办 ---
    supervisor = Phone(browser, stack, shots, "jiulian-supervisor")
    page = supervisor.go("#/tasks")
    page.get_by_role("link", name="已办", exact=True).click()
    expect(page.locator("main h1")).to_have_text("已办")
    card = page.locator("#done-list > li", has_text=f"{fragment} 道路硬化")
    expect(card).to_contain_text("我的决定：第1环节")
    expect(card).to_contain_text("同意")
    expect(page.locator("#done-list")).not_to_contain_text(f"{fragment} 路灯维修")
    problems += axe_problems(page, "decided list")
    supervisor.shot("v09-done")
    supervisor.close()
    assert problems == []
