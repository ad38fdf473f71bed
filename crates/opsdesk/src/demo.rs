//! `opsdesk demo`: a realistic demo company — a pharmacy chain with stores in
//! five regions and two years of sales with weekday, seasonal and holiday
//! shape, members and returns — built directly into the database, then its
//! daily report.

use chrono::{Datelike, Duration, Local, NaiveDate};
use clap::Args;
use opsdesk_db::imports::BatchMeta;
use opsdesk_db::people::{NewUser, ReachRef};
use opsdesk_db::sales::WriteOutcome;
use opsdesk_db::{Db, Scope};
use opsdesk_domain::people::Role;
use opsdesk_domain::sales::{DayKey, Rollup, TicketSums};
use opsdesk_domain::stores::{Channel, StoreRecord, StoreStatus};

use crate::{Failure, Ui};

mod staff;

#[derive(Args)]
pub(crate) struct DemoArgs {
    /// Number of stores.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=2000))]
    stores: u32,
    /// Days of sales, ending yesterday (or --end).
    #[arg(long, default_value_t = 730, value_parser = clap::value_parser!(u32).range(1..=3660))]
    days: u32,
    /// The last day of sales (default: yesterday).
    #[arg(long)]
    end: Option<NaiveDate>,
    /// Seed of the random numbers: the same seed builds the same company.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where the desk listens.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: String,
    /// Build the company and print its daily report, but do not serve the desk.
    #[arg(long)]
    no_serve: bool,
    /// Stores, sales and targets only: no staff, positions or appraisal cycles
    /// (to import one's own).
    #[arg(long)]
    no_staff: bool,
}

/// One demo user per role: name, role, reach, password (printed at start).
const DEMO_USERS: &[(&str, Role, ReachRef, &str)] = &[
    ("admin", Role::Admin, ReachRef::None, "opsdesk-demo-admin"),
    ("ops", Role::Operations, ReachRef::None, "opsdesk-demo-ops"),
    ("finance", Role::Finance, ReachRef::None, "opsdesk-demo-finance"),
    ("gm", Role::Operations, ReachRef::None, "opsdesk-demo-gm"),
];

/// The demo's executive (总经理), who approves appraisal cycles.
const DEMO_EXECUTIVE: &str = "gm";

/// The demo's managers: the first region's and the first store's.
fn demo_managers(region: &str, store: &str) -> Vec<(&'static str, Role, ReachRef, &'static str)> {
    vec![
        ("region", Role::RegionManager, ReachRef::Region(region.to_string()), "opsdesk-demo-region"),
        ("store", Role::StoreManager, ReachRef::Store(store.to_string()), "opsdesk-demo-store"),
    ]
}

/// Creates the demo users that are missing; returns every demo user with
/// its password and reach, for printing.
async fn demo_users(db: &Db, scope: &Scope, ui: &Ui) -> Result<Vec<(String, String, String)>, Failure> {
    let lang = ui.lang;
    let err = |e: opsdesk_db::DbError| Failure::Other(e.message(lang));
    let stores = db.stores(scope).await.map_err(err)?;
    let Some(first) = stores.first() else { return Ok(Vec::new()) };
    let mut all: Vec<(&str, Role, ReachRef, &str)> =
        DEMO_USERS.iter().map(|(n, r, x, p)| (*n, *r, x.clone(), *p)).collect();
    all.extend(demo_managers(first.top_region(), &first.code));
    let mut out = Vec::new();
    for (name, role, reach, password) in all {
        if db.user_by_name(name).await.map_err(err)?.is_none() {
            let password_hash = opsdesk_web::auth::hash_password(password).map_err(Failure::Other)?;
            let new = NewUser { name: name.into(), role, reach: reach.clone(), password_hash };
            db.create_user(scope, &new).await.map_err(err)?;
        }
        let reach = match reach {
            ReachRef::None => lang.pick("全部门店", "all stores").to_string(),
            ReachRef::Store(s) | ReachRef::Region(s) => s,
        };
        out.push((format!("{name} / {password}"), role.label(lang).to_string(), reach));
    }
    Ok(out)
}

