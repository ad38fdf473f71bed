//! Plain text tables for the terminal, aligned by display width (a Chinese
//! character takes two columns).

pub(crate) struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    /// Columns aligned to the right (numbers).
    right: Vec<bool>,
}

fn width(s: &str) -> usize {
    s.chars().map(|c| if (c as u32) >= 0x1100 && !c.is_ascii() { 2 } else { 1 }).sum()
}

impl Table {
    pub fn new(header: Vec<String>) -> Table {
        let n = header.len();
        Table { header, rows: Vec::new(), right: vec![false; n] }
    }

    pub fn right_align(mut self, cols: &[usize]) -> Table {
        for &c in cols {
            if c < self.right.len() {
                self.right[c] = true;
            }
        }
        self
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let n = self.header.len();
        let mut w = vec![0usize; n];
        for r in std::iter::once(&self.header).chain(&self.rows) {
            for (i, c) in r.iter().enumerate().take(n) {
                w[i] = w[i].max(width(c));
            }
        }
        let mut out = String::new();
        let line = |out: &mut String, r: &[String]| {
            for (i, c) in r.iter().enumerate().take(n) {
                let pad = " ".repeat(w[i] - width(c));
                if i > 0 {
                    out.push_str("  ");
                }
                if self.right[i] {
                    out.push_str(&pad);
                    out.push_str(c);
                } else {
                    out.push_str(c);
                    if i + 1 < n {
                        out.push_str(&pad);
                    }
                }
            }
            out.push('\n');
        };
        line(&mut out, &self.header);
        let rule: Vec<String> = w.iter().map(|&x| "-".repeat(x)).collect();
        line(&mut out, &rule);
        for r in &self.rows {
            line(&mut out, r);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_text_takes_two_columns() {
        let mut t = Table::new(vec!["门店".into(), "revenue".into()]).right_align(&[1]);
        t.row(vec!["S1".into(), "12.30".into()]);
        assert_eq!(t.render(), "门店  revenue\n----  -------\nS1      12.30\n");
    }
}
