"""The web console in a real browser (Debian's chromium, headless, driven by Playwright) on a phone-sized
screen, against the real stack: the bookkeeper submits (a lost reply and a retry make one matter, not
two), each signer signs in turn, the completed matter's sealed PDF is downloaded and verified; the
discipline inspector sees an overdue item on the board, urges it and exports the CSV. Every page passes
axe-core with no serious or critical violations. Screenshots of each screen go under the test's tmp dir."""

import re
import time
from contextlib import suppress
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, Route, expect
from playwright.sync_api import Error as PlaywrightError
from sealflow_cli.stack import Stack
from sealflow_contracts.messages import utcnow

from tests.e2e.test_routing_turns import approve, tasks_of, told
from tests.e2e.test_seed_case import ROUTE
from tests.e2e.test_sla_supervision import restart, set_clock
from tests.support.api import Api, seed_submission, wait_for
from tests.support.phone import Phone, meanwhile, until

pytestmark = pytest.mark.e2e


def submitted_or_told(page: Page, title: str, lost: list[int], attempts: int = 3) -> None:
    """Wait for the submitted matter's page. The form tells a user whose request got no answer (a lost
    reply, a busy service) to tap 提交 again, and promises that it never makes two matters: a busy CI
    machine may need that, so do what the user is told; any other message fails with its text."""
    for attempt in range(1, attempts + 1):
        page.wait_for_function(
            "title => document.querySelector('main h1')?.textContent === title || document.querySelector('main [role=alert]')",
            arg=title,
        )
        if page.locator("main h1").text_content() == title:
            return
        answer = page.locator("main [role=alert]").first.text_content() or ""
        assert "可直接再点一次提交" in answer and attempt < attempts, f"submission {attempt} (first reply {lost}) was answered: {answer}"
        page.click("#submit")


