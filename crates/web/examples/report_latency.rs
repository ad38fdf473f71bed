//! In-process report latency: opens a database once and times each report
//! of one date, week or month through the report service (query, rules,
//! table), as a page or an API call would.
//!
//!     cargo run --release -p opsdesk-web --example report_latency -- sqlite:///path/to/db [RUNS [REPORT]]
//!
//! Prints, per report, the median and the fastest of RUNS runs (default 7)
//! after one warm-up run; then, of the last run's table, what writing all
//! of it as CSV took, and what sorting it by its fourth column (descending)
//! and reading its first 50 rows took, as the desk's sort link does, and
//! reading the next 50 of the sorted rows (the desk keeps a sorted form).

use std::time::{Duration, Instant};

use opsdesk_db::{Db, Scope};
use opsdesk_domain::calendar::month_key;
use opsdesk_domain::reports::weekly::IsoWeek;
use opsdesk_web::reports::{ReportRequest, build};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| {
        eprintln!("usage: report_latency DATABASE_URL [RUNS]");
        std::process::exit(2)
    });
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(7).max(1);
    let only = args.next();
    let db = Db::open(&url).await.unwrap_or_else(|e| {
        eprintln!("{url}: {e}");
        std::process::exit(1)
    });
    let scope = Scope::system("bench");
    let Some(last) = db.last_sales_date(&scope).await.ok().flatten() else {
        eprintln!("no sales in {url}");
        std::process::exit(1)
    };
    let month = Some(month_key(last));
    let requests = [
        ("daily", ReportRequest::Daily { date: Some(last) }),
        ("weekly", ReportRequest::Weekly { week: Some(IsoWeek::of(last)) }),
        ("monthly", ReportRequest::Monthly { from: month, to: month }),
        ("traffic", ReportRequest::Traffic { month }),
        ("category", ReportRequest::Category { from: month, to: month }),
        ("efficiency", ReportRequest::Efficiency { from: None, to: Some(last) }),
        ("regions", ReportRequest::Regions { month }),
        ("rfm", ReportRequest::Rfm { asof: Some(last) }),
        ("rfm-segments", ReportRequest::RfmSegments { asof: Some(last) }),
    ];
    println!("{url}, last date {last}, {runs} runs after one warm-up");
    println!(
        "{:<14} {:>10} {:>10} {:>8} {:>8} {:>9} {:>8}",
        "report", "median ms", "best ms", "rows", "csv ms", "sort ms", "page ms"
    );
    for (name, req) in requests.iter().filter(|(n, _)| only.as_deref().is_none_or(|o| o == *n)) {
        let mut times: Vec<Duration> = Vec::with_capacity(runs);
        let mut last = None;
        for i in 0..=runs {
            let t = Instant::now();
            let report = match build(&db, &scope, req).await {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("{name}: {}", e.message(opsdesk_domain::i18n::Lang::En));
                    std::process::exit(1)
                }
            };
            if i > 0 {
                times.push(t.elapsed());
            }
            last = Some(report.table);
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let Some(table) = last else { continue };
        let rows = table.rows.len();
        let t = Instant::now();
        let csv = table.to_csv();
        let csv_time = t.elapsed();
        drop(csv);
        let t = Instant::now();
        let sorted = table.rows.sorted(3, true);
        let page = sorted.map_range(0..50, |r| r.len());
        let sort_time = t.elapsed();
        assert_eq!(page.len(), rows.min(50));
        let t = Instant::now();
        let next = sorted.map_range(50..100, |r| r.len());
        let page_time = t.elapsed();
        assert_eq!(next.len(), rows.saturating_sub(50).min(50));
        println!(
            "{name:<14} {:>10.1} {:>10.1} {rows:>8} {:>8.1} {:>9.1} {:>8.1}",
            ms(times[times.len() / 2]),
            ms(times[0]),
            ms(csv_time),
            ms(sort_time),
            ms(page_time)
        );
    }
    db.close().await;
}
