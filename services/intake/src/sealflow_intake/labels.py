"""A trail entry as a person reads it (docs/rules.md §8): one Chinese line from its type and data, with people,
villages and seals named — the console shows `label`; `type` and `data` stay for machines.

Pure: the caller gathers the names (`ids_in`) and passes them in."""

from datetime import datetime, timedelta, timezone
from typing import Any

CHINA = timezone(timedelta(hours=8))
DECISION = {"approve": "同意", "return": "退回", "reject": "终止"}
RULES = {"split_procurement": "拆分规避", "act_first": "先斩后奏", "rubber_stamp": "走过场", "counterparty_concentration": "交易对象集中"}
DISPOSED = {"confirmed": "确认", "dismissed": "排除"}
SKIPPED = {
    "the stand-in is the applicant": "代理人是申请人本人",
    "the stand-in already fills a slot of this matter": "代理人已在本事项中签批",
}
PERSON_KEYS = ("from", "to", "person_id", "closed_by")
PEOPLE_KEYS = ("assignees", "holders", "people", "supervisors")
SYSTEM_ACTORS = {"system", "sealflow", ""}


def ids_in(entry: dict[str, Any]) -> tuple[set[str], set[str]]:
    """(person ids, seal ids) an entry mentions, to be named."""
    data = entry.get("data") or {}
    people = {entry.get("actor_id") or ""} | {data[k] for k in PERSON_KEYS if isinstance(data.get(k), str)}
    for key in PEOPLE_KEYS:
        people |= {p for p in data.get(key) or [] if isinstance(p, str)}
    people |= {d["person_id"] for d in data.get("decisions") or [] if isinstance(d, dict) and "person_id" in d}
    seals = {data["seal_id"]} if isinstance(data.get("seal_id"), str) else set()
    return {p for p in people if p and p.lower() not in SYSTEM_ACTORS}, seals


def label(entry: dict[str, Any], person: dict[str, str], seal: dict[str, str]) -> str:
    data = entry.get("data") or {}
    kind = entry["type"]

    def who(pid: Any) -> str:
        return person.get(pid, "相关人员") if isinstance(pid, str) and pid else "系统"

    def many(pids: Any) -> str:
        return "、".join(who(p) for p in pids or []) or "无人"

    actor = who(entry.get("actor_id")) if (entry.get("actor_id") or "").lower() not in SYSTEM_ACTORS else "系统"
    stage = f"第{data['stage']}步" if data.get("stage") else ""
    seal_name = seal.get(data.get("seal_id") or "", "印章")
    comment = data.get("comment") or data.get("reason") or ""
    match kind:
        case "matter.submitted":
            return f"{actor}提交申请《{data.get('title', '')}》"
        case "decision.approve":
            return f"{actor}在{stage}同意" + (f"，意见：{comment}" if comment else "")
        case "decision.return" | "decision.reject":
            return f"{actor}在{stage}{DECISION[kind.split('.')[1]]}，原因：{comment}"
        case "stage.opened":
            return f"{stage}「{data.get('name', '')}」开始，签批人：{many(data.get('assignees'))}"
        case "stage.completed":
            return f"{stage}签批完成"
        case "signature.applied":
            return f"{actor}的电子签名已生成（{stage}）"
        case "seal.requested":
            return f"{stage}完成，申请加盖{seal_name}"
        case "seal.applied":
            return f"已加盖{seal_name}"
        case "seal.refused":
            return f"{seal_name}未能加盖：不符合用印规则"
        case "approval.requested":
            return f"申请登记审批编号 {data.get('approval_number', '')}"
        case "approval.registered":
            return f"审批编号 {data.get('approval_number', '')} 已登记"
        case "matter.completed":
            return f"已办结，审批编号 {data.get('approval_number', '')}"
        case "deadline.set":
            return f"{stage}签批时限：{_local(data.get('due_at'))}"
        case "sla.reminder":
            return f"{stage}将于 {_local(data.get('due_at'))} 到期，已提醒{many(data.get('holders'))}"
        case "sla.overdue":
            return f"{stage}已超过时限（{_local(data.get('due_at'))}），{many(data.get('holders'))}尚未签批"
        case "sla.escalated":
            level = "问责" if data.get("level", 1) >= 2 else "督办"
            return f"{stage}超时未签（{many(data.get('holders'))}），已{level}，通知{many(data.get('supervisors'))}"
        case "supervision.urged":
            return f"{actor}督办{stage}：{data.get('message', '')}"
        case "task.transferred":
            return f"{actor}将{stage}转办：{who(data.get('from'))} → {who(data.get('to'))}，原因：{comment}"
        case "task.delegated":
            return f"{who(data.get('from'))}不在岗（至 {data.get('until', '')}），{stage}由{who(data.get('to'))}代为签批"
        case "delegation.skipped":
            why = SKIPPED.get(data.get("reason", ""), "不符合回避规则")
            return f"{stage}未交给代理人{who(data.get('to'))}：{why}，仍由{who(data.get('from'))}签批"
        case "task.cancelled":
            return f"{stage}已由{who(data.get('closed_by'))}签批，{many(data.get('people'))}无需再签"
        case "revision.superseded":
            return f"第{data.get('revision', '')}版作废，其签名和印章不再有效"
        case "matter.revised":
            return f"{actor}修改后重新提交（第{data.get('revision', '')}版）"
        case "matter.withdrawn":
            return f"{actor}撤回了申请" + (f"，原因：{comment}" if comment else "")
        case "matter.returned" | "matter.rejected":
            return f"事项{'已退回' if kind.endswith('returned') else '已终止'}" + (f"，原因：{comment}" if comment else "")
        case "reconcile.reissued":
            return "系统发现签批请求未获确认，已重新发出"
        case "alert.disposed":
            rule = RULES.get(data.get("rule", ""), "诚信")
            verdict = DISPOSED.get(data.get("status", ""), "处置")
            reason = data.get("reason") or ""
            return f"{actor}{verdict}了「{rule}」预警" + (f"，理由：{reason}" if reason else "")
    return "其他记录"


def _local(at: Any) -> str:
    if not isinstance(at, str) or not at:
        return ""
    try:
        return datetime.fromisoformat(at).astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return at
