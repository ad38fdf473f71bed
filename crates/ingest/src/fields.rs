//! The fields each import kind takes, the header names (Chinese and English)
//! that are recognised for them, and the mapping of a file's header onto them.

use crate::IngestError;

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    Stores,
    Sales,
    Daily,
    /// A target plan's cells (store × month or store × day), brought back from a sheet.
    Targets,
    /// Positions with their duties.
    Positions,
    /// Employees: unit, position, level, pay base.
    Employees,
}

impl ImportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportKind::Stores => "stores",
            ImportKind::Sales => "sales",
            ImportKind::Daily => "daily",
            ImportKind::Targets => "targets",
            ImportKind::Positions => "positions",
            ImportKind::Employees => "employees",
        }
    }

    pub fn fields(self) -> &'static [FieldSpec] {
        match self {
            ImportKind::Stores => STORE_FIELDS,
            ImportKind::Sales => SALES_FIELDS,
            ImportKind::Daily => DAILY_FIELDS,
            ImportKind::Targets => TARGET_FIELDS,
            ImportKind::Positions => POSITION_FIELDS,
            ImportKind::Employees => EMPLOYEE_FIELDS,
        }
    }
}

/// A field an import takes, and the header names that mean it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: &'static str,
    pub zh: &'static str,
    pub required: bool,
    /// Recognised header names besides `name` and `zh`, compared after
    /// [`normalise`].
    pub aliases: &'static [&'static str],
}

const fn f(name: &'static str, zh: &'static str, required: bool, aliases: &'static [&'static str]) -> FieldSpec {
    FieldSpec { name, zh, required, aliases }
}

const STORE_CODE: FieldSpec = f(
    "store_code",
    "门店编码",
    true,
    &["store", "store_id", "shop_code", "门店代码", "门店编号", "店号", "门店号", "店铺编码"],
);

pub const SALES_FIELDS: &[FieldSpec] = &[
    f(
        "ticket_no",
        "单号",
        true,
        &[
            "ticket",
            "receipt_no",
            "receipt",
            "order_no",
            "小票号",
            "销售单号",
            "流水号",
            "单据号",
            "小票编号",
            "交易单号",
        ],
    ),
    STORE_CODE,
    f("sold_at", "销售时间", true, &["sale_time", "sold_time", "datetime", "交易时间", "销售日期时间"]),
    f("member_id", "会员号", false, &["member", "member_code", "member_no", "会员卡号", "会员编号", "会员id", "会员"]),
    f(
        "sku",
        "商品编码",
        true,
        &["product_code", "item_code", "goods_code", "商品代码", "货号", "商品编号", "药品编码"],
    ),
    f("category", "品类", true, &["商品类别", "类别", "大类", "商品分类", "分类"]),
    f("qty", "数量", true, &["quantity", "销售数量", "销量"]),
    f("amount", "金额", true, &["sales_amount", "销售金额", "实收金额", "销售额"]),
    f("cost", "成本", true, &["cost_amount", "成本金额", "成本额"]),
];

pub const STORE_FIELDS: &[FieldSpec] = &[
    STORE_CODE,
    f("store_name", "门店名称", true, &["name", "shop_name", "店名", "门店"]),
    f("region", "区域", true, &["片区", "大区", "地区"]),
    f("area_sqm", "面积", true, &["area", "sqm", "营业面积", "门店面积", "经营面积"]),
    f("staff_count", "员工数", true, &["staff", "headcount", "employees", "人数", "员工人数", "编制人数"]),
    f("open_date", "开业日期", true, &["opened", "开店日期"]),
    f("channel", "渠道", false, &["门店类型"]),
    f("status", "状态", false, &["营业状态"]),
    f("sku_count", "品规数", false, &["skus", "sku数", "sku数量", "品种数", "商品数"]),
    f("opening_hours", "营业时长", false, &["hours", "open_hours", "营业小时", "营业时数"]),
];

