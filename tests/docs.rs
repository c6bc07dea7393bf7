//! The Japanese guide (docs/ja/README.md) keeps up with the administrator's guide
//! (docs/admin-guide.md): every configuration key, its flag and its variable, and every exit
//! status of its tables is in it, and it has the guide's sections, in the same order.

use std::collections::BTreeSet;

const GUIDE: &str = include_str!("../docs/admin-guide.md");
const JA: &str = include_str!("../docs/ja/README.md");

/// The rows of the Markdown table that follows `heading` in `text`, as cells.
fn table_after<'a>(text: &'a str, heading: &str) -> Vec<Vec<&'a str>> {
    let start = text.find(heading).unwrap_or_else(|| panic!("no {heading:?} in the guide"));
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
fn every_key_flag_and_variable_of_the_guides_configuration_table_is_in_the_japanese_guide() {
    let rows = table_after(GUIDE, "| key | flag | variable | default | read by | meaning |");
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
fn every_exit_status_of_the_guide_is_in_the_japanese_guide() {
    let rows = table_after(GUIDE, "## Exit statuses");
    let statuses: BTreeSet<&str> = rows.iter().filter_map(|r| r[0].split_whitespace().next()).collect();
    assert!(statuses.contains("0") && statuses.contains("128+N") && statuses.len() >= 7, "{statuses:?}");
    let ja: BTreeSet<&str> = table_after(JA, "## 終了コード").iter().filter_map(|r| r[0].split_whitespace().next()).collect();
    let missing: Vec<&&str> = statuses.difference(&ja).collect();
    assert!(missing.is_empty(), "exit statuses missing from docs/ja/README.md: {missing:?}");
}

/// The administrator's guide's sections (`## `), as the Japanese guide names them.
const SECTIONS: &[(&str, &str)] = &[
    ("## Install", "## インストール"),
    ("## Wiring into CLUSTERPRO", "## CLUSTERPRO への組み込み"),
    ("## Configuration", "## 設定"),
    ("## What the commands do", "## 各コマンドの動作"),
    ("## Restarting the master after a configuration change (eva-ha restart)", "## 設定変更後のマスターの再起動(eva-ha restart)"),
    ("## Exit statuses", "## 終了コード"),
    ("## Troubleshooting by symptom", "## トラブルシューティング"),
    ("## Differences from the sample scripts", "## サンプルスクリプトとの違い"),
    ("## Supported platforms", "## 対応プラットフォーム"),
    ("## Running under Pacemaker", "## Pacemaker で使う場合"),
];

fn headings(text: &str) -> Vec<&str> {
    let mut fenced = false;
    text.lines()
        .filter(|l| {
            fenced ^= l.starts_with("```");
            !fenced && l.starts_with("## ")
        })
        .collect()
}

#[test]
fn the_japanese_guide_has_the_guides_sections_in_its_order() {
    let en: Vec<&str> = SECTIONS.iter().map(|s| s.0).collect();
    let ja: Vec<&str> = SECTIONS.iter().map(|s| s.1).collect();
    assert_eq!(headings(GUIDE), en, "docs/admin-guide.md's sections: update SECTIONS and docs/ja/README.md");
    assert_eq!(headings(JA), ja, "docs/ja/README.md's sections");
}
