"""The discipline office's integrity alerts in the console (issue 15), in Debian's chromium on a phone-sized
screen against the real stack: three procurements of one village and counterparty (each under the threshold,
together above it) and a service that started before its submission raise real alerts; the supervision board
says how many wait; the alert board shows each with its rule in Chinese, the village's name, the matters'
titles and amounts (links to them) and its evidence in words; the filters narrow it and stay in the address;
a disposition with no choice or no reason is stopped on the page, one the server refuses is told and changes
nothing, and a confirmed one shows its status and lands in every matter's trail. The administrator reads the
alerts without the form; a bookkeeper is refused. axe-core finds no serious or critical violation on the
board or on an alert's page."""

from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, expect
from sealflow_cli.stack import Stack

from tests.e2e.test_integrity_alerts import alerts, submit
from tests.e2e.test_seed_case import approve, get_matter, trail
from tests.support.api import Api, seed_submission, wait_for
from tests.support.phone import Phone, axe_problems

pytestmark = pytest.mark.e2e


def read(api: Api, path: str) -> dict | list:
    with api.as_("yinong-discipline") as discipline:
        response = discipline.get(path)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_discipline_office_reads_filters_and_disposes_of_alerts_on_a_phone(
    browser: Browser,
    stack: Stack,
    api: Api,
    shots: Path,
    unique: str,
) -> None:
    # --- real alerts, raised by the real stack ---
    party = f"预警看板测试保洁公司{unique}"
    split_titles = [f"村级保洁服务（看板第{n + 1}段）{unique}" for n in range(3)]
    split_ids = []
    for title in split_titles:
        body = seed_submission(title=title, amount_fen=20_000_000)  # 20万 each: under the 50万 line, 60万 together
        body["fields"]["counterparty"] = party
        split_ids.append(submit(api, body)["id"])
    late_title = f"先斩后奏（看板测试）{unique}"
    late = seed_submission(title=late_title)
    late["fields"]["service_start"] = "2020-01-01"
    late["fields"]["counterparty"] = f"先斩后奏测试公司{unique}"
    late_id = submit(api, late)["id"]

    split = wait_for(
        lambda: next((a for a in alerts(api, rule="split_procurement") if set(a["matter_ids"]) == set(split_ids)), None),
        timeout=90,
        what="the split_procurement alert",
    )
    act_first = wait_for(
        lambda: next((a for a in alerts(api, rule="act_first") if a["matter_ids"] == [late_id]), None),
        timeout=90,
        what="the act_first alert",
    )
    # The director approves the three at once, opening none of them: 走过场.
    for matter_id in split_ids:
        wait_for(lambda i=matter_id: get_matter(api, i)["current_stage"] == 1, what="stage 1 open")
        approve(api, "jiulian-director", get_matter(api, matter_id), 1)
    stamp = wait_for(
        lambda: next(
            (
                a
                for a in alerts(api, rule="rubber_stamp")
                if a["evidence"]["person_id"] == "jiulian-director" and set(split_ids) <= set(a["matter_ids"])
            ),
            None,
        ),
        timeout=90,
        what="the rubber_stamp alert",
    )
    director = read(api, "/v1/people/jiulian-director")["name"]
    village = next(v["name"] for v in read(api, "/v1/villages") if v["id"] == "jiulian")
    officer = read(api, "/v1/people/yinong-discipline")["name"]
    problems: list[str] = []

    # --- the supervision board says how many wait, and leads to them ---
    inspector = Phone(browser, stack, shots, "yinong-discipline")
    page = inspector.go("#/supervise")
    expect(page.locator("#nav a[href='#/alerts']")).to_have_text("预警")
    expect(page.locator("#open-alerts")).to_contain_text("待处置的诚信预警")
    expect(page.locator("#open-alerts")).to_contain_text("拆分规避")
    problems += axe_problems(page, "supervision board")
    page.get_by_role("link", name="查看诚信预警").click()
    expect(page.locator("main h1")).to_have_text("诚信预警")

    # --- the board: rule in Chinese, village name, matters by title and amount, evidence in words ---
    card = page.locator(f'li[data-alert="{split["id"]}"]')
    expect(card).to_contain_text("拆分规避")
    expect(card).to_contain_text("待处置")
    expect(card).to_contain_text(village)
    for title in split_titles:
        expect(card.get_by_role("link", name=title)).to_have_attribute("href", f"#/matter/{split_ids[split_titles.index(title)]}")
    expect(card).to_contain_text("200,000.00 元")
    expect(card).to_contain_text(f"同一交易对象「{party}」")
    expect(card).to_contain_text("合计 600,000.00 元")
    expect(card).to_contain_text("500,000.00 元 的审批线")
    for matter_id in split_ids:
        assert matter_id not in card.inner_text(), "names, not ids"
    late_card = page.locator(f'li[data-alert="{act_first["id"]}"]')
    expect(late_card).to_contain_text("先斩后奏")
    expect(late_card.get_by_role("link", name=late_title)).to_be_visible()
    expect(late_card).to_contain_text("服务开始日期是 2020年1月1日")
    problems += axe_problems(page, "alert board")
    inspector.shot("al01-board")

    # 走过场 is about a signer: named, never by id, with the villages of the matters (the run may be older than
    # this test and already disposed of by another: every status shown).
    page = inspector.go("#/alerts?rule=rubber_stamp&status=")
    stamp_card = page.locator(f'li[data-alert="{stamp["id"]}"]')
    expect(stamp_card).to_contain_text("走过场")
    expect(stamp_card).to_contain_text(f"{director}连续")
    expect(stamp_card).to_contain_text("没有打开文件或附件")
    expect(stamp_card).to_contain_text(village)
    assert "jiulian-director" not in stamp_card.inner_text()
    inspector.shot("al01b-rubber-stamp")
    page = inspector.go("#/alerts")

    # --- filters: by rule, by village, by status; they stay in the address ---
    page.select_option("#alert-rule", "act_first")
    expect(card).to_have_count(0)
    expect(late_card).to_be_visible()
    page.select_option("#alert-village", label=village)
    expect(late_card).to_be_visible()
    assert "rule=act_first" in page.url and "village_id=jiulian" in page.url, page.url
    page.select_option("#alert-status", "confirmed")
    expect(late_card).to_have_count(0)
    page.reload()
    expect(page.locator("#alert-rule")).to_have_value("act_first")
    expect(page.locator("#alert-status")).to_have_value("confirmed")
    expect(page.locator(f'li[data-alert="{act_first["id"]}"]')).to_have_count(0)
    page.select_option("#alert-status", "open")
    expect(page.locator(f'li[data-alert="{act_first["id"]}"]')).to_be_visible()
    inspector.shot("al02-filtered")
    page.select_option("#alert-rule", "split_procurement")
    card = page.locator(f'li[data-alert="{split["id"]}"]')
    expect(card).to_be_visible()

    # --- one alert's page ---
    card.get_by_role("link", name="查看并处置「拆分规避」预警").click()
    expect(page.locator("main h1")).to_have_text("「拆分规避」预警")
    matters = page.locator("#alert-matters")
    for title in split_titles:
        expect(matters.get_by_role("link", name=title)).to_be_visible()
    expect(page.locator("main")).to_contain_text(village)
    problems += axe_problems(page, "alert page")
    inspector.shot("al03-alert")

    # Nothing chosen, then no reason: told on the page, nothing sent.
    page.click("#disp-submit")
    expect(page.locator("#disp-status-err")).to_have_text("请选择确认或排除。")
    page.check("#disp-confirmed")
    page.click("#disp-submit")
    expect(page.locator("#disp-reason-err")).to_have_text("请填写处置理由。")
    # A reason longer than the server takes (a browser ignoring maxlength): the server's 422 is told, nothing changes.
    page.evaluate("() => document.querySelector('#disp-reason').removeAttribute('maxlength')")
    page.fill("#disp-reason", "核" * 2001)
    page.click("#disp-submit")
    expect(page.locator("#disp-result [role=alert]")).to_contain_text("处置未成功（422）")
    expect(page.locator("#disp-reason-err")).to_contain_text("最多 2000 字")
    inspector.shot("al04-refused")
    assert next(a for a in alerts(api, rule="split_procurement") if a["id"] == split["id"])["status"] == "open"
    for matter_id in split_ids:
        assert not [e for e in trail(api, matter_id)["entries"] if e["type"] == "alert.disposed"]

    reason = f"同一公司分三次签约，已立案核查 {unique}"
    page.fill("#disp-reason", reason)
    page.click("#disp-submit")
    expect(page.locator("#disp-done")).to_contain_text("已确认这条预警，处置理由已写入 3 个事项的留痕记录")
    expect(page.locator("main .chip").first).to_have_text("已确认")
    expect(page.locator("main .disposition")).to_contain_text(f"{officer}于")
    expect(page.locator("main .disposition")).to_contain_text(reason)
    expect(page.locator("#disposition-form")).to_have_count(0)
    problems += axe_problems(page, "alert page, disposed")
    inspector.shot("al05-confirmed")

    # The disposition landed: the alert is confirmed and each matter's trail holds it.
    assert [a["id"] for a in alerts(api, rule="split_procurement", status="confirmed") if a["id"] == split["id"]] == [split["id"]]
    for matter_id in split_ids:
        entry = wait_for(
            lambda i=matter_id: next((e for e in trail(api, i)["entries"] if e["type"] == "alert.disposed"), None),
            timeout=60,
            what="the disposition in the trail",
        )
        assert entry["actor_id"] == "yinong-discipline" and entry["data"]["status"] == "confirmed"
        assert entry["data"]["reason"] == reason and entry["data"]["alert_id"] == split["id"]

    # A matter's link opens the matter.
    page.locator("#alert-matters").get_by_role("link", name=split_titles[0]).click()
    expect(page.locator("main h1")).to_have_text(split_titles[0])
    # and its trail names the disposition.
    page = inspector.go(f"#/trail/{split_ids[0]}")
    expect(page.locator("main .trail")).to_contain_text("处置诚信预警")

    # Confirmed, it has left the default (待处置) board and shows under 已确认.
    page = inspector.go("#/alerts?rule=split_procurement")
    expect(page.locator("#alert-list, #no-alerts").first).to_be_visible()
    expect(page.locator(f'li[data-alert="{split["id"]}"]')).to_have_count(0)
    page.select_option("#alert-status", "confirmed")
    confirmed = page.locator(f'li[data-alert="{split["id"]}"]')
    expect(confirmed).to_contain_text("已确认")
    expect(confirmed).to_contain_text(reason)
    inspector.close()

    # --- the administrator reads, without the form; a bookkeeper is refused ---
    admin = Phone(browser, stack, shots, "yinong-admin")
    page = admin.go(f"#/alerts/{quote(act_first['id'], safe='')}")
    expect(page.locator("main h1")).to_have_text("「先斩后奏」预警")
    expect(page.locator("#alert-matters").get_by_role("link", name=late_title)).to_be_visible()
    expect(page.locator("main")).to_contain_text("由镇纪委核实处置")
    expect(page.locator("#disposition-form")).to_have_count(0)
    problems += axe_problems(page, "alert page, administrator")
    admin.close()

    bookkeeper = Phone(browser, stack, shots, "jiulian-bookkeeper")
    page = bookkeeper.go("#/alerts")
    expect(page.locator("#nav a[href='#/alerts']")).to_have_count(0)
    expect(page.locator("main [role=alert]")).to_contain_text("没有权限")
    bookkeeper.close()

    assert not problems, "\n".join(problems)
