"""The town office runs Sealflow itself, on a phone-sized screen (issue 13, "Done when"): the administrator
adds a village, imports its four people from an .xlsx roster (a dry run with one bad row first, which writes
nothing), assigns its liaison cadre (a colleague's change in between is a 409, told and reloaded), creates
a matter type with its form and gives it a routing policy (the difference shown before saving); the new
village's bookkeeper signs in through the development sign-in, submits that type from the console, every
signer signs, the new village's seal is applied and the sealed PDF verifies. Seals, calendar, notification
channels and the administration trail are driven too, and axe-core finds no serious or critical issue on
any administration screen. Screenshots go under the test's tmp dir (`console-screens*/`)."""

import io
import json
import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from openpyxl import Workbook
from playwright.sync_api import Browser, Page, Route, expect
from sealflow_cli.stack import Stack

from tests.e2e.test_routing_turns import approve, get_matter, tasks_of
from tests.e2e.test_sla_supervision import Hooks
from tests.support.api import Api, wait_for
from tests.support.phone import Phone, until

pytestmark = pytest.mark.e2e
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}


class Axes:
    """axe-core on each screen as it stands; minor and moderate findings are printed, not failed."""

    def __init__(self) -> None:
        self.axe = Axe()
        self.checked: list[str] = []
        self.problems: list[str] = []

    def check(self, page: Page, what: str) -> None:
        page.wait_for_load_state("networkidle")
        expect(page.locator("main .loading")).to_have_count(0)  # the page's data is drawn
        result = self.axe.run(page)
        self.checked.append(what)
        for violation in result.response["violations"]:
            targets = [node["target"] for node in violation["nodes"]][:3]
            line = f"{what}: {violation['id']} ({violation['impact']}): {violation['help']} {targets}"
            print(line)
            if violation["impact"] in ("serious", "critical"):
                self.problems.append(line)


