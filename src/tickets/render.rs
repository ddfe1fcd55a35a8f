//! Message bodies for the browser: Markdown rendered and then sanitised (pulldown-cmark +
//! ammonia), so a body can never carry script, styles or event handlers into the page; plain
//! text is shown as text by the template's escaping.

use pulldown_cmark::{Options, Parser, html};

/// Safe HTML for a Markdown body. Links get `rel="noopener noreferrer nofollow"`; images only
/// from http(s) or data URLs are kept (the CSP still limits what loads).
pub fn markdown(source: &str) -> String {
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    opts.insert(Options::ENABLE_TASKLISTS);
    let mut unsafe_html = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(source, opts));
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer nofollow"))
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .clean(&unsafe_html)
        .to_string()
}

/// Largest HTML message shown formatted; a bigger one is downloaded instead.
pub const MAIL_HTML_LIMIT: usize = 2 * 1024 * 1024;

/// Safe HTML for the HTML of a message, as a mail client would show it with remote content
/// blocked: no script, styles, forms, frames or event handlers (ammonia's defaults), and no
/// images, which in mail are mostly tracking pixels and remote loads.
pub fn mail_html(source: &str) -> String {
    ammonia::Builder::default()
        .rm_tags(["img"])
        .link_rel(Some("noopener noreferrer nofollow"))
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .clean(source)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::{mail_html, markdown};

    #[test]
    fn mail_html_keeps_the_text_and_drops_everything_active() {
        let html = mail_html(
            "<html><head><style>p{color:red}</style><script>alert(1)</script></head>\
             <body onload=alert(1)><p style=\"x:expression(alert(1))\">Hello <b>there</b></p>\
             <img src=\"https://tracker.example/p.gif\"><a href=\"javascript:alert(1)\">x</a>\
             <form action=/steal><input name=p></form><iframe src=//evil></iframe>\
             <svg><script>alert(2)</script></svg></body></html>",
        );
        assert!(html.contains("Hello <b>there</b>"), "{html}");
        for bad in [
            "<script",
            "alert",
            "onload",
            "style",
            "tracker",
            "javascript",
            "<form",
            "<input",
            "<iframe",
            "<svg",
            "<img",
        ] {
            assert!(!html.contains(bad), "{bad} in {html}");
        }
    }

    #[test]
    fn markdown_renders_and_script_does_not_survive() {
        let html = markdown(
            "**bold** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>",
        );
        assert!(html.contains("<strong>bold</strong>"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
    }

    #[test]
    fn links_are_marked_noopener() {
        let html = markdown("see <https://status.example.net>");
        assert!(
            html.contains("rel=\"noopener noreferrer nofollow\""),
            "{html}"
        );
    }
}