pub const DAILY_FIELDS: &[FieldSpec] = &[
    STORE_CODE,
    f("date", "日期", true, &["business_date", "day", "营业日期", "销售日期"]),
    f("revenue", "销售额", true, &["sales", "amount", "营业额", "销售金额"]),
    f("cost", "成本", true, &["cost_amount", "成本金额"]),
    f("tickets", "客流", true, &["traffic", "customers", "来客数", "客流量", "单数", "交易笔数"]),
    f("qty", "数量", false, &["quantity", "销量", "销售数量"]),
    f("member_revenue", "会员销售额", false, &["member_sales", "会员销售金额"]),
];

pub const TARGET_FIELDS: &[FieldSpec] = &[
    STORE_CODE,
    f("period", "期间", true, &["month", "date", "月份", "日期", "年月"]),
    f("baseline", "保底", true, &["baseline_target", "保底目标", "保底值"]),
    f("stretch", "力争", true, &["stretch_target", "力争目标", "力争值"]),
];

pub const POSITION_FIELDS: &[FieldSpec] = &[
    f("position_code", "岗位编码", true, &["code", "岗位代码", "岗位编号"]),
    f("position_name", "岗位名称", true, &["name", "position", "岗位"]),
    f("duties", "岗位职责", false, &["duty", "responsibilities", "职责"]),
];

pub const EMPLOYEE_FIELDS: &[FieldSpec] = &[
    f("employee_code", "工号", true, &["code", "employee_id", "员工编号", "员工编码"]),
    f("employee_name", "姓名", true, &["name", "employee", "员工姓名"]),
    f("unit", "所属单位", true, &["store_code", "department", "门店编码", "门店", "部门", "单位"]),
    f("position", "岗位", true, &["position_code", "岗位编码"]),
    f("level", "职级", true, &["grade_level", "级别"]),
    f("pay_base", "绩效基数", false, &["绩效工资基数", "考核基数"]),
    f("excluded", "不参与考核", false, &["exclude", "排除"]),
    f("start_date", "入职日期", true, &["hired", "入职时间"]),
    f("end_date", "离职日期", false, &["left", "离职时间"]),
];

