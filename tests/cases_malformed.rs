//! The malformed-case corpus (`tests/malformed/`): every file gives a precise error (file,
//! line, column, field), none panics, and the valid file beside them still loads.

use std::path::{Path, PathBuf};

use s3conform::case::{CaseError, Suite, parse_case};

fn corpus() -> Suite {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/malformed");
    Suite::load(&dir).expect("corpus readable")
}

fn error_for(suite: &Suite, file: &str) -> CaseError {
    suite
        .errors
        .iter()
        .find(|e| e.path.ends_with(file))
        .unwrap_or_else(|| panic!("no error for {file}; errors: {:#?}", suite.errors))
        .clone()
}

/// Asserts the location, the field and a fragment of the message of one file's error.
fn expect(file: &str, line: u64, column: u64, field: Option<&str>, fragment: &str) -> CaseError {
    let e = error_for(&corpus(), file);
    assert_eq!(
        (e.line, e.column, e.field.as_deref()),
        (line, column, field),
        "{file}: {e}"
    );
    assert!(
        e.message.contains(fragment),
        "{file}: `{}` lacks `{fragment}`",
        e.message
    );
    let shown = e.to_string();
    assert!(shown.contains(file), "the message names the file: {shown}");
    if line > 0 {
        assert!(shown.contains(&format!(":{line}:{column}:")), "{shown}");
    }
    e
}

#[test]
fn every_malformed_file_is_an_error_and_the_valid_one_loads() {
    let suite = corpus();
    let ids: Vec<&str> = suite.cases.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["get::still-loads"]);
    assert_eq!(suite.errors.len(), 17, "{:#?}", suite.errors);
}

#[test]
fn unknown_field_is_located_and_a_fix_suggested() {
    let e = expect(
        "put/unknown-field.yaml",
        7,
        5,
        Some("if_mach"),
        "unknown field `if_mach`",
    );
    assert_eq!(e.hint.as_deref(), Some("did you mean `if_match`?"));
    let e = expect(
        "copy/unknown-top-level.yaml",
        3,
        1,
        Some("tagz"),
        "unknown field",
    );
    assert_eq!(e.hint.as_deref(), Some("did you mean `tags`?"));
    expect(
        "copy/unknown-profile.yaml",
        7,
        7,
        Some("minio"),
        "expected one of coreweave, aws",
    );
}

#[test]
fn unknown_operation_is_located_and_a_fix_suggested() {
    let e = expect(
        "get/unknown-op.yaml",
        4,
        9,
        Some("op"),
        "unknown variant `gett`",
    );
    assert_eq!(e.hint.as_deref(), Some("did you mean `get`?"));
    expect(
        "race/op-not-first.yaml",
        4,
        5,
        Some("op"),
        "must start with `op:`",
    );
}

#[test]
fn wrong_types_are_located() {
    expect(
        "put/wrong-type-status.yaml",
        7,
        7,
        Some("status"),
        "HTTP status",
    );
    expect("put/wrong-type-steps.yaml", 3, 8, Some("steps"), "sequence");
    expect(
        "copy/missing-field.yaml",
        5,
        5,
        Some("source"),
        "missing field `source`",
    );
    expect(
        "put/bad-yaml-syntax.yaml",
        1,
        14,
        Some("description"),
        "string",
    );
}

#[test]
fn bad_references_are_located() {
    expect(
        "get/undefined-reference.yaml",
        10,
        15,
        Some("steps[1].if_match"),
        "`${e2}` is not defined",
    );
    expect(
        "get/bad-reference-suffix.yaml",
        9,
        24,
        Some("if_modified_since"),
        "bad reference `${t1+1y}`",
    );
    expect(
        "get/offset-on-etag.yaml",
        9,
        26,
        Some("steps[1].if_unmodified_since"),
        "holds an ETag",
    );
    expect(
        "race/racer-index-outside-race.yaml",
        6,
        11,
        Some("steps[0].body"),
        "only inside `parallel`",
    );
    expect(
        "race/too-many-racers.yaml",
        5,
        5,
        Some("steps[0].count"),
        "2 to 64 racers",
    );
}

