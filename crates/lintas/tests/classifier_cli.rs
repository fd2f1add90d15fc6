//! `lintas rules check`, `lintas train` and `lintas eval` as an operator uses them.

use std::path::Path;
use std::process::{Command, Output};

fn lintas(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lintas"))
        .args(args)
        .output()
        .expect("lintas runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn write_rows(path: &Path) {
    write_labeled(path, false);
}

/// The rows, or with `swapped` the same texts under each other's labels (service <-> sales), so
/// a model trained on the rows must score low on them.
fn write_labeled(path: &Path, swapped: bool) {
    let rows = [
        (
            "a1",
            "my parcel arrived broken, please help",
            "service",
            "retention",
        ),
        (
            "a2",
            "the app crashes when I log in",
            "service",
            "retention",
        ),
        (
            "a3",
            "refund please, the kettle is broken",
            "service",
            "retention",
        ),
        (
            "b1",
            "I want to buy two blue chairs",
            "sales",
            "consideration",
        ),
        (
            "b2",
            "could you send a quote for 50 units",
            "sales",
            "consideration",
        ),
        (
            "b3",
            "is the green one in stock? I want to order",
            "sales",
            "consideration",
        ),
    ];
    let lines: Vec<String> = rows
        .iter()
        .map(|&(id, text, kind, stage)| {
            let (kind, stage) = match (swapped, kind) {
                (false, _) => (kind, stage),
                (true, "service") => ("sales", "consideration"),
                (true, _) => ("service", "retention"),
            };
            format!(
                r#"{{"id":"{id}","source":"test","lang":"en","text":"{text}","interaction_type":"{kind}","journey_stage":"{stage}"}}"#
            )
        })
        .collect();
    std::fs::write(path, lines.join("\n")).expect("writes rows");
}

#[test]
fn rules_check_accepts_the_builtin_rules_and_names_invalid_fields() {
    let output = lintas(&["rules", "check"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("built-in rules: ok, version"));

    let directory = tempfile::tempdir().expect("temp dir");
    let bad = directory.path().join("rules.toml");
    std::fs::write(
        &bad,
        "version = 1\n[[rule]]\nid = \"event.x\"\ntype = \"sale\"\nstage = \"purchase\"\nconfidence = 0.9\n",
    )
    .expect("writes rules");
    let output = lintas(&["rules", "check", bad.to_str().expect("utf-8 path")]);
    assert_eq!(output.status.code(), Some(1));
    let errors = text(&output.stderr);
    assert!(errors.contains("rule `event.x`: field `type`"), "{errors}");
}

#[test]
fn train_writes_a_model_that_eval_loads_and_thresholds_gate() {
    let directory = tempfile::tempdir().expect("temp dir");
    let rows = directory.path().join("rows.jsonl");
    let model = directory.path().join("model.json");
    write_rows(&rows);
    let rows_arg = rows.to_str().expect("utf-8 path");
    let model_arg = model.to_str().expect("utf-8 path");
    let output = lintas(&["train", "--input", rows_arg, "--output", model_arg]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("trained lr-"));

    let output = lintas(&["eval", rows_arg, "--model", model_arg]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report = text(&output.stdout);
    for part in [
        "overall",
        "lang=en",
        "source=test",
        "confusion, interaction type",
    ] {
        assert!(report.contains(part), "missing {part} in:\n{report}");
    }

    let swapped = directory.path().join("swapped.jsonl");
    write_labeled(&swapped, true);
    let output = lintas(&[
        "eval",
        swapped.to_str().expect("utf-8 path"),
        "--model",
        model_arg,
        "--min-macro-f1",
        "0.5",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stdout));
    assert!(text(&output.stderr).contains("below threshold: overall"));

    // A threshold that can never be met, or is always met, is refused up front.
    for bad in ["1.01", "NaN"] {
        let output = lintas(&[
            "eval",
            rows_arg,
            "--model",
            model_arg,
            "--min-macro-f1",
            bad,
        ]);
        assert_eq!(output.status.code(), Some(2), "{bad}");
        assert!(text(&output.stderr).contains("between 0 and 1"), "{bad}");
    }

    // The model is never written over its own training data.
    let output = lintas(&["train", "--input", rows_arg, "--output", rows_arg]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("is also a training file"));
    assert!(
        std::fs::read_to_string(&rows)
            .expect("rows")
            .starts_with("{\"id\":\"a1\"")
    );
}

#[test]
fn eval_of_a_missing_file_fails_with_the_path() {
    let output = lintas(&["eval", "/nonexistent/rows.jsonl"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("/nonexistent/rows.jsonl"));
}
