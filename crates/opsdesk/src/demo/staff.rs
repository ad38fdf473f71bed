//! The demo company's people: positions with duties and scorecards, store
//! staff sized to each store, three head-office departments with heads, and
//! two appraisal cycles — the month before last paid, last month part way
//! along the chain (the demo store's unit still scoring, so its manager has
//! something waiting).

use chrono::NaiveDate;
use opsdesk_db::appraisal::ScoreEntry;
use opsdesk_db::{Db, DbError, Scope};
use opsdesk_domain::appraisal::cycle::Step;
use opsdesk_domain::appraisal::scoring::{Curve, Source, parse_scorecard};
use opsdesk_domain::calendar::month_key;
use opsdesk_domain::staff::{EmployeeRecord, PositionRecord, Unit};

use super::{DemoStore, Rng};

/// code, name, duties, scorecard (key:name:weight:source, …).
const POSITIONS: &[(&str, &str, &str, &str)] = &[
    (
        "SM",
        "店长",
        "门店经营与目标达成；排班与团队管理；GSP 合规；会员与顾客服务",
        "sales:销售目标达成:40:revenue_attainment,profit:毛利目标达成:30:gross_profit_attainment,team:团队与合规:30:hand",
    ),
    (
        "PH",
        "执业药师",
        "处方审核与调配；用药咨询；药品质量与效期管理；GSP 记录",
        "traffic:客流增长:20:traffic_growth,gsp:GSP 合规:40:hand,advice:用药咨询:40:hand",
    ),
    (
        "CL",
        "营业员",
        "商品陈列与补货；顾客接待与关联销售；会员招募",
        "aov:客单价增长:30:aov_growth,service:服务:40:hand,display:陈列与纪律:30:hand",
    ),
    ("CS", "收银员", "收银与小票；备用金与日结；会员积分", "accuracy:收银准确:60:hand,service:服务:40:hand"),
    ("DM", "部门经理", "部门目标与预算；团队管理；跨部门协作", "goals:部门目标:60:hand,team:团队管理:40:hand"),
    (
        "OP",
        "运营专员",
        "日报周报月报；目标分解与跟踪；活动与品类分析",
        "reports:报表及时准确:50:hand,projects:专项工作:50:hand",
    ),
    ("CA", "客服专员", "电话与在线客服；投诉处理；回访", "quality:服务质量:60:hand,volume:处理量:40:hand"),
    ("AC", "会计", "核算与报表；绩效工资发放；费用审核", "accuracy:核算准确:60:hand,timely:及时性:40:hand"),
];

