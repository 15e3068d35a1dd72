//! The hand-written fast path for the usual request shape against the full
//! JSON parser: both must read the same command and id.

use super::field::Field;
use super::request::{canonical_request, parse_request};

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..proptest::prelude::ProptestConfig::default()
    })]

    #[test]
    fn the_fast_path_agrees_with_the_json_parser(
        command in proptest::sample::select(vec!["call", "answer", "hangup", "x", "", "é\\"]),
        id in "[ -~éü😀\\\\\"\u{0}-\u{1f}]{0,70}",
        blank_a in proptest::bool::ANY,
        blank_b in proptest::bool::ANY,
    ) {
        let blank = |on: bool| if on { " " } else { "" };
        let message = format!(
            "{{\"command\":{}{},{}\"id\":{}{}}}",
            blank(blank_a),
            serde_json::to_string(command).unwrap(),
            blank(blank_b),
            blank(blank_a),
            serde_json::to_string(&id).unwrap(),
        );
        if let Some((fast_command, fast_id)) = canonical_request(message.as_bytes()) {
            let (slow_command, slow_id, _) = parse_request(message.as_bytes()).unwrap();
            proptest::prop_assert_eq!(fast_command, slow_command);
            let Some(Field::Text(slow_id)) = slow_id else {
                return Err(proptest::test_runner::TestCaseError::fail("id not text"));
            };
            proptest::prop_assert_eq!(fast_id, slow_id);
        } else {
            // Only strings with escapes leave the fast path.
            proptest::prop_assert!(message.contains('\\'), "{}", message);
        }
    }
}