/// The comparable form of a header: lower case, without spaces, `_`, `-`,
/// `.` or a bracketed unit (`金额(元)` → `金额`).
pub fn normalise(header: &str) -> String {
    let mut out = String::with_capacity(header.len());
    let mut depth = 0;
    for ch in header.trim_start_matches('\u{feff}').chars() {
        match ch {
            '(' | '（' | '[' | '【' => depth += 1,
            ')' | '）' | ']' | '】' => depth = (depth - 1).max(0),
            _ if depth > 0 => {}
            c if c.is_whitespace() || matches!(c, '_' | '-' | '.') => {}
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// Which column of a file holds each field of its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub kind: ImportKind,
    /// Per field of `kind.fields()`, the column that holds it.
    pub columns: Vec<Option<usize>>,
    pub header: Vec<String>,
}

impl Mapping {
    /// Maps a header. `saved` holds (header, field) pairs that name other
    /// columns; they take precedence over the built-in names.
    pub fn build(
        kind: ImportKind,
        header: &[String],
        saved: &[(String, String)],
        file: &str,
    ) -> Result<Mapping, IngestError> {
        let fields = kind.fields();
        for (_, field) in saved {
            if !fields.iter().any(|f| f.name == field) {
                let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
                return Err(IngestError::file(
                    file,
                    format!(
                        "a column mapping names '{field}', which is not a {} field ({})",
                        kind.as_str(),
                        names.join(", ")
                    ),
                ));
            }
        }
        let mut columns: Vec<Option<usize>> = vec![None; fields.len()];
        for (col, h) in header.iter().enumerate() {
            let n = normalise(h);
            if n.is_empty() {
                continue;
            }
            let by_saved = saved
                .iter()
                .find(|(sh, _)| normalise(sh) == n)
                .and_then(|(_, field)| fields.iter().position(|f| f.name == field));
            let by_name = || {
                fields.iter().position(|f| {
                    normalise(f.name) == n || normalise(f.zh) == n || f.aliases.iter().any(|a| normalise(a) == n)
                })
            };
            let Some(fi) = by_saved.or_else(by_name) else {
                continue;
            };
            if let Some(prev) = columns[fi] {
                return Err(IngestError::file(
                    file,
                    format!(
                        "columns '{}' and '{}' both mean {} ({}); keep one",
                        header[prev], h, fields[fi].name, fields[fi].zh
                    ),
                ));
            }
            columns[fi] = Some(col);
        }
        let missing: Vec<String> = fields
            .iter()
            .zip(&columns)
            .filter(|(f, c)| f.required && c.is_none())
            .map(|(f, _)| format!("{} ({})", f.name, f.zh))
            .collect();
        if !missing.is_empty() {
            return Err(IngestError::file(
                file,
                format!(
                    "missing column(s) {} / 缺少列 {}; the header has: {}. Name a column with --map 'HEADER=FIELD' (add --save-mapping to keep it)",
                    missing.join(", "),
                    missing.join("、"),
                    header.join(", ")
                ),
            ));
        }
        Ok(Mapping { kind, columns, header: header.to_vec() })
    }

    /// The column of field number `field`.
    pub fn col(&self, field: usize) -> Option<usize> {
        self.columns[field]
    }

    /// The name a user sees for a field: the file's own header text.
    pub fn column_name(&self, field: usize) -> String {
        match self.columns[field] {
            Some(c) => self.header[c].clone(),
            None => self.kind.fields()[field].name.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn chinese_and_english_headers_map_alike() {
        let en = Mapping::build(
            ImportKind::Sales,
            &h(&["ticket_no", "store_code", "sold_at", "member_id", "sku", "category", "qty", "amount", "cost"]),
            &[],
            "f",
        )
        .unwrap();
        let zh = Mapping::build(
            ImportKind::Sales,
            &h(&["单号", "门店编码", "销售时间", "会员号", "商品编码", "品类", "数量", "金额(元)", "成本"]),
            &[],
            "f",
        )
        .unwrap();
        assert_eq!(en.columns, zh.columns);
        assert_eq!(en.columns, (0..9).map(Some).collect::<Vec<_>>());
    }

    #[test]
    fn a_missing_column_is_named_in_both_languages() {
        let err = Mapping::build(
            ImportKind::Sales,
            &h(&["单号", "门店编码", "销售时间", "商品编码", "品类", "数量", "金额"]),
            &[],
            "x.csv",
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("x.csv: missing column(s) cost (成本)"), "{msg}");
        assert!(msg.contains("缺少列 cost (成本)"), "{msg}");
    }

    #[test]
    fn a_saved_mapping_names_other_columns() {
        let header = h(&["交易编号", "门店", "时间戳", "SKU", "品类", "数量", "金额", "成本", "门店编码"]);
        let saved =
            vec![("交易编号".to_string(), "ticket_no".to_string()), ("时间戳".to_string(), "sold_at".to_string())];
        let m = Mapping::build(ImportKind::Sales, &header, &saved, "f").unwrap();
        assert_eq!(m.col(0), Some(0));
        assert_eq!(m.col(1), Some(8));
        assert_eq!(m.col(2), Some(2));
        assert_eq!(m.column_name(3), "member_id");
    }

    #[test]
    fn two_columns_for_one_field_are_refused() {
        let err = Mapping::build(
            ImportKind::Daily,
            &h(&["门店编码", "日期", "销售额", "营业额", "成本", "客流"]),
            &[],
            "d.csv",
        )
        .unwrap_err();
        assert!(err.to_string().contains("columns '销售额' and '营业额' both mean revenue"), "{err}");
    }
}
