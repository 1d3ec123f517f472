//! A text table built row by row, rendered by [`crate::text::table`].

/// A table of text cells under a header.
pub struct Table<const N: usize> {
    header: [&'static str; N],
    rows: Vec<Vec<String>>,
}

impl<const N: usize> Table<N> {
    /// An empty table with these column headers.
    pub fn new(header: [&'static str; N]) -> Table<N> {
        Table { header, rows: Vec::new() }
    }

    /// Appends a row.
    pub fn row<I: IntoIterator<Item = String>>(&mut self, cells: I) {
        self.rows.push(cells.into_iter().collect());
    }

    /// The table as aligned text.
    pub fn render(&self) -> String {
        crate::text::table(self.header, &self.rows)
    }
}