/// A department's path, its head (a demo user, or none: operations scores
/// it) and its staff by position and level.
type DemoDepartment = (&'static str, Option<&'static str>, &'static [(&'static str, &'static str)]);

const DEPARTMENTS: &[DemoDepartment] = &[
    ("运营部", Some("ops"), &[("DM", "manager"), ("OP", "specialist"), ("OP", "specialist"), ("OP", "specialist")]),
    ("运营部/客服中心", None, &[("DM", "supervisor"), ("CA", "team-lead"), ("CA", "specialist"), ("CA", "specialist")]),
    ("财务部", Some("finance"), &[("DM", "manager"), ("AC", "specialist"), ("AC", "specialist")]),
];

const SURNAMES: &[&str] =
    &["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "林"];
const GIVEN: &[&str] =
    &["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明"];

fn name(rng: &mut Rng) -> String {
    let s = SURNAMES[rng.below(SURNAMES.len() as u64) as usize];
    let g1 = GIVEN[rng.below(GIVEN.len() as u64) as usize];
    if rng.unit() < 0.5 {
        format!("{s}{g1}")
    } else {
        format!("{s}{g1}{}", GIVEN[rng.below(GIVEN.len() as u64) as usize])
    }
}

/// The store's staff by position and level: a manager, a pharmacist, then
/// clerks and cashiers, one commission promoter outside the scheme in the
/// larger stores.
fn store_roles(staff: i64) -> Vec<(&'static str, &'static str, bool)> {
    let mut out = vec![("SM", "manager", false), ("PH", "supervisor", false)];
    for i in 2..staff {
        out.push(match i % 3 {
            0 => ("CS", "specialist", false),
            _ if i == 8 => ("CL", "specialist", true),
            _ => ("CL", "specialist", false),
        });
    }
    out
}

/// The month before `month` (both `YYYYMM`).
fn month_before(month: i64) -> i64 {
    if month % 100 == 1 { month - 100 + 11 } else { month - 1 }
}

/// Builds the people and the cycles; returns the number of employees and
/// the two cycles' months.
pub(super) async fn build(
    db: &Db,
    scope: &Scope,
    rng: &mut Rng,
    stores: &[DemoStore],
    end: NaiveDate,
) -> Result<(usize, Vec<i64>), DbError> {
    let positions: Vec<PositionRecord> = POSITIONS
        .iter()
        .map(|(code, name, duties, _)| PositionRecord {
            code: (*code).into(),
            name: (*name).into(),
            duties: (*duties).into(),
        })
        .collect();
    db.save_positions(scope, &positions).await?;
    for (code, _, _, card) in POSITIONS {
        let card = parse_scorecard(card).map_err(DbError::Rule)?;
        db.set_scorecard(scope, code, &card).await?;
    }
    let mut employees = Vec::new();
    let mut hire =
        |rng: &mut Rng, code: String, unit: Unit, position: &str, level: &str, excluded: bool, open: NaiveDate| {
            let start = open.max(end - chrono::Duration::days(200 + rng.below(3000) as i64));
            employees.push(EmployeeRecord {
                code,
                name: name(rng),
                unit,
                position: position.into(),
                level: level.into(),
                pay_base: None,
                excluded,
                // Staff of a store start with it or later; everyone has worked the two months appraised.
                start_date: start.min(end - chrono::Duration::days(70)),
                end_date: None,
            });
        };
    for (i, s) in stores.iter().enumerate() {
        for (n, (position, level, excluded)) in store_roles(s.record.staff_count).into_iter().enumerate() {
            let unit = Unit::Store(s.record.code.clone());
            hire(rng, format!("E{:04}{:02}", i + 1, n + 1), unit, position, level, excluded, s.record.open_date);
        }
    }
    for (d, (path, _, staff)) in DEPARTMENTS.iter().enumerate() {
        for (n, (position, level)) in staff.iter().enumerate() {
            let unit = Unit::Department(path.split('/').map(String::from).collect());
            let open = end - chrono::Duration::days(4000);
            hire(rng, format!("H{:02}{:02}", d + 1, n + 1), unit, position, level, false, open);
        }
    }
    let count = employees.len();
    db.save_employees(scope, &employees).await?;
    let paths = db.departments().await?;
    for (path, head, _) in DEPARTMENTS {
        if let (Some(head), Some((id, _))) = (head, paths.iter().find(|(_, p)| p.join("/") == *path)) {
            db.set_department_head(scope, *id, Some(head)).await?;
        }
    }

    // Two cycles: the month before last paid in full, last month on its way.
    let last = month_before(month_key(end));
    let months = [month_before(last), last];
    let policy = db.appraisal_policy().await?;
    let staff = db.employees(scope).await?;
    for (k, &month) in months.iter().enumerate() {
        let units = db.open_cycle(scope, month).await?;
        let mut scores = Vec::new();
        for e in staff.iter().filter(|e| !e.excluded) {
            let data = db.data_points(e, month, &Curve::default()).await?;
            for i in db.scorecard(&e.position).await? {
                let missing = data.get(&i.key).is_some_and(Option::is_none);
                if i.source != Source::Hand && !missing {
                    continue;
                }
                let points = ((88.0 + rng.normal() * 6.0).clamp(45.0, 100.0) * 100.0).round() as i64;
                let comment = if missing {
                    "无去年同期数据，按手工评分".to_string()
                } else if points < policy.comment_below {
                    "需改进：已面谈".to_string()
                } else {
                    String::new()
                };
                scores.push(ScoreEntry { employee: e.code.clone(), indicator: i.key, points, comment });
            }
        }
        db.set_scores(scope, month, &scores, &policy).await?;
        for (n, unit) in units.iter().enumerate() {
            // Last month: the first store (the demo store manager's) still
            // scoring, then a mix of signed, reviewed and approved.
            let steps: &[Step] = match (k, n % 4) {
                (0, _) => &[Step::Sign, Step::Review, Step::Approve, Step::Pay],
                (_, _) if unit == "store:S0001" => &[],
                (_, 0) => &[],
                (_, 1) => &[Step::Sign],
                (_, 2) => &[Step::Sign, Step::Review],
                _ => &[Step::Sign, Step::Review, Step::Approve],
            };
            for step in steps {
                let done = match step {
                    // An A+ beside no C needs its reason: given when asked.
                    Step::Sign => match db.sign_unit(scope, month, unit, "", true).await {
                        Err(_) => db.sign_unit(scope, month, unit, "本月业绩突出，经店务会评议", true).await,
                        ok => ok,
                    },
                    s => db.advance_unit(scope, month, unit, *s, "").await,
                };
                // A unit whose data falls short (a store without a plan for
                // the month) stays where it is, as it would in life.
                if done.is_err() {
                    break;
                }
            }
        }
    }
    Ok((count, months.to_vec()))
}