/// SplitMix64: small, fast, and the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u = self.unit().max(1e-12);
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * self.unit()).cos()
    }
}

const REGIONS: &[(&str, &[&str], f64)] = &[
    ("华东", &["上海", "杭州", "南京", "苏州"], 0.32),
    ("华南", &["广州", "深圳"], 0.22),
    ("华北", &["北京", "天津"], 0.18),
    ("西南", &["成都", "重庆"], 0.14),
    ("华中", &["武汉", "长沙"], 0.14),
];

/// name, share of lines, price range in fen, margin.
const CATEGORIES: &[(&str, f64, i64, i64, f64)] = &[
    ("处方药", 0.19, 1500, 18000, 0.18),
    ("非处方药", 0.20, 800, 8000, 0.35),
    ("中成药", 0.10, 1200, 9000, 0.38),
    ("中药饮片", 0.08, 1000, 12000, 0.45),
    ("保健品", 0.07, 4000, 40000, 0.55),
    ("医疗器械", 0.06, 1000, 60000, 0.40),
    ("个人护理", 0.07, 1000, 15000, 0.42),
    ("母婴", 0.04, 2000, 30000, 0.30),
    ("日用品", 0.06, 300, 5000, 0.30),
    ("消毒防护", 0.07, 500, 6000, 0.40),
    ("隐形眼镜", 0.03, 3000, 20000, 0.45),
    ("计生用品", 0.03, 1000, 10000, 0.55),
];

const WEEKDAY: [f64; 7] = [0.95, 0.93, 0.95, 0.97, 1.04, 1.12, 1.08];
const SPRING_FESTIVALS: &[(i32, u32, u32)] =
    &[(2024, 2, 10), (2025, 1, 29), (2026, 2, 17), (2027, 2, 6), (2028, 1, 26), (2029, 2, 13)];

/// Traffic factor of a calendar day: weekday, flu season, holidays, shopping festivals.
fn day_factor(d: NaiveDate) -> f64 {
    let mut f = WEEKDAY[d.weekday().num_days_from_monday() as usize];
    let doy = f64::from(d.ordinal());
    f *= 1.0 + 0.15 * (2.0 * std::f64::consts::PI * (doy - 15.0) / 365.25).cos();
    for &(y, m, day) in SPRING_FESTIVALS {
        let Some(sf) = NaiveDate::from_ymd_opt(y, m, day) else {
            continue;
        };
        f *= match (d - sf).num_days() {
            -10..=-2 => 1.15,
            -1 => 0.60,
            0 => 0.45,
            1 => 0.50,
            2 | 3 => 0.65,
            4..=6 => 0.85,
            _ => 1.0,
        };
    }
    match (d.month(), d.day()) {
        (10, 1..=7) => f * 0.88,
        (11, 11) => f * 1.35,
        (6, 18) => f * 1.2,
        (5, 1..=3) => f * 0.9,
        _ => f,
    }
}

struct DemoStore {
    record: StoreRecord,
    quality: f64,
    growth: f64,
    members: Vec<String>,
}

