//! What every HTML page s3conform writes shares: the escaper, the base stylesheet and the page
//! shell (the comparison matrix, the checker's witness page). Pages are self-contained (inline
//! CSS and JS, nothing fetched), so they open offline from a CI artifact or an email.

/// The rules every page starts from; a page appends its own after them.
pub const BASE_STYLE: &str = r#"body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em;color:#1b1f24;background:#fff}
h1{font-size:1.5em}h2{margin-top:1.6em;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #d0d7de;padding:.25em .6em;text-align:left;vertical-align:top}
thead th{background:#f6f8fa;position:sticky;top:0}
"#;

/// Everything up to and including `<body>`: the title (escaped) and [`BASE_STYLE`] followed by
/// the page's own `style`.
pub fn head(title: &str, style: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>\n{BASE_STYLE}{style}</style>\n</head>\n<body>\n",
        escape(title)
    )
}

/// What closes a page opened with [`head`].
pub const FOOT: &str = "</body>\n</html>\n";

/// The table of a failed case's expectations that did not hold: the same on the comparison page
/// and on a certificate, so a reader who knows one reads the other.
pub fn mismatch_table(out: &mut String, mismatches: &[crate::report::Mismatch]) {
    use std::fmt::Write as _;
    out.push_str(
        "<table class=\"mismatches\"><thead><tr><th>step</th><th>what</th>\
         <th>expected</th><th>the endpoint answered</th></tr></thead><tbody>\n",
    );
    for m in mismatches {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
            m.step,
            escape(&m.field),
            escape(&m.expected),
            escape(&m.observed)
        );
    }
    out.push_str("</tbody></table>\n");
}

/// Escapes text for HTML element content and double- or single-quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_content_and_both_attribute_quotes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("plain ünïcode"), "plain ünïcode");
    }

    #[test]
    fn a_page_is_the_shell_the_base_style_and_its_own_style() {
        let page = format!("{}<p>x</p>{FOOT}", head("a <b> title", "p{color:red}\n"));
        assert!(page.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
        assert!(page.contains("<title>a &lt;b&gt; title</title>"));
        assert!(page.contains(&format!("<style>\n{BASE_STYLE}p{{color:red}}\n</style>")));
        assert!(page.ends_with("<p>x</p></body>\n</html>\n"));
    }

    #[test]
    fn the_comparison_and_the_witness_page_share_the_shell_and_the_base_style() {
        let history = crate::history::History::default();
        let report = crate::check::check_history(&history, &crate::check::CheckOptions::default());
        let witness = crate::check::render::html(&history, &report);
        let comparison =
            crate::report::compare::html::render(&crate::report::compare::build(Vec::new()));
        for page in [&witness, &comparison] {
            assert!(
                page.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"),
                "{page}"
            );
            assert!(page.contains(BASE_STYLE), "{page}");
            assert!(page.ends_with(FOOT), "{page}");
        }
    }
}
