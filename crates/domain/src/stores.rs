//! Stores (门店): the unit every figure belongs to, placed in a region tree.

use chrono::NaiveDate;

/// Where a store sells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// A shop on the street (门店).
    Store,
    /// An online shop (网店).
    Online,
}

impl Channel {
    pub fn parse(text: &str) -> Option<Channel> {
        match text.trim().to_lowercase().as_str() {
            "" | "store" | "门店" | "实体店" | "线下" => Some(Channel::Store),
            "online" | "网店" | "线上" | "电商" => Some(Channel::Online),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Store => "store",
            Channel::Online => "online",
        }
    }
}

/// Whether a store trades.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreStatus {
    Open,
    Closed,
}

impl StoreStatus {
    pub fn parse(text: &str) -> Option<StoreStatus> {
        match text.trim().to_lowercase().as_str() {
            "" | "open" | "营业" | "正常" | "开业" => Some(StoreStatus::Open),
            "closed" | "关闭" | "停业" | "闭店" => Some(StoreStatus::Closed),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StoreStatus::Open => "open",
            StoreStatus::Closed => "closed",
        }
    }
}

/// A store as a file or a form gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreRecord {
    pub code: String,
    pub name: String,
    /// From the top of the region tree down: `华东/上海` → `["华东", "上海"]`.
    pub region_path: Vec<String>,
    pub area_sqm: i64,
    pub staff_count: i64,
    pub open_date: NaiveDate,
    /// `None` when the file has no such column: an existing store keeps its
    /// value, a new one is a street store.
    pub channel: Option<Channel>,
    /// `None` when the file has no such column: kept, or open for a new store.
    pub status: Option<StoreStatus>,
    /// SKUs in range (品规数): `None` when the file has no such column (kept),
    /// `Some(None)` when its cell is empty (unknown).
    pub sku_count: Option<Option<i64>>,
    /// Opening minutes a day, with the same convention.
    pub open_minutes: Option<Option<i64>>,
}

/// Splits a region cell into its path; `/`, `>` and `＞` separate levels.
pub fn region_path(text: &str) -> Vec<String> {
    text.split(['/', '>', '＞']).map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_cells_become_paths() {
        assert_eq!(region_path("华东"), vec!["华东"]);
        assert_eq!(region_path(" 华东 / 上海 "), vec!["华东", "上海"]);
        assert_eq!(region_path("South > Shenzhen"), vec!["South", "Shenzhen"]);
        assert!(region_path(" / ").is_empty());
    }

    #[test]
    fn channels_and_statuses_in_both_languages() {
        assert_eq!(Channel::parse("网店"), Some(Channel::Online));
        assert_eq!(Channel::parse(""), Some(Channel::Store));
        assert_eq!(Channel::parse("kiosk"), None);
        assert_eq!(StoreStatus::parse("停业"), Some(StoreStatus::Closed));
    }
}