fn build_stores(rng: &mut Rng, n: u32, start: NaiveDate, end: NaiveDate) -> Vec<DemoStore> {
    let span = (end - start).num_days();
    let mut counts = std::collections::HashMap::new();
    (0..n)
        .map(|i| {
            let mut pick = rng.unit();
            let (region, cities, _) = REGIONS
                .iter()
                .find(|r| {
                    pick -= r.2;
                    pick < 0.0
                })
                .unwrap_or(&REGIONS[0]);
            let city = cities[rng.below(cities.len() as u64) as usize];
            let k = counts.entry(city).and_modify(|c| *c += 1).or_insert(1);
            let area = 50 + (rng.unit().powf(1.7) * 300.0) as i64;
            let staff = (3 + area / 35 + rng.below(3) as i64 - 1).clamp(3, 15);
            // One store in ten opens while the data runs, at least a month before its end.
            let open_date = if span > 120 && rng.unit() < 0.1 {
                start + Duration::days(30 + rng.below((span - 90) as u64) as i64)
            } else {
                start - Duration::days(200 + rng.below(4000) as i64)
            };
            let code = format!("S{:04}", i + 1);
            let members = (0..400 + area as u32 * 4).map(|m| format!("M{:03}{:05}", i + 1, m)).collect();
            DemoStore {
                record: StoreRecord {
                    code,
                    name: format!("康宁大药房{city}第{k}店"),
                    region_path: vec![region.to_string(), city.to_string()],
                    area_sqm: area,
                    staff_count: staff,
                    open_date,
                    channel: Some(Channel::Store),
                    status: Some(StoreStatus::Open),
                    sku_count: Some(Some(800 + area * 8 + rng.below(400) as i64)),
                    open_minutes: Some(Some(if rng.unit() < 0.2 { 24 * 60 } else { 14 * 60 })),
                },
                quality: (rng.normal() * 0.2).exp(),
                growth: 0.95 + rng.unit() * 0.2,
                members,
            }
        })
        .collect()
}

/// Sells a year or two of tickets into a rollup.
fn sell(rng: &mut Rng, stores: &[DemoStore], ids: &[i64], start: NaiveDate, end: NaiveDate) -> Rollup {
    let mut rollup = Rollup::default();
    let cat_total: f64 = CATEGORIES.iter().map(|c| c.1).sum();
    let years = (end - start).num_days() as f64 / 365.0;
    let mut d = start;
    while d <= end {
        let f = day_factor(d);
        let t = (d - start).num_days() as f64 / 365.0 - years;
        for (s, &id) in stores.iter().zip(ids) {
            let open = s.record.open_date;
            if d < open {
                continue;
            }
            let ramp = ((d - open).num_days() as f64 / 90.0).clamp(0.4, 1.0);
            let lambda = 6.5 * (s.record.area_sqm as f64).sqrt() * s.quality * f * s.growth.powf(t) * ramp;
            let tickets = (lambda * (rng.normal() * 0.08).exp()).round() as i64;
            let key = DayKey { store: id, date: d };
            for _ in 0..tickets {
                let member = (rng.unit() < 0.6).then(|| {
                    let pool = if rng.unit() < 0.9 {
                        &s.members
                    } else {
                        &stores[rng.below(stores.len() as u64) as usize].members
                    };
                    pool[(rng.unit().powi(2) * pool.len() as f64) as usize].as_str()
                });
                let is_return = rng.unit() < 0.007;
                let lines = if is_return { 1 } else { 1 + (rng.unit().powf(1.8) * 4.0) as i64 };
                let mut sums = TicketSums::default();
                for _ in 0..lines {
                    let mut pick = rng.unit() * cat_total;
                    let cat = CATEGORIES
                        .iter()
                        .find(|c| {
                            pick -= c.1;
                            pick < 0.0
                        })
                        .unwrap_or(&CATEGORIES[0]);
                    let price = cat.2 + ((cat.3 - cat.2) as f64 * rng.unit().powi(3)) as i64 / 10 * 10;
                    let qty = match rng.below(100) {
                        0..72 => 1,
                        72..91 => 2,
                        _ => 3,
                    };
                    let mut amount = price * qty;
                    if member.is_some() && rng.unit() < 0.4 {
                        amount = (amount * 95 + 50) / 100;
                    }
                    let cost = ((price * qty) as f64 * (1.0 - cat.4 + rng.normal() * 0.05)).round() as i64;
                    let (qty, amount, cost) = if is_return { (-1, -price, -(cost / qty)) } else { (qty, amount, cost) };
                    sums.add_line(qty, amount, cost);
                    rollup.day(key).add_line(cat.0, qty, amount, cost);
                }
                rollup.day(key).add_ticket(member, &sums);
            }
        }
        d += Duration::days(1);
    }
    rollup
}