def test_submit_sign_every_stage_verify_and_supervise_on_a_phone(
    browser: Browser, stack: Stack, api: Api, shots: Path, unique: str
) -> None:
    with api.anonymous() as anyone:  # the development sign-in knows only the org directory's people
        refused = anyone.post("/v1/dev/token", json={"person_id": "nobody"})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unknown_person"
    restart(stack, "sla-monitor", SEALFLOW_SLA_TEST_CLOCK="true")
    title = f"村级保洁服务招标（手机端 {unique}）"
    try:
        # --- the bookkeeper fills in the form and submits; the first reply is lost on the way back ---
        bookkeeper = Phone(browser, stack, shots, "jiulian-bookkeeper")
        page = bookkeeper.page
        bookkeeper.shot("01-mine")
        bookkeeper.go("#/new")
        page.select_option("#matter_type", "service_procurement")
        # The form is the matter type's, as the town's data defines it (GET /v1/matter-types).
        expect(page.locator("label[for='f-budget_fen']")).to_contain_text("预算金额（元）")
        page.click("#submit")  # required fields left empty: told next to the field, nothing sent
        expect(page.locator("#title-err")).to_contain_text("请填写「标题」")
        page.fill("#title", title)
        page.fill("#amount", "120000.00")
        page.click("#submit")
        expect(page.locator("#f-project_name-err")).to_contain_text("请填写「项目名称」")
        page.fill("#f-project_name", "2027年度村级保洁服务")
        page.select_option("#f-procurement_method", "公开招标")
        page.fill("#f-budget_fen", "120000.00")
        page.fill("#f-service_period", "2027年1月1日至2027年12月31日")
        page.fill("#f-service_start", "2027-01-01")
        page.fill("#f-counterparty", "益农保洁服务有限公司")
        page.set_input_files("#files", files=[{"name": "招标公告.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 notice"}])
        bookkeeper.shot("02-new-form")
        lost: list[int] = []

        def lose_first_reply(route: Route) -> None:
            if route.request.method == "POST" and not lost:
                lost.append(route.fetch().status)  # the server did the work ...
                route.abort("connectionreset")  # ... but the phone never hears back
            else:
                route.continue_()

        page.route("**/v1/matters", lose_first_reply)
        page.click("#submit")
        expect(page.get_by_role("alert")).to_contain_text("网络连接失败")
        page.click("#submit")  # the same draft again, with the same Idempotency-Key
        submitted_or_told(page, title, lost)
        assert lost == [201]
        page.unroute("**/v1/matters")
        matter_id = page.url.rsplit("/", 1)[1]
        with api.as_("jiulian-bookkeeper") as client:
            mine = client.get("/v1/matters", params={"mine": True, "limit": 200}).json()["items"]
        assert [m["id"] for m in mine if m["title"] == title] == [matter_id], "a lost reply and a retry make one matter"
        holder = page.locator(".holder")
        expect(holder).to_contain_text("现在由 久联村村委会主任、久联村村监委会主任 签批")
        expect(holder).to_contain_text("截止")
        expect(page.locator(".route > li")).to_have_count(5)
        bookkeeper.shot("03-matter-submitted")

        # --- a later signer looks too early: a clear message, no buttons ---
        early = Phone(browser, stack, shots, "jiulian-secretary")
        early.go(f"#/matter/{matter_id}")
        expect(early.page.locator("#turn")).to_contain_text("还没轮到您签批")
        expect(early.page.locator("#approve")).to_have_count(0)
        early.shot("04-not-your-turn")
        early.close()

        # --- every signer, in route order, from the task list on their phone ---
        for stage, people in ROUTE:
            for person in people:
                signer = Phone(browser, stack, shots, person)
                until(signer.page, "#/tasks", title)
                task = signer.page.locator("#task-list a", has_text=title)
                expect(task).to_contain_text("截止")
                if stage == 1 and person == people[0]:
                    signer.shot("05-tasks")
                task.click()
                expect(signer.page.locator("#sign-h")).to_contain_text(f"第{stage}环节")
                if stage == 1 and person == people[0]:
                    signer.page.click("#return")  # a return needs a reason: told, nothing sent
                    expect(signer.page.get_by_role("alert")).to_contain_text("退回必须填写理由")
                    signer.shot("06-sign")
                signer.page.fill("#comment", "同意")
                signer.page.click("#approve")
                expect(signer.page.get_by_text("已同意，签名已提交。")).to_be_visible()
                if stage == 2:
                    signer.shot("07-signed")
                signer.close()

        # --- completion, the sealed PDF, verification by number and by upload ---
        until(page, f"#/matter/{matter_id}", "已办结，审批编号", timeout=240)
        bookkeeper.shot("08-completed")
        deadline = time.monotonic() + 180
        while True:
            page.click("#show-pdf")
            expect(page.locator("#show-pdf")).to_be_enabled()
            if page.get_by_text("已盖章 ·").count() or time.monotonic() > deadline:
                break
            time.sleep(2)
        expect(page.get_by_text("已盖章 ·")).to_be_visible()
        with page.expect_download() as download:
            page.click("#download-pdf")
        pdf = Path(download.value.path()).read_bytes()
        assert pdf.startswith(b"%PDF-")
        bookkeeper.shot("09-document")
        page.click("#verify-link")
        expect(page.locator("#approval")).not_to_have_value("")
        page.click("#verify-number")
        expect(page.locator("#verdict").first).to_contain_text("真实有效")
        page.set_input_files("#pdf", files=[{"name": "sealed.pdf", "mimeType": "application/pdf", "buffer": pdf}])
        page.click("#verify-pdf")
        expect(page.locator("#verdict")).to_have_count(2)
        expect(page.locator("#verdict").nth(1)).to_contain_text("真实有效")
        expect(page.get_by_text("已盖章 · 最新版本")).to_be_visible()
        expect(page.get_by_text("印章：")).to_be_visible()
        bookkeeper.shot("10-verified")
        # A tampered copy is reported invalid.
        page.set_input_files("#pdf", files=[{"name": "tampered.pdf", "mimeType": "application/pdf", "buffer": pdf + b"\n%tampered\n"}])
        page.click("#verify-pdf")
        expect(page.locator("#verdict").nth(1)).to_contain_text("无效")
        bookkeeper.close()

        # --- the inspector: a matter left unsigned goes overdue on the board; urge it, export the CSV ---
        with api.as_("jiulian-bookkeeper") as client:
            late = client.post("/v1/matters", json=seed_submission(title=f"逾期未签（手机端 {unique}）")).json()
            due = wait_for(lambda: client.get(f"/v1/matters/{late['id']}").json()["stages"][0]["deadline"], what="deadline")
        set_clock(stack, datetime.fromisoformat(due) + timedelta(minutes=5))
        inspector = Phone(browser, stack, shots, "yinong-discipline")
        until(inspector.page, "#/supervise", late["title"])
        card = inspector.page.locator("#overdue-list > li", has_text=late["title"])
        expect(card).to_contain_text("久联村村委会主任、久联村村监委会主任 未签")
        expect(inspector.page.locator(".bars").first).to_be_visible()
        inspector.shot("11-supervise")
        card.get_by_label("督办内容").fill("请今日内签批")
        card.get_by_role("button", name="督办").click()
        expect(card.get_by_role("status")).to_contain_text("已向 久联村村委会主任、久联村村监委会主任 发出督办通知")
        with inspector.page.expect_download() as exported:
            inspector.page.click("#csv-overdue")
        assert late["id"] in Path(exported.value.path()).read_text(encoding="utf-8-sig")
        inspector.go(f"#/trail/{matter_id}")
        expect(inspector.page.locator("#chain")).to_contain_text("链完整")
        inspector.shot("12-trail")
        inspector.close()

        director = Phone(browser, stack, shots, "jiulian-director")
        until(director.page, "#/tasks", "请今日内签批")  # the urge notice reached the holder
        director.shot("13-tasks-urged")
        director.close()
    finally:
        set_clock(stack, utcnow())  # offset back to zero for the tests that follow


