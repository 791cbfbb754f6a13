// The form's fields for each matter type. No endpoint exposes the policies' field lists yet, so the
// console keeps this small fixed list (see README, "Web console"); the server stores any fields given.
export const FORMS = {
  service_procurement: [
    { key: "项目名称", required: true },
    { key: "采购方式", options: ["公开招标", "邀请招标", "竞争性谈判", "询价", "单一来源"] },
    { key: "预算金额（元）", inputmode: "decimal" },
    { key: "资金来源", options: ["村集体经济收入", "上级补助资金", "其他"] },
  ],
  village_project: [
    { key: "项目名称", required: true },
    { key: "建设地点" },
    { key: "建设内容", multiline: true },
    { key: "资金来源", options: ["村集体经济收入", "上级补助资金", "其他"] },
  ],
  asset_contracting: [
    { key: "资产名称", required: true },
    { key: "发包方式", options: ["公开竞价", "协商发包"] },
    { key: "承包期限" },
    { key: "发包底价（元）", inputmode: "decimal" },
  ],
  seal_use: [
    { key: "用印事由", required: true, multiline: true },
    { key: "用印文件名称" },
    { key: "用印份数", inputmode: "numeric" },
  ],
};