pub(crate) async fn run(url: &str, scope: &Scope, args: DemoArgs, ui: &Ui) -> Result<(), Failure> {
    let lang = ui.lang;
    let err = |e: opsdesk_db::DbError| Failure::Other(e.message(lang));
    let (db, _) = Db::init(url).await.map_err(|e| Failure::BadInput(e.message(lang)))?;
    if db.stores(scope).await.map_err(err)?.is_empty() {
        build(&db, scope, &args, ui).await?;
    } else {
        ui.say(
            &format!("{} 中已有公司数据，直接显示其日报（换一个 --db 可新建演示公司）", db.display_url()),
            &format!(
                "{} already holds a company; showing its daily report (name another --db for a new demo)",
                db.display_url()
            ),
        );
    }
    match opsdesk_web::reports::daily(&db, scope, None).await {
        Ok(rep) => {
            ui.say(&format!("日报 {}", rep.company.date), &format!("Daily report {}", rep.company.date));
            print!("{}", crate::report::text_table(&opsdesk_domain::reports::daily::daily_table(&rep), ui.lang));
        }
        Err(opsdesk_web::reports::ReportError::NoSales) => {}
        Err(e) => return Err(crate::report::failure(e, ui.lang)),
    }
    if args.no_serve {
        db.close().await;
        return Ok(());
    }
    let users = demo_users(&db, scope, ui).await?;
    let mut t = crate::table::Table::new(
        [lang.pick("用户名 / 密码", "user / password"), lang.pick("角色", "role"), lang.pick("范围", "reach")]
            .map(String::from)
            .to_vec(),
    );
    for (a, b, c) in users {
        t.row(vec![a, b, c]);
    }
    eprint!("{}", t.render());
    crate::serve::run(db, &args.bind, opsdesk_web::server::Config::default(), ui).await
}