def test_a_signer_hands_a_task_to_a_colleague_from_the_phone(browser: Browser, stack: Stack, api: Api, shots: Path, unique: str) -> None:
    with api.as_("jiulian-bookkeeper") as client:
        matter = client.post("/v1/matters", json=seed_submission(title=f"转办（手机端 {unique}）")).json()
    for stage, people in ROUTE[:2]:
        for person in people:
            approve(api, person, matter, stage)
    wait_for(lambda: tasks_of(api, "yinong-cadre-jiulian", matter["id"]), what="stage 3 open for the liaison cadre")
    cadre = Phone(browser, stack, shots, "yinong-cadre-jiulian")
    page = cadre.page
    # On a slow connection the task list is still loading when the signer opens the matter from a
    # notice: whatever that list draws when its answer comes must not land on the matter's page.
    held: list[Route] = []
    holding = [True]

    def hold_task_list(route: Route) -> None:
        # (A request held past the console's 30 s timeout is tried again: that one is held too.)
        held.append(route) if holding[0] else route.continue_()

    task_list = re.compile(r"/v1/tasks$")
    page.route(task_list, hold_task_list)
    page.reload()  # signed in, the phone is on 待办 already
    meanwhile(page, lambda: held, "the task list was asked for")
    cadre.go(f"#/matter/{matter['id']}")
    expect(page.locator("main h1")).to_have_text(matter["title"])
    notices_read: list[str] = []
    page.on("requestfinished", lambda request: notices_read.append(request.url) if "/v1/inbox?" in request.url else None)
    holding[0] = False  # the old page gets its list and goes on to ask for the notices
    for route in held:
        with suppress(PlaywrightError):  # one the page gave up on
            route.continue_()
    meanwhile(page, lambda: notices_read, "the old page went on after its late answer", timeout=90)
    page.unroute(task_list)
    page.wait_for_timeout(300)  # and drew what it got
    expect(page.locator("main h2", has_text="未读通知")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text("待我签批")
    expect(page.locator("#approve")).to_be_visible()
    page.locator("#transfer summary").click()
    # Offered: only those holding the same office (the other liaison cadres — the pilot's two, and any another
    # test of the session added), never an empty choice.
    expect(page.locator("#transfer-to option").first).to_have_text("长北村联村干部")
    assert all(name.endswith("联村干部") for name in page.locator("#transfer-to option").all_inner_texts())
    assert "三围村联村干部" in page.locator("#transfer-to option").all_inner_texts()
    page.select_option("#transfer-to", "yinong-cadre-changbei")
    page.click("#transfer-submit")
    expect(page.locator("#transfer").get_by_role("alert")).to_contain_text("转办必须填写理由")
    page.fill("#transfer-reason", "到县里开会三天")
    cadre.shot("17-transfer")
    page.click("#transfer-submit")
    expect(page.locator("main").get_by_role("status").first).to_contain_text("已转办给 长北村联村干部")
    expect(page.locator(".holder")).to_contain_text("现在由 长北村联村干部 签批")
    expect(page.locator("#approve")).to_have_count(0)
    cadre.shot("18-transferred")
    cadre.close()
    assert [t["stage"] for t in tasks_of(api, "yinong-cadre-changbei", matter["id"])] == [3]
    assert tasks_of(api, "yinong-cadre-jiulian", matter["id"]) == []
    assert told(api, "yinong-cadre-jiulian", matter["id"], "task_transferred")["reason"] == "到县里开会三天"


def test_every_page_passes_axe_with_no_serious_violations(browser: Browser, stack: Stack, api: Api, shots: Path, unique: str) -> None:
    with api.as_("jiulian-bookkeeper") as client:
        matter = client.post("/v1/matters", json=seed_submission(title=f"无障碍检查 {unique}")).json()
    pages = {
        "jiulian-bookkeeper": ["#/login", "#/mine", "#/new", f"#/matter/{matter['id']}", "#/verify"],
        "jiulian-director": ["#/tasks", f"#/matter/{matter['id']}", "#/away"],
        "yinong-discipline": ["#/supervise", f"#/trail/{matter['id']}"],
    }
    axe = Axe()
    problems, checked = [], []
    for person, hashes in pages.items():
        phone = Phone(browser, stack, shots, person)
        for hash_ in hashes:
            phone.go(hash_)
            phone.page.wait_for_load_state("networkidle")
            expect(phone.page.locator("main .loading")).to_have_count(0)  # the page's data is drawn
            result = axe.run(phone.page)
            checked.append(hash_)
            for violation in result.response["violations"]:
                line = f"{person} {hash_}: {violation['id']} ({violation['impact']}): {violation['help']}"
                print(line)  # minor and moderate ones are reported, not failed
                if violation["impact"] in ("serious", "critical"):
                    problems.append(line)
        if person == "jiulian-bookkeeper":
            # The applicant withdraws from the matter's page: confirmed, told, the page shows it withdrawn and
            # offers nothing more — and the server agrees.
            phone.go(f"#/matter/{matter['id']}")
            phone.page.once("dialog", lambda dialog: dialog.accept())
            phone.page.click("#withdraw")
            expect(phone.page.locator("main p.success[role=status]")).to_have_text("已撤回。")
            expect(phone.page.locator("main [role=alert]")).to_have_count(0)
            expect(phone.page.locator("#withdraw")).to_have_count(0)
            phone.shot("14-withdraw")
            with api.as_("jiulian-bookkeeper") as client:
                stored = client.get(f"/v1/matters/{matter['id']}").json()
            assert stored["status"] == "withdrawn" and stored["current_stage"] is None, stored
        phone.close()
    assert len(checked) == 10 and problems == []


def test_a_signer_going_away_names_a_stand_in_on_the_phone_and_cancels_it(browser: Browser, stack: Stack, api: Api, shots: Path) -> None:
    # Town roles have peers: the three liaison cadres may stand in for one another. The range starts
    # tomorrow, so no stage of another test opens inside it.
    tomorrow = (datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=1)).isoformat()
    later = (datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=3)).isoformat()
    cadre = Phone(browser, stack, shots, "yinong-cadre-sanwei")
    page = cadre.go("#/away")
    try:
        expect(page.locator("#stand_in option").first).to_have_text("久联村联村干部")  # and the other cadres of the session
        offered = page.locator("#stand_in option").all_inner_texts()
        assert "长北村联村干部" in offered and all(name.endswith("联村干部") for name in offered), offered
        page.select_option("#stand_in", "yinong-cadre-changbei")
        page.fill("#starts_on", later)
        page.fill("#ends_on", tomorrow)
        page.fill("#away_reason", "到县里参加培训")
        page.click("#register-absence")
        expect(page.get_by_role("alert")).to_contain_text("结束日期不能早于开始日期")
        page.fill("#starts_on", tomorrow)
        page.fill("#ends_on", later)
        page.click("#register-absence")
        expect(page.locator("form").get_by_role("status")).to_contain_text(
            f"已登记：{tomorrow} 至 {later} 新到的签批事项由 长北村联村干部 代签"
        )
        card = page.locator("#absence-list > li", has_text="由 长北村联村干部 代签")
        expect(card).to_contain_text(f"{tomorrow} 至 {later} · 未开始")
        expect(card).to_contain_text("到县里参加培训")
        cadre.shot("15-away-registered")
        # The stand-in sees it too: routing keeps the absence, not the phone.
        with api.as_("yinong-cadre-changbei") as client:
            theirs = [
                a for a in client.get("/v1/absences").json()["items"] if a["person_id"] == "yinong-cadre-sanwei" and not a["cancelled_at"]
            ]
        assert [(a["stand_in_id"], a["starts_on"], a["ends_on"]) for a in theirs] == [("yinong-cadre-changbei", tomorrow, later)]
        card.get_by_role("button", name="撤销").click()
        expect(page.locator("#absence-list > li", has_text="由 长北村联村干部 代签").first).to_contain_text("已撤销")
        cadre.shot("16-away-cancelled")
    finally:
        with api.as_("yinong-cadre-sanwei") as client:  # never leave an absence in force for the tests that follow
            for absence in client.get("/v1/absences").json()["items"]:
                if absence["person_id"] == "yinong-cadre-sanwei" and not absence["cancelled_at"]:
                    client.delete(f"/v1/absences/{absence['id']}")
        cadre.close()
    with api.as_("yinong-cadre-sanwei") as client:
        assert all(a["cancelled_at"] for a in client.get("/v1/absences").json()["items"] if a["person_id"] == "yinong-cadre-sanwei")

    # Nobody else holds the principal's role: the page says whom to ask instead of offering an empty list.
    principal = Phone(browser, stack, shots, "yinong-principal")
    principal.go("#/away")
    expect(principal.page.locator("main .notice")).to_contain_text("请联系镇管理员在组织名录中添加副职")
    expect(principal.page.locator("#stand_in")).to_have_count(0)
    principal.close()
