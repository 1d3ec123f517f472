//! Plain-text tables with aligned columns: numbers right, text left.

/// A table of text cells under a header; [`render`](Table::render) aligns it.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these column headers.
    pub fn new<const N: usize>(header: [&str; N]) -> Table {
        Table { header: header.iter().map(|s| s.to_string()).collect(), rows: Vec::new() }
    }

    /// Appends a row; cells past the header's columns are not rendered, missing ones are
    /// blank.
    pub fn row<I: IntoIterator<Item = String>>(&mut self, cells: I) {
        self.rows.push(cells.into_iter().collect());
    }

    /// The table as text: the header, a line of dashes, the rows; columns two spaces apart,
    /// a column (but the first) whose every cell is a number (digits and `.x%-`) aligned right.
    pub fn render(&self) -> String {
        let cols = self.header.len();
        let mut width = vec![0; cols];
        for r in std::iter::once(&self.header).chain(&self.rows) {
            for (i, c) in r.iter().enumerate().take(cols) {
                width[i] = width[i].max(c.chars().count());
            }
        }
        let numeric = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || ".x%-".contains(c));
        // A column of numbers is right-aligned, its header with it.
        let right: Vec<bool> = (0..cols)
            .map(|i| i > 0 && !self.rows.is_empty() && self.rows.iter().all(|r| r.get(i).is_some_and(|c| numeric(c))))
            .collect();
        let line = |r: &Vec<String>| {
            let mut out = String::new();
            for (i, w) in width.iter().enumerate() {
                let c = r.get(i).map(String::as_str).unwrap_or("");
                if i > 0 {
                    out.push_str("  ");
                }
                if right[i] {
                    out.push_str(&format!("{c:>w$}"));
                } else {
                    out.push_str(&format!("{c:<w$}"));
                }
            }
            out.trim_end().to_string() + "\n"
        };
        let mut s = line(&self.header);
        s.push_str(&width.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  "));
        s.push('\n');
        for r in &self.rows {
            s.push_str(&line(r));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_numbers_right() {
        let mut t = Table::new(["name", "n"]);
        t.row(["a".to_string(), "5".to_string()]);
        t.row(["bbb".to_string(), "123".to_string()]);
        assert_eq!(t.render(), "name    n\n----  ---\na       5\nbbb   123\n");
    }
}
