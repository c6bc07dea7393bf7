//! eva-start against fake systemctl/journalctl and stand-in master scripts.

mod common;

use common::*;

#[test]
fn starts_units_in_one_call_then_the_master_with_the_jq_token() {
    let run = Test::new().invoked_as("eva-start").success();
    assert_eq!(run.changes(), ["start -- docker mongod.service postgresql-9.5.service"], "{}", run.dump());
    for id in ["docker.service", "mongod.service", "postgresql-9.5.service"] {
        assert_eq!(run.state(id), "active");
    }
    assert_eq!(run.master("arg1").unwrap(), format!("--token=\"{TOKEN}\""));
    assert_eq!(run.master("argc").unwrap(), "1");
    assert_eq!(run.master("cwd").unwrap().trim(), run.root.join("eva").to_str().unwrap());
    run.assert_token_hidden()
        .assert_stdout_contains("--token=***")
        .assert_stdout_contains("start-master: got --token=***")
        .assert_stdout_contains("EVA master started");
}
