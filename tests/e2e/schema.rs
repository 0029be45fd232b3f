//! The checked-in schema.graphql is the code's schema.

#[test]
fn the_checked_in_schema_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema.graphql");
    let code = scrm_api::graphql::sdl();
    if std::env::var("UPDATE_SCHEMA").is_ok() {
        std::fs::write(&path, &code).expect("schema.graphql is writable");
    }
    let file = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        file == code,
        "schema.graphql differs from the code; run `cargo run -p scrm-api -- schema > schema.graphql`"
    );
}
