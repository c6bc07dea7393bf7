//! The Japanese guide (docs/ja/README.md) keeps up with README's tables: every
//! configuration key, its flag and its variable, and every exit status, is in it.

use std::collections::BTreeSet;

const README: &str = include_str!("../README.md");
const JA: &str = include_str!("../docs/ja/README.md");

/// The rows of the Markdown table that follows `heading` in `text`, as cells.
fn table_after<'a>(text: &'a str, heading: &str) -> Vec<Vec<&'a str>> {
    let start = text.find(heading).unwrap_or_else(|| panic!("README has no {heading:?}"));
    text[start..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| l.trim_matches('|').split(" | ").map(str::trim).collect())
        .collect()
}

/// The text of a cell's first code span: `install_dir`.
fn code(cell: &str) -> &str {
    cell.split('`').nth(1).unwrap_or(cell)
}

#[test]
fn every_key_flag_and_variable_of_readmes_configuration_table_is_in_the_japanese_guide() {
    let rows = table_after(README, "| key | flag | variable | default | read by | meaning |");
    assert!(rows.len() >= 20, "{rows:?}");
    let mut missing = Vec::new();
    for row in &rows {
        let (key, flag, variable) = (code(row[0]), code(row[1]), code(row[2]));
        let flag = flag.split_whitespace().next().unwrap_or(flag);
        for needle in [format!("`{key}`"), flag.to_owned(), variable.to_owned()] {
            if !JA.contains(&needle) {
                missing.push(needle);
            }
        }
    }
    assert_eq!(missing, Vec::<String>::new(), "missing from docs/ja/README.md");
}

#[test]
fn every_exit_status_of_readme_is_in_the_japanese_guide() {
    let rows = table_after(README, "## Exit statuses");
    let statuses: BTreeSet<&str> = rows.iter().filter_map(|r| r[0].split_whitespace().next()).collect();
    assert!(statuses.contains("0") && statuses.contains("128+N") && statuses.len() >= 7, "{statuses:?}");
    let ja: BTreeSet<&str> = table_after(JA, "## 終了コード").iter().filter_map(|r| r[0].split_whitespace().next()).collect();
    let missing: Vec<&&str> = statuses.difference(&ja).collect();
    assert!(missing.is_empty(), "exit statuses missing from docs/ja/README.md: {missing:?}");
}