#[test]
fn empty_and_binary_files_are_errors() {
    expect("get/empty.yaml", 0, 0, None, "the file is empty");
    expect("get/binary-junk.yaml", 1, 4, None, "not UTF-8");
}

/// Every prefix of every committed case, and a few byte mutations, parse to a case or an
/// error; none panics. Cheap stand-in for a fuzzer.
#[test]
fn truncated_and_mutated_cases_never_panic() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("cases");
    let suite = Suite::load(&dir).expect("cases");
    let path = Path::new("x/y.yaml");
    for case in suite.cases.iter().step_by(7) {
        let bytes = std::fs::read(&case.path).expect("read");
        for cut in (0..bytes.len()).step_by(3) {
            let _ = parse_case(path, "x", &bytes[..cut]);
        }
        for (i, b) in [b'\t', b'{', b'"', b'\xff', b'-', b'$']
            .into_iter()
            .enumerate()
        {
            let mut m = bytes.clone();
            let at = (bytes.len() / 7) * (i + 1) % bytes.len().max(1);
            m.insert(at, b);
            let _ = parse_case(path, "x", &m);
        }
    }
}

/// Parses `text` as `put/x.yaml` and returns its error.
fn refused(text: &str) -> CaseError {
    parse_case(Path::new("cases/put/x.yaml"), "put", text.as_bytes())
        .expect_err("the loader should refuse this case")
}

const HEAD: &str = "description: d\nsource: s\nsteps:\n";

/// The write-safety policy: a write whose status is only observed, with nothing after it that
/// asserts the key's state, is a load error naming the file, the line and the step.
#[test]
fn a_write_that_only_observes_without_a_later_assertion_is_refused() {
    let e = refused(&format!(
        "{HEAD}  - op: put\n    key: k\n    body: v1\n  - op: put\n    key: k\n    body: v2\n    if_match: \"*\"\n    expect:\n      observe: [status]\n"
    ));
    assert_eq!((e.line, e.column), (7, 3), "{e}");
    assert_eq!(e.field.as_deref(), Some("steps[1]"));
    let shown = e.to_string();
    assert!(
        shown.starts_with("cases/put/x.yaml:7:3: field `steps[1]`: write safety"),
        "{shown}"
    );
    assert!(
        shown.contains("`coreweave`") && shown.contains("`k`"),
        "{shown}"
    );
    // A refused rename must also leave its source: both keys need a read.
    let e = refused(&format!(
        "{HEAD}  - op: put\n    key: src\n    body: a\n  - op: rename\n    source: src\n    key: dst\n    if_match: '\"0123\"'\n    expect:\n      status: 412\n  - op: head\n    key: dst\n    expect:\n      status: 404\n"
    ));
    assert!(e.message.contains("`src`"), "{e}");
}

/// `accepted:` names an earlier write of the key it reads.
#[test]
fn accepted_must_name_an_earlier_write_of_the_key() {
    let write = "  - op: put\n    key: k\n    body: v1\n";
    let read = |step: &str, key: &str| {
        format!(
            "{HEAD}{write}  - op: get\n    key: {key}\n    expect:\n      status: 200\n    accepted:\n      step: {step}\n      expect:\n        status: 200\n"
        )
    };
    assert!(refused(&read("1", "k")).message.contains("earlier step"));
    assert!(
        refused(&read("[0, 5]", "k"))
            .message
            .contains("earlier step")
    );
    assert!(
        refused(&read("0", "j"))
            .message
            .contains("does not write `j`")
    );
    let e = refused(&format!(
        "{HEAD}{write}  - op: head\n    key: k\n  - op: get\n    key: k\n    expect:\n      status: 200\n    accepted:\n      step: 1\n      expect:\n        status: 200\n"
    ));
    assert!(e.message.contains("not a write"), "{e}");
    assert_eq!(e.field.as_deref(), Some("steps[2].accepted.step"));
    parse_case(
        Path::new("cases/get/ok.yaml"),
        "get",
        read("0", "k").as_bytes(),
    )
    .expect("valid");
}

