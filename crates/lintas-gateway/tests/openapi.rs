//! The OpenAPI document in the repository is valid YAML and describes the routes the gateway
//! serves, with the error statuses the code answers.

use serde_json::Value;

fn document() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml");
    let text = std::fs::read_to_string(path).expect("openapi.yaml is readable");
    serde_norway::from_str(&text).expect("openapi.yaml is valid YAML")
}

#[test]
fn the_openapi_document_parses_and_lists_both_endpoints() {
    let document = document();
    assert_eq!(document["openapi"].as_str(), Some("3.1.0"));
    let paths = document["paths"].as_object().expect("paths");
    assert!(paths.contains_key("/v1/events"), "{:?}", paths.keys());
    assert!(
        paths.contains_key("/v1/webhooks/{tenant}/{source}"),
        "{:?}",
        paths.keys()
    );
}

#[test]
fn every_status_the_gateway_answers_is_documented() {
    let document = document();
    let events = &document["paths"]["/v1/events"]["post"]["responses"];
    for status in ["202", "400", "401", "413", "415", "429", "503"] {
        assert!(
            events.get(status).is_some(),
            "POST /v1/events lacks {status}"
        );
    }
    let webhook = &document["paths"]["/v1/webhooks/{tenant}/{source}"];
    for status in ["400", "401", "404", "413", "415", "503"] {
        assert!(
            webhook["post"]["responses"].get(status).is_some(),
            "POST webhook lacks {status}"
        );
    }
    for status in ["200", "401", "403", "404", "405"] {
        assert!(
            webhook["get"]["responses"].get(status).is_some(),
            "GET webhook lacks {status}"
        );
    }
}
