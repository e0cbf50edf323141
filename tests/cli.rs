use serde_json::Value;

use crate::common::run;

fn lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn dedup_flags_a_repeat_and_reports_bad_lines_in_order() {
    let input = concat!(
        r#"{"id":"a","text":"The council voted on Tuesday to close the old bridge for repairs."}"#,
        "\n",
        "not json\n",
        r#"{"id":"b","text":"The council voted on Tuesday to close the old bridge for repairs.","extra":1}"#,
        "\n",
    );
    let out = run(&["dedup", "-"], input.as_bytes());
    assert_eq!(
        out.status.code(),
        Some(1),
        "a bad line must make the exit code non-zero"
    );
    let rows = lines(&out.stdout);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["id"], "a");
    assert!(rows[0]["duplicate_of"].is_null());
    assert_eq!(rows[1]["line"], 2);
    assert!(rows[1]["error"].as_str().unwrap().contains("JSON"));
    assert_eq!(rows[2]["id"], "b");
    assert_eq!(rows[2]["duplicate_of"], "a");
}

#[test]
fn dedup_exits_zero_when_every_line_is_good() {
    let input = r#"{"id":"a","text":"one"}"#.to_string() + "\n";
    let out = run(&["dedup", "-"], input.as_bytes());
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn fingerprint_prints_sixteen_hex_digits() {
    let out = run(&["fingerprint", "-"], b"Some news text about a meeting.");
    let text = String::from_utf8(out.stdout).unwrap();
    let first = text.lines().next().unwrap();
    assert_eq!(first.len(), 16);
    assert!(first.chars().all(|c| c.is_ascii_hexdigit()));
}