async fn build(db: &Db, scope: &Scope, args: &DemoArgs, ui: &Ui) -> Result<(), Failure> {
    let lang = ui.lang;
    let err = |e: opsdesk_db::DbError| Failure::Other(e.message(lang));
    let clock = std::time::Instant::now();
    let end = args.end.unwrap_or_else(|| Local::now().date_naive() - Duration::days(1));
    let start = end - Duration::days(i64::from(args.days) - 1);
    let mut rng = Rng(args.seed);
    let stores = build_stores(&mut rng, args.stores, start, end);
    let records: Vec<StoreRecord> = stores.iter().map(|s| s.record.clone()).collect();
    db.save_stores(scope, &records).await.map_err(err)?;
    let codes = db.store_codes(scope).await.map_err(err)?;
    let ids: Vec<i64> = stores.iter().map(|s| codes[&s.record.code]).collect();
    // CPU work: let the runtime's other tasks move meanwhile.
    let mut rollup = tokio::task::block_in_place(|| sell(&mut rng, &stores, &ids, start, end));
    let total = rollup.total();
    let data = opsdesk_db::sales::SalesData { days: rollup.take_rows(), lines: Vec::new() };
    // This year's targets: last twelve months' revenue and gross profit grown
    // 8 % (baseline) and 15 % (stretch), in round yuan.
    let year_ago = end - Duration::days(364);
    let (revenue, profit) = data
        .days
        .iter()
        .filter(|d| d.key.date >= year_ago)
        .fold((0i64, 0i64), |(r, p), d| (r + d.revenue, p + d.revenue - d.cost));
    let grown = |v: i64, pct: i64| v * (100 + pct) / 100 / 100 * 100;
    let meta = BatchMeta {
        kind: "sales".into(),
        file_name: "demo".into(),
        sha256: format!("demo:{}:{}:{}:{end}", args.seed, args.stores, args.days),
        started_at: chrono::Utc::now(),
        rows_read: total.lines,
        rows_imported: total.lines,
        rows_rejected: 0,
        first_date: Some(start),
        last_date: Some(end),
        message: "demo company".into(),
        add: false,
    };
    let written = db.write_sales(scope, &meta, data).await.map_err(err)?;
    db.keep_rfm().await.map_err(err)?;
    // Plans for this year, and last year's too when the appraisal's months fall in it.
    let mut years = vec![end.year()];
    if end.month() <= 2 {
        years.insert(0, end.year() - 1);
    }
    for (year, (metric, base)) in
        years.iter().flat_map(|y| [(*y, ("revenue", revenue)), (*y, ("gross_profit", profit))])
    {
        let plan = opsdesk_db::targets::NewPlan {
            year,
            metric: metric.into(),
            baseline: grown(base, 8),
            stretch: grown(base, 15),
            method: opsdesk_domain::targets::Method::LastYear,
            month_method: opsdesk_domain::targets::MonthMethod::LastYear,
            tiers: Vec::new(),
            rule: opsdesk_domain::targets::RewardRule::default(),
        };
        if base <= 0 {
            continue;
        }
        match db.create_target_plan(scope, &plan).await {
            Ok(_) => {}
            // Last year's plan is a convenience for the appraisal's months;
            // this year's is the demo's.
            Err(_) if year < end.year() => {}
            Err(e) => return Err(err(e)),
        }
    }
    if let WriteOutcome::Imported { pairs_new, .. } = written {
        ui.say(
            &format!(
                "演示公司已建立：{} 家门店，{start} 至 {end}，{} 个门店·日，{} 张小票，{} 行，用时 {:.1} 秒",
                args.stores,
                pairs_new,
                total.tickets,
                total.lines,
                clock.elapsed().as_secs_f64()
            ),
            &format!(
                "demo company built: {} stores, {start} to {end}, {} store-days, {} tickets, {} lines, in {:.1} s",
                args.stores,
                pairs_new,
                total.tickets,
                total.lines,
                clock.elapsed().as_secs_f64()
            ),
        );
    }
    // The people, with the demo users as unit heads and the executive.
    demo_users(db, scope, ui).await?;
    if !args.no_staff {
        db.set_setting(scope, opsdesk_db::settings::EXECUTIVES, DEMO_EXECUTIVE).await.map_err(err)?;
        let (staff, months) = staff::build(db, scope, &mut rng, &stores, end).await.map_err(err)?;
        let months: Vec<String> = months.iter().map(|m| opsdesk_domain::calendar::month_label(*m)).collect();
        ui.say(
            &format!("{staff} 名员工，考核周期 {}", months.join("、")),
            &format!("{staff} employees, appraisal cycles {}", months.join(", ")),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spring_festival_empties_the_stores() {
        let eve = NaiveDate::from_ymd_opt(2026, 2, 16).unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 2, 17).unwrap();
        let before = NaiveDate::from_ymd_opt(2026, 2, 10).unwrap();
        assert!(day_factor(day) < day_factor(eve));
        assert!(day_factor(eve) < day_factor(before));
    }

    #[test]
    fn the_same_seed_builds_the_same_company() {
        let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let end = NaiveDate::from_ymd_opt(2026, 1, 31).unwrap();
        let a = build_stores(&mut Rng(7), 3, start, end);
        let b = build_stores(&mut Rng(7), 3, start, end);
        assert_eq!(a.iter().map(|s| &s.record).collect::<Vec<_>>(), b.iter().map(|s| &s.record).collect::<Vec<_>>());
        let ids = [1, 2, 3];
        let ra = sell(&mut Rng(9), &a, &ids, start, end);
        let rb = sell(&mut Rng(9), &b, &ids, start, end);
        assert_eq!(ra.total(), rb.total());
        assert!(ra.total().tickets > 0);
    }
}
