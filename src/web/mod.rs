//! The read-only HTTP side (SPEC §10.3, §10.4), the Rust twin of
//! `twisted.web`: [`http`] parses requests and encodes responses and
//! server-sent events (sans-I/O, like `HTTPChannel` without its transport),
//! [`metrics`] renders `/metrics`, [`history`] keeps the chart's samples, and
//! [`wallboard_page`] is the page served at `/`; [`site`] puts them on the
//! reactor (a `Site`-like factory of one protocol per connection).

pub mod history;
pub mod http;
pub mod metrics;
pub mod site;

use crate::messages::Lang;

/// The wallboard as written, before the language is chosen.
const WALLBOARD_HTML: &str = include_str!("wallboard.html");

/// The `<html>` tag of [`WALLBOARD_HTML`] that [`wallboard_page`] rewrites.
const HTML_TAG: &str = "<html lang=\"en\">";

/// The wallboard page in `lang`: the page carries both languages' labels and
/// picks them from its `<html lang>`, which is set here at serve time.
pub fn wallboard_page(lang: Lang) -> String {
    let code = match lang {
        Lang::Pt => "pt",
        Lang::En => "en",
    };
    WALLBOARD_HTML.replacen(HTML_TAG, &format!("<html lang=\"{code}\">"), 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_follows_the_language() {
        assert!(wallboard_page(Lang::Pt).contains("<html lang=\"pt\">"));
        assert!(wallboard_page(Lang::En).contains("<html lang=\"en\">"));
        assert_eq!(wallboard_page(Lang::Pt).matches("<html").count(), 1);
    }

    #[test]
    fn the_page_loads_nothing_from_elsewhere() {
        let page = wallboard_page(Lang::En);
        for outside in [
            "http://", "https://", "//cdn", "<link", "src=", "@import", "url(",
        ] {
            assert!(!page.contains(outside), "the page refers to {outside}");
        }
    }
}
