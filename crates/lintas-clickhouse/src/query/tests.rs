use super::*;

fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn every_query_has_a_question_declared_params_and_renders_with_them() {
    for query in PACK {
        assert!(
            !query.question().is_empty(),
            "{} has no question",
            query.name
        );
        assert!(
            query.source.contains("-- example:"),
            "{} has no example",
            query.name
        );
        let declared = query.params().expect("params parse");
        assert!(!declared.is_empty(), "{} declares no params", query.name);
        let values: BTreeMap<String, String> = declared
            .iter()
            .map(|p| {
                let value = match p.ty.as_str() {
                    "Date" => "2026-03-01",
                    "DateTime" => "2026-03-01 00:00:00",
                    "UInt32" => "5",
                    _ => "x",
                };
                (p.name.clone(), value.to_owned())
            })
            .collect();
        let sql = query.render(&values).expect("renders");
        assert!(
            !sql.contains('{'),
            "{}: placeholder left in {sql}",
            query.name
        );
        assert!(sql.contains("FINAL"), "{} reads without FINAL", query.name);
        assert!(!sql.contains("--"), "{}: header comment left", query.name);
    }
}

#[test]
fn unknown_query_lists_the_pack() {
    let error = PackQuery::find("nope").expect_err("unknown");
    let text = error.to_string();
    assert!(text.contains("\"nope\""), "{text}");
    for query in PACK {
        assert!(text.contains(query.name), "{text}");
    }
}

#[test]
fn a_missing_param_is_named_and_defaults_fill_in() {
    let query = PackQuery::find("customer_timeline").expect("exists");
    let error = query
        .render(&params(&[("tenant", "acme-shop")]))
        .expect_err("customer missing");
    assert!(
        error
            .to_string()
            .contains("needs parameter customer (String)"),
        "{error}"
    );
    let sql = query
        .render(&params(&[
            ("tenant", "acme-shop"),
            ("customer", "phone:+1"),
        ]))
        .expect("limit has a default");
    assert!(sql.ends_with("LIMIT 200"), "{sql}");
}

#[test]
fn unknown_params_and_bad_values_are_refused() {
    let query = PackQuery::find("channel_mix").expect("exists");
    let base = [
        ("tenant", "a"),
        ("from", "2026-03-01"),
        ("to", "2026-03-31"),
    ];
    let mut typo = params(&base);
    typo.insert("form".to_owned(), "x".to_owned());
    assert!(matches!(
        query.render(&typo),
        Err(Error::UnknownParam { .. })
    ));
    for bad in [
        "2026-3-01",
        "2026-13-01",
        "2026-03-01' OR 1",
        "yesterday",
        "2026-02-31",
        "2026-02-+1",
        "9999-12-31",
        "1969-12-31",
    ] {
        let mut values = params(&base);
        values.insert("from".to_owned(), bad.to_owned());
        let error = query.render(&values).expect_err(bad);
        assert!(
            matches!(error, Error::InvalidParam { .. }),
            "{bad}: {error}"
        );
    }
    assert!(literal("n", "UInt32", "-1").is_err());
    assert!(literal("t", "DateTime", "2026-03-01T00:00:00").is_err());
    assert!(literal("t", "DateTime", "2026-02-29 00:00:00").is_err());
    assert!(literal("t", "DateTime", "2026-03-01 24:00:00").is_err());
    assert_eq!(
        literal("t", "DateTime", "2028-02-29 23:59:59").expect("leap day"),
        "toDateTime('2028-02-29 23:59:59', 'UTC')"
    );
    let error = literal("d", "Date", "9999-12-31").expect_err("out of range");
    assert!(
        error.to_string().contains("1970-01-01 to 2105-12-31"),
        "{error}"
    );
}

#[test]
fn strings_cannot_escape_their_literal() {
    assert_eq!(quote_string("a'b"), "'a\\'b'");
    assert_eq!(quote_string("a\\'); DROP"), "'a\\\\\\'); DROP'");
    let query = PackQuery::find("customer_timeline").expect("exists");
    let sql = query
        .render(&params(&[("tenant", "x' OR '1'='1"), ("customer", "c")]))
        .expect("renders");
    assert!(sql.contains("tenant_id = 'x\\' OR \\'1\\'=\\'1'"), "{sql}");
}

#[test]
fn tsv_escapes_are_undone() {
    let rows = parse_tsv("a\tb\nx\\ty\tline\\nbreak \\\\ \\'q\\'\n");
    assert_eq!(rows[0], ["a", "b"]);
    assert_eq!(rows[1], ["x\ty", "line\nbreak \\ 'q'"]);
}