def roster(rows: list[list[str]]) -> bytes:
    """The town office's own spreadsheet: Chinese headers, one person a row, roles separated by ';'."""
    book = Workbook()
    sheet = book.active
    sheet.title = "人员名册"
    sheet.append(["编号", "姓名", "村", "角色", "电话"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def admin_get(api: Api, path: str, **params) -> dict | list:
    with api.as_("yinong-admin") as client:
        response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def items(answer: dict | list) -> list:
    return answer if isinstance(answer, list) else answer["items"]


def test_the_town_office_adds_a_village_and_a_matter_type_that_then_runs_end_to_end(
    browser: Browser,  # noqa: F811  (the fixtures imported from test_console)
    stack: Stack,
    api: Api,
    shots: Path,  # noqa: F811
    unique: str,
) -> None:
    vid, vname = f"xinhe{unique}", "新河村"
    tid, tname = f"road_repair_{unique}", f"村道维修申请（{unique[:4]}）"
    people = {role: f"{vid}-{role}" for role in ("bookkeeper", "director", "supervisor", "secretary")}
    names = {
        "bookkeeper": "新河村报账员",
        "director": "新河村村委会主任",
        "supervisor": "新河村村监委会主任",
        "secretary": "新河村村党组织书记",
    }
    axes = Axes()
    admin = Phone(browser, stack, shots, "yinong-admin")
    page = admin.page
    expect(page.locator("#admin-sections")).to_be_visible()  # the administrator lands on 管理
    axes.check(page, "#/admin")

    # --- 1. a village, its cooperative seal made with it ---
    admin.go("#/admin/villages")
    page.locator("#village-new summary").click()
    page.fill("#v-new-id", "Xin He")  # not an id: told on the page, nothing sent
    page.fill("#v-new-name", vname)
    page.click("#v-new-submit")
    expect(page.locator("#village-new").get_by_role("alert")).to_contain_text("村编号")
    page.fill("#v-new-id", vid)
    page.select_option("#v-new-cadre", "yinong-cadre-jiulian")
    page.select_option("#v-new-leader", "yinong-leader-b")
    page.click("#v-new-submit")
    expect(page.locator("main .success")).to_contain_text(f"已新增「{vname}」，村经济联合社电子印章已同时生成")
    card = page.locator(f"li[data-village='{vid}']")
    expect(card).to_contain_text("联村干部：久联村联村干部 · 联村领导：联村领导（三围村）")
    axes.check(page, "#/admin/villages")
    admin.shot("a01-villages")
    assert [v["name"] for v in admin_get(api, "/v1/villages") if v["id"] == vid] == [vname]
    seal = wait_for(
        lambda: [s for s in items(admin_get(api, "/v1/admin/seals")) if s["id"] == f"{vid}-coop"], what="the new village's seal"
    )[0]
    assert seal["name"] == f"{vname}经济联合社电子印章" and seal["status"] == "active"

    # --- 2. its people from an .xlsx roster: a dry run with a bad row writes nothing ---
    good = [[people[r], names[r], vid, r, "13800000000"] for r in ("bookkeeper", "director", "supervisor", "secretary")]
    bad = [f"{vid}-treasurer", "新河村出纳", vid, "treasurer", ""]
    admin.go("#/admin/import")
    page.set_input_files("#roster-file", files=[{"name": "新河村名册.xlsx", "mimeType": XLSX, "buffer": roster([*good, bad])}])
    page.click("#roster-check")
    expect(page.locator("#roster-summary")).to_contain_text("共 5 行，其中 1 行有错误：没有写入任何数据")
    marked = page.locator("#roster-rows > li.row-bad")
    expect(marked).to_have_count(1)
    expect(marked).to_contain_text("第 6 行")
    expect(marked).to_contain_text("treasurer")
    expect(page.locator("#roster-rows > li:not(.row-bad)")).to_have_count(4)
    expect(page.locator("#roster-import")).to_be_disabled()
    axes.check(page, "#/admin/import (a bad row)")
    admin.shot("a02-roster-bad-row")
    assert items(admin_get(api, "/v1/admin/people", village_id=vid)) == [], "a dry run writes nothing"
    with api.as_("yinong-admin") as client:  # and the import itself refuses the whole file while a row is bad
        refused = client.post("/v1/admin/people/import", files={"file": ("名册.xlsx", roster([*good, bad]), XLSX)})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid_roster", refused.text
    assert items(admin_get(api, "/v1/admin/people", village_id=vid)) == []

    page.set_input_files("#roster-file", files=[{"name": "新河村名册.xlsx", "mimeType": XLSX, "buffer": roster(good)}])
    page.click("#roster-check")
    expect(page.locator("#roster-summary")).to_contain_text("共 4 行全部无误（预检未写入）：导入后将新增 4 人，更新 0 人")
    assert items(admin_get(api, "/v1/admin/people", village_id=vid)) == []
    page.click("#roster-import")
    expect(page.locator("#roster-summary")).to_contain_text("已导入：新增 4 人，更新 0 人")
    imported = {p["id"]: p for p in items(admin_get(api, "/v1/admin/people", village_id=vid))}
    assert {i: p["roles"] for i, p in imported.items()} == {people[r]: [r] for r in people}
    admin.go("#/admin/people?village=" + vid)
    expect(page.locator("#people-list > li")).to_have_count(4)
    expect(page.locator("#people-list")).to_contain_text("新河村 · 报账员")
    axes.check(page, "#/admin/people")

    # --- 3. its liaison cadre: a colleague's change in between is refused (409) and reloaded ---
    admin.go("#/admin/villages")
    card = page.locator(f"li[data-village='{vid}']")
    card.locator("summary").click()
    page.select_option(f"#v-{vid}-cadre", "yinong-cadre-sanwei")
    village = next(v for v in admin_get(api, "/v1/villages") if v["id"] == vid)
    with api.as_("yinong-admin") as colleague:
        moved = colleague.patch(
            f"/v1/admin/villages/{vid}", json={"liaison_leader": "yinong-leader-a"}, headers={"If-Match": str(village["version"])}
        )
    assert moved.status_code == 200, moved.text
    card.get_by_role("button", name="保存修改").click()
    conflict = card.locator(".conflict")
    expect(conflict).to_contain_text("同事在您打开之后修改了这条记录")
    expect(conflict).to_contain_text("您的修改没有保存")
    admin.shot("a03-village-conflict")
    conflict.get_by_role("button", name="重新加载").click()
    card = page.locator(f"li[data-village='{vid}']")
    expect(card).to_contain_text("联村领导：联村领导（久联村、长北村）")  # the colleague's change, now shown
    card.locator("summary").click()
    page.select_option(f"#v-{vid}-cadre", "yinong-cadre-sanwei")
    card.get_by_role("button", name="保存修改").click()
    expect(page.locator("main .success")).to_contain_text(f"已保存「{vname}」")
    expect(page.locator(f"li[data-village='{vid}']")).to_contain_text("联村干部：三围村联村干部")
    village = next(v for v in admin_get(api, "/v1/villages") if v["id"] == vid)
    assert (village["liaison_cadre"], village["liaison_leader"]) == ("yinong-cadre-sanwei", "yinong-leader-a")

    # The README's picture: the villages screen on a desktop.
    desk = browser.new_context(base_url=stack.base_url, **DESKTOP)
    desk.add_init_script(
        f"localStorage.setItem('sf.token', {json.dumps(page.evaluate('localStorage.getItem(`sf.token`)'))});"
        f"localStorage.setItem('sf.me', {json.dumps(page.evaluate('localStorage.getItem(`sf.me`)'))});"
    )
    desk_page = desk.new_page()
    desk_page.goto("/app/#/admin/villages")
    expect(desk_page.locator(f"li[data-village='{vid}']")).to_be_visible()
    desk_page.locator(f"li[data-village='{vid}'] summary").click()
    desk_page.screenshot(path=str(shots / "admin-villages-desktop.png"))
    desk.close()

    # --- 4. a matter type with its form ---
    admin.go("#/admin/types")
    axes.check(page, "#/admin/types")
    page.click("#type-new")
    expect(page.locator("main h1")).to_have_text("新建事项类型")
    page.fill("#type-id", tid)
    page.fill("#type-name", tname)
    form = [  # label, key, type, required, options, meaning
        ("工程名称", "project_name", "text", True, None, None),
        ("维修方式", "repair_method", "select", True, ["路面修补", "整段重铺"], None),
        ("预算金额", "budget_fen", "money", True, None, None),
        ("开工日期", "service_start", "date", True, None, "service_start"),
        ("施工单位", "counterparty", "text", False, None, "counterparty"),
    ]
    for i, (label, key, type_, required, options, meaning) in enumerate(form):
        page.click("#field-add")
        page.fill(f"#ft-{i}-label", label)
        page.fill(f"#ft-{i}-key", "project_name" if i == 1 else key)  # the second one's key repeats the first: caught below
        page.select_option(f"#ft-{i}-type", type_)
        if required:
            page.check(f"#ft-{i}-required")
        if options:
            page.fill(f"#ft-{i}-options", "\n".join(options))
        if meaning:
            page.select_option(f"#ft-{i}-meaning", meaning)
    page.click("#type-save")
    expect(page.locator("#ft-1-key-err")).to_contain_text("与前面的字段键重复")
    page.fill("#ft-1-key", "repair_method")
    page.locator("#type-preview").locator("xpath=..").locator("summary").click()
    expect(page.locator("#type-preview label[for='f-preview-budget_fen']")).to_contain_text("预算金额（元）")
    axes.check(page, "#/admin/types/new")
    admin.shot("a04-type-form")
    page.click("#type-save")
    expect(page.locator("main h1")).to_have_text("事项类型与表单")
    expect(page.locator("main .success")).to_contain_text(f"已保存「{tname}」第 1 版")
    expect(page.locator("#type-versions > li")).to_have_count(1)
    axes.check(page, f"#/admin/types/{tid}")
    created = next(t for t in admin_get(api, "/v1/matter-types") if t["id"] == tid)
    assert [(f["key"], f["type"], f["required"]) for f in created["form"]["fields"]] == [(k, t, r) for _, k, t, r, _, _ in form]
    assert created["form"]["fields"][1]["options"] == ["路面修补", "整段重铺"]
    assert created["form"]["fields"][3]["meaning"] == "service_start"

    # --- 5. its routing policy: copied from the village-project rule, the difference shown, then saved ---
    page.get_by_role("link", name="签批规则", exact=True).last.click()
    expect(page.locator("main h2.sub")).to_have_text(tname)
    expect(page.locator("main .notice")).to_contain_text("还没有签批规则")
    page.select_option("#policy-template", "village_project")
    page.click("#policy-copy")
    expect(page.locator("[data-stage='st-4'] > summary")).to_contain_text("分管领导")
    page.fill("#policy-title", f"{tname}呈报表")
    page.click("#policy-preview")
    expect(page.locator("#policy-diff figcaption")).to_contain_text("新规则")
    page.click("#policy-save")
    expect(page.locator("main .success")).to_contain_text("第 1 版")
    # A second version: stage 3 gets two working days; the difference is shown before it is saved.
    page.locator("[data-stage='st-2'] > summary").click()
    page.fill("#st-2-days", "2")
    page.click("#policy-preview")
    expect(page.locator("#policy-diff del")).to_contain_text('"deadline_working_days": 1')
    expect(page.locator("#policy-diff ins")).to_contain_text('"deadline_working_days": 2')
    expect(page.locator("#policy-diff figcaption")).to_contain_text("增加 1 行，删除 1 行")
    axes.check(page, f"#/admin/policies/{tid} (the difference)")
    admin.shot("a05-policy-diff")
    page.click("#policy-save")
    expect(page.locator("main .success")).to_contain_text("第 2 版")
    expect(page.locator("#policy-versions > li")).to_have_count(2)
    policy = admin_get(api, f"/v1/admin/policies/{tid}")["versions"][-1]
    assert policy["version"] == 2 and [s["deadline_working_days"] for s in policy["stages"]][:3] == [1, 1, 2]
    admin.go("#/admin/policies")
    expect(page.locator("#policy-list")).to_contain_text(tname)
    axes.check(page, "#/admin/policies")

    # --- 6. the new village's bookkeeper signs in (the picker reads the directory) and submits that type ---
    bookkeeper = Phone(browser, stack, shots, people["bookkeeper"])
    bk = bookkeeper.page
    expect(bk.locator("#who")).to_have_text(names["bookkeeper"])
    bookkeeper.go("#/new")
    expect(bk.locator("main .meta").first).to_have_text(f"村：{vname}")
    bk.select_option("#matter_type", tid)
    title = f"新河村村道维修（{unique}）"
    bk.fill("#title", title)
    bk.fill("#amount", "86000.00")
    bk.fill("#f-project_name", "村口至晒场道路维修")
    bk.select_option("#f-repair_method", "路面修补")
    bk.fill("#f-budget_fen", "8.6万")  # not an amount: told next to the field
    bk.fill("#f-service_start", "2027-03-01")
    bk.fill("#f-counterparty", "益农路桥工程队")
    bk.click("#submit")
    expect(bk.locator("#f-budget_fen-err")).to_contain_text("请填金额")
    bk.fill("#f-budget_fen", "86000.00")
    # The server checks the form too: a submission that lost a required field comes back 422 next to it.
    tampered: list[int] = []

    def drop_a_field(route: Route) -> None:
        if route.request.method == "POST" and not tampered:
            body = route.request.post_data_json
            body["fields"].pop("repair_method")
            tampered.append(1)
            route.continue_(post_data=json.dumps(body))
        else:
            route.continue_()

    bk.route("**/v1/matters", drop_a_field)
    bk.click("#submit")
    expect(bk.locator("#f-repair_method-err")).to_contain_text("维修方式")
    bookkeeper.shot("a06-server-field-error")
    bk.click("#submit")
    expect(bk.locator("main h1")).to_have_text(title)
    bk.unroute("**/v1/matters")
    matter_id = bk.url.rsplit("/", 1)[1]
    expect(bk.locator(".holder")).to_contain_text(f"现在由 {names['director']}、{names['supervisor']} 签批")
    expect(bk.locator("dl.fields")).to_contain_text("预算金额")
    expect(bk.locator("dl.fields")).to_contain_text("86,000.00 元")
    bookkeeper.shot("a07-submitted")
    submitted = get_matter(api, matter_id, people["bookkeeper"])
    assert submitted["matter_type"] == tid and submitted["fields"]["budget_fen"] == 8_600_000

    # --- 7. every signer signs: the village's three on their phones, the town's through the API ---
    for stage, role in ((1, "director"), (1, "supervisor"), (2, "secretary")):
        signer = Phone(browser, stack, shots, people[role])
        until(signer.page, "#/tasks", title)
        signer.page.locator("#task-list a", has_text=title).click()
        expect(signer.page.locator("#sign-h")).to_contain_text(f"第{stage}环节")
        signer.page.fill("#comment", "同意")
        signer.page.click("#approve")
        expect(signer.page.get_by_text("已同意，签名已提交。")).to_be_visible()
        signer.close()
    for stage, person in ((3, "yinong-cadre-sanwei"), (4, "yinong-leader-a"), (5, "yinong-deputy-projects")):
        wait_for(lambda person=person: tasks_of(api, person, matter_id), timeout=120, what=f"stage {stage} open for {person}")
        approve(api, person, get_matter(api, matter_id, people["bookkeeper"]), stage)

    # --- 8. completed, sealed with the new village's seal, and the PDF verifies ---
    until(bk, f"#/matter/{matter_id}", "已办结，审批编号", timeout=240)
    bookkeeper.shot("a08-completed")
    done = get_matter(api, matter_id, people["bookkeeper"])
    assert [s["seal_id"] for s in done["seals"]] == [f"{vid}-coop"]

    def sealed_pdf() -> bytes | None:
        with api.as_(people["bookkeeper"]) as client:
            response = client.get(f"/v1/matters/{matter_id}/document")
        return response.content if response.headers.get("X-Sealflow-Sealed") == "true" else None

    pdf = wait_for(sealed_pdf, timeout=180, what="the sealed PDF")
    with api.anonymous() as anyone:
        verified = anyone.post("/v1/verify", files={"file": ("sealed.pdf", pdf, "application/pdf")}).json()
    assert verified["valid"] is True, verified
    assert any(s["name"] == f"{vname}经济联合社电子印章" for s in verified["seals"]), verified["seals"]
    bookkeeper.close()

    # --- 9. seals: the new one listed; another made, renewed and revoked with a reason ---
    admin.go("#/admin/seals")
    expect(page.locator(f"li[data-seal='{vid}-coop']")).to_contain_text("有效")
    page.locator("#seal-new summary").click()
    page.fill("#seal-new-id", f"{vid}-archive")
    page.fill("#seal-new-name", f"{vname}档案专用电子印章")
    page.select_option("#seal-new-holder", vid)
    page.check("#seal-new-roles-secretary")
    page.fill("#seal-new-to", "2030-12-31")
    page.click("#seal-new-submit")
    expect(page.locator("main .success")).to_contain_text(f"已新建「{vname}档案专用电子印章」")
    archive = page.locator(f"li[data-seal='{vid}-archive']")
    expect(archive).to_contain_text("有效期：")
    expect(archive).to_contain_text("2030-12-31")
    archive.locator("summary", has_text="续期").click()
    page.fill(f"#seal-{vid}-archive-to", "2032-12-31")
    archive.get_by_role("button", name="续期").click()
    expect(page.locator("main .success")).to_contain_text("已续期至 2032-12-31")
    archive = page.locator(f"li[data-seal='{vid}-archive']")
    archive.locator("summary", has_text="吊销").click()
    archive.get_by_role("button", name="吊销").click()
    expect(archive.get_by_role("alert")).to_contain_text("吊销必须填写理由")
    page.fill(f"#seal-{vid}-archive-reason", "印章管理人员变更，重新制章")
    page.once("dialog", lambda dialog: dialog.accept())
    archive.get_by_role("button", name="吊销").click()
    expect(page.locator("main .success")).to_contain_text("已吊销")
    expect(page.locator(f"li[data-seal='{vid}-archive']")).to_contain_text("已吊销")
    expect(page.locator(f"li[data-seal='{vid}-archive']")).to_contain_text("印章管理人员变更，重新制章")
    axes.check(page, "#/admin/seals")
    admin.shot("a09-seals")

    # --- 10. a calendar exception, a notification channel with a test message ---
    admin.go("#/admin/calendar")
    page.fill("#cal-day", "2030-02-09")
    page.select_option("#cal-kind", "true")
    page.fill("#cal-note", "春节调休上班")
    page.click("#cal-save")
    expect(page.locator("main .success")).to_contain_text("已登记 2030-02-09：上班")
    expect(page.locator("#calendar-list")).to_contain_text("2030-02-09（周六）上班")
    expect(page.locator("#calendar-list")).to_contain_text("春节调休上班")
    axes.check(page, "#/admin/calendar")

    hooks = Hooks()
    try:
        admin.go("#/admin/subscriptions")
        page.locator("#sub-new summary").click()
        page.fill("#sub-new-id", f"jiwei-{unique}")
        page.select_option("#sub-new-who", "yinong-discipline")
        page.select_option("#sub-new-channel", "webhook")
        page.fill("#sub-new-target", hooks.url)
        page.fill("#sub-new-secret", "e2e-webhook-secret")
        page.check("#sub-new-kind-overdue")
        page.locator("#sub-new").get_by_role("button", name="保存").click()
        expect(page.locator("main .success")).to_contain_text("已保存「镇纪委」的Webhook")
        channel = page.locator(f"li[data-sub='jiwei-{unique}']")
        channel.get_by_role("button", name="发送测试").click()
        expect(channel).to_contain_text("测试通知已送达")
        assert [h["json"]["kind"] for h in hooks.received] == ["test"]
        axes.check(page, "#/admin/subscriptions")
        admin.shot("a10-subscriptions")
    finally:
        hooks.server.shutdown()

    # --- 11. the administration trail: who changed what, before -> after, by name ---
    admin.go("#/admin/trail")
    expect(page.locator("#admin-chain")).to_contain_text("链完整")
    trail = page.locator("#admin-trail")
    expect(trail.locator("li", has_text=f"新增村「{vname}」")).to_have_count(1)
    changed = trail.locator("li", has_text="修改村").filter(has_text="三围村联村干部").first
    expect(changed).to_contain_text("镇管理员")
    expect(changed.locator("del")).to_contain_text("久联村联村干部")
    expect(changed.locator("ins")).to_contain_text("三围村联村干部")
    expect(trail.locator("li", has_text="新增人员")).not_to_have_count(0)
    expect(trail.locator("li", has_text="吊销印章").first).to_contain_text("印章管理人员变更")
    axes.check(page, "#/admin/trail")
    admin.shot("a11-trail")
    admin.close()

    assert len(axes.checked) == 13, axes.checked
    assert axes.problems == [], "\n".join(axes.problems)


def test_someone_else_is_refused_the_administration_screens(browser: Browser, stack: Stack, shots: Path) -> None:  # noqa: F811
    """The screens are the administrator's: for anyone else the server refuses and the page says so."""
    phone = Phone(browser, stack, shots, "jiulian-director")
    expect(phone.page.locator("#nav")).not_to_contain_text("管理")
    phone.go("#/admin/villages")
    expect(phone.page.get_by_role("alert").first).to_contain_text(re.compile("权限|管理员"))
    phone.close()