/// A race has one form, and "at least one loser 409" is gone: it asserted an interleaving.
#[test]
fn race_shapes_are_checked_and_some_loser_is_refused() {
    let race = |body: &str| format!("{HEAD}  - op: parallel\n{body}");
    let racer = "    step:\n      op: put\n      key: k\n      if_none_match: \"*\"\n";
    let judged = "    expect:\n      winners: 1\n      final_is_winner: true\n";
    assert!(
        refused(&race(&format!("{racer}{judged}")))
            .message
            .contains("needs `count`")
    );
    assert!(
        refused(&race(&format!(
            "    count: 2\n{racer}    steps: []\n{judged}"
        )))
        .message
        .contains("not both")
    );
    assert!(
        refused(&race(&format!("    count: 1\n{racer}{judged}")))
            .message
            .contains("2 to 64 racers")
    );
    let e = refused(&race(&format!(
        "    count: 2\n{racer}    expect:\n      winners: 1\n      some_loser: 409\n"
    )));
    assert_eq!(e.field.as_deref(), Some("some_loser"), "{e}");
    let reads = "    steps:\n      - op: get\n        key: k\n      - op: get\n        key: k\n";
    assert!(
        refused(&race(&format!("{reads}{judged}")))
            .message
            .contains("racers may put")
    );
}

/// `${unique}` is built in: it needs no save, and no step may save under its name.
#[test]
fn unique_is_reserved() {
    let e = refused(&format!(
        "{HEAD}  - op: put\n    key: k\n    body: v1\n    save: {{ etag: unique }}\n"
    ));
    assert!(e.message.contains("reserved"), "{e}");
    parse_case(
        Path::new("cases/rename/ok.yaml"),
        "rename",
        format!("{HEAD}  - op: put\n    key: s\n    body: v\n  - op: rename\n    source: s\n    key: d\n    client_token: \"t-${{unique}}\"\n    expect:\n      status: 200\n").as_bytes(),
    )
    .expect("valid");
}

/// A multi-object delete names distinct keys, and its expected per-key results name only them;
/// `deleted` and `errors` belong to `delete_objects` alone. Each refusal is located.
#[test]
fn multi_object_delete_shapes_are_checked() {
    let put = "  - op: put\n    key: a\n    body: v\n";
    let e = refused(&format!(
        "{HEAD}{put}  - op: delete_objects\n    objects:\n      - key: a\n      - key: a\n"
    ));
    assert_eq!(e.field.as_deref(), Some("steps[1].objects[1].key"), "{e}");
    assert!(e.message.contains("named twice"), "{e}");
    let e = refused(&format!(
        "{HEAD}{put}  - op: delete_objects\n    objects:\n      - key: a\n    expect:\n      status: 200\n      deleted: [b]\n"
    ));
    assert_eq!(e.field.as_deref(), Some("steps[1].expect.deleted"), "{e}");
    assert!(e.message.contains("`b` is not one of the objects"), "{e}");
    assert!(e.line > 0, "located: {e}");
    let e = refused(&format!(
        "{HEAD}{put}  - op: delete_objects\n    objects:\n      - key: a\n        etag: x\n    expect:\n      status: 200\n      deleted: [a]\n      errors: {{ a: PreconditionFailed }}\n"
    ));
    assert!(e.message.contains("both deleted and in error"), "{e}");
    assert_eq!(e.field.as_deref(), Some("steps[1].expect.errors"), "{e}");
    let e = refused(&format!(
        "{HEAD}{put}  - op: get\n    key: a\n    expect:\n      deleted: [a]\n"
    ));
    assert!(e.message.contains("`delete_objects` answer only"), "{e}");
    let e = refused(&format!("{HEAD}  - op: delete_objects\n    objects: []\n"));
    assert!(e.message.contains("1 to 1000 objects"), "{e}");
    let e = refused(&format!(
        "{HEAD}  - op: delete_objects\n    objects:\n      - key: a\n        sizee: 3\n"
    ));
    assert_eq!(e.field.as_deref(), Some("sizee"), "{e}");
    assert!(e.line > 0, "located: {e}");
}
