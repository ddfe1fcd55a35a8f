//! Rendering, link and reference extraction, and the XSS corpus for `wiki::render`.

use std::collections::HashSet;

use proptest::prelude::*;

use super::{Links, SANITIZER, render, ticket_refs, wiki_links};

fn staff(existing: &[&str], body: &str) -> String {
    let existing: HashSet<String> = existing.iter().map(|s| (*s).to_owned()).collect();
    render(
        body,
        &Links {
            existing: &existing,
            page_base: "/wiki/",
            ticket_base: "/tickets/",
        },
    )
}

fn customer(existing: &[&str], body: &str) -> String {
    let existing: HashSet<String> = existing.iter().map(|s| (*s).to_owned()).collect();
    render(
        body,
        &Links {
            existing: &existing,
            page_base: "/portal/kb/",
            ticket_base: "/portal/tickets/",
        },
    )
}

/// A start tag of sanitised output: its lower-cased name and attributes (name, value).
struct TagInfo {
    raw: String,
    name: String,
    attrs: Vec<(String, String)>,
}

/// Every start tag in sanitised output. Text is escaped there, so a `<` starts a tag, and
/// attribute values are double-quoted with any `"` in them escaped.
fn tags(html: &str) -> Vec<TagInfo> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        let mut s = &rest[start + 1..];
        let name_len = s
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .unwrap_or(s.len());
        let name = s[..name_len].to_lowercase();
        s = &s[name_len..];
        let mut attrs = Vec::new();
        loop {
            s = s.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
            if s.is_empty() || s.starts_with('>') {
                break;
            }
            let n_len = s
                .find(|c: char| c.is_whitespace() || c == '=' || c == '>')
                .unwrap_or(s.len());
            let attr = s[..n_len].to_lowercase();
            s = &s[n_len..];
            let mut value = String::new();
            if let Some(v) = s.strip_prefix("=\"") {
                let end = v.find('"').unwrap_or(v.len());
                value = v[..end].to_lowercase();
                s = v.get(end + 1..).unwrap_or_default();
            } else if let Some(v) = s.strip_prefix('=') {
                // Unquoted: never produced by the serializer, so report it as it is.
                let end = v
                    .find(|c: char| c.is_whitespace() || c == '>')
                    .unwrap_or(v.len());
                value = v[..end].to_lowercase();
                s = &v[end..];
            }
            attrs.push((attr, value));
        }
        let consumed = html.len() - rest.len() + start + 1;
        let raw_end = html.len() - s.len() + usize::from(s.starts_with('>'));
        out.push(TagInfo {
            raw: html[consumed - 1..raw_end].to_lowercase(),
            name,
            attrs,
        });
        rest = s;
    }
    out
}

/// Start tags with their attributes sorted, and the text without tags: what two
/// serialisations of the same document have in common.
fn canonical(html: &str) -> (Vec<String>, String) {
    let tags = tags(html)
        .into_iter()
        .map(|t| {
            let mut attrs: Vec<String> = t.attrs.iter().map(|(n, v)| format!("{n}={v}")).collect();
            attrs.sort();
            format!("{} {}", t.name, attrs.join(" "))
        })
        .collect();
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag && !c.is_whitespace() => text.push(c),
            _ => {}
        }
    }
    (tags, text)
}

/// The sanitiser would remove nothing from `html`: cleaning it with the real policy and with
/// a permissive one (every scheme, tag and attribute anyone might try) gives the same.
fn assert_nothing_to_sanitise(input: &str, html: &str) {
    static LOOSE: std::sync::LazyLock<ammonia::Builder<'static>> = std::sync::LazyLock::new(|| {
        let mut b = ammonia::Builder::default();
        b.link_rel(None)
            .url_relative(ammonia::UrlRelative::PassThrough)
            .add_url_schemes(["javascript", "vbscript", "data", "file"])
            .clean_content_tags(HashSet::new())
            .add_tags([
                "input", "script", "style", "iframe", "svg", "math", "form", "object", "embed",
                "base", "meta", "link", "button", "textarea", "select",
            ])
            .add_generic_attributes([
                "class",
                "id",
                "rel",
                "style",
                "type",
                "checked",
                "disabled",
                "href",
                "src",
                "alt",
                "align",
                "start",
                "name",
                "value",
                "srcdoc",
                "action",
                "formaction",
                "background",
            ])
            .add_generic_attribute_prefixes(["on", "data-", "xlink"]);
        b
    });
    let strict = SANITIZER.clean(html).to_string();
    let loose = LOOSE.clean(html).to_string();
    assert_eq!(
        canonical(&strict),
        canonical(&loose),
        "the sanitiser changes the output of {input:?}:\n{html}\n{strict}"
    );
}

impl TagInfo {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The values of `name` attributes in the tags of `html`.
fn attr_values(html: &str, name: &str) -> Vec<String> {
    tags(html)
        .iter()
        .filter_map(|t| t.attr(name).map(str::to_owned))
        .collect()
}

/// The `<a …>` tag whose href is `href`.
fn anchor<'h>(html: &'h str, href: &str) -> &'h str {
    let needle = format!("<a href=\"{href}\"");
    let start = html
        .find(&needle)
        .unwrap_or_else(|| panic!("no link to {href} in {html}"));
    let end = html[start..]
        .find('>')
        .map_or(html.len(), |e| start + e + 1);
    &html[start..end]
}

/// Nothing in `html` can run script, load a frame or style the page.
fn assert_inert(input: &str, html: &str) {
    let lower = html.to_lowercase();
    for bad in [
        "<script",
        "<svg",
        "<math",
        "<iframe",
        "<frame",
        "<object",
        "<embed",
        "<form",
        "<base",
        "<meta",
        "<style",
        "<link",
        "<button",
        "<textarea",
        "<select",
    ] {
        assert!(!lower.contains(bad), "{bad} from {input:?}: {html}");
    }
    for tag in tags(html) {
        let raw = &tag.raw;
        assert!(
            !matches!(
                tag.name.as_str(),
                "script" | "svg" | "math" | "iframe" | "object" | "embed" | "form" | "style"
            ),
            "{raw} from {input:?}"
        );
        for (name, value) in &tag.attrs {
            // No event handler (`onerror`, `onload`, …), no styles, no frame or form targets.
            assert!(!name.starts_with("on"), "{name} in {raw} from {input:?}");
            assert!(
                !matches!(
                    name.as_str(),
                    "style" | "srcdoc" | "formaction" | "action" | "background" | "xlink:href"
                ),
                "{name} in {raw} from {input:?}"
            );
            // URLs (href, src) are checked below as a browser reads them; "javascript:" as
            // text in a relative URL or a title is only text.
            assert!(!value.contains("expression("), "{raw} from {input:?}");
        }
        if tag.name == "input" {
            assert_eq!(tag.attr("type"), Some("checkbox"), "{raw} from {input:?}");
            assert!(tag.attr("disabled").is_some(), "{raw} from {input:?}");
        }
        for c in tag.attr("class").unwrap_or_default().split_whitespace() {
            assert!(
                matches!(c, "wiki-missing" | "ticket-ref" | "task-list-item")
                    || c.starts_with("language-"),
                "class {c} from {input:?}"
            );
        }
    }
    for url in attr_values(html, "href")
        .into_iter()
        .chain(attr_values(html, "src"))
    {
        // As a browser reads it: entities decoded, then the WHATWG URL parser.
        let url = url
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&");
        match url::Url::parse(&url) {
            Ok(u) => assert!(
                matches!(u.scheme(), "http" | "https" | "mailto"),
                "url {url} from {input:?}"
            ),
            Err(url::ParseError::RelativeUrlWithoutBase) => {
                let lead: String = url
                    .chars()
                    .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
                    .skip_while(|c| *c <= ' ')
                    .take(2)
                    .collect();
                assert!(
                    !matches!(lead.as_str(), "//" | "/\\" | "\\/" | "\\\\"),
                    "url {url} from {input:?}"
                );
            }
            Err(e) => panic!("url {url} ({e}) from {input:?}"),
        }
    }
}

// ---- extraction ----

#[test]
fn wiki_links_are_normalised_deduplicated_and_in_order() {
    let body = "See [[Runbooks/BGP Session Down]], then [[Escalation|whom to call]].\n\n\
                Again: [[runbooks/bgp-session-down|the BGP runbook]] and [[Ünïcode Page]].";
    assert_eq!(
        wiki_links(body),
        vec![
            "runbooks/bgp-session-down".to_owned(),
            "escalation".to_owned(),
            "ünïcode-page".to_owned(),
        ]
    );
}

#[test]
fn wiki_links_in_code_are_not_links() {
    let body = "`[[in a span]]`\n\n```\n[[in a fence]]\n```\n\n    [[indented code]]\n\n[[real]]";
    assert_eq!(wiki_links(body), vec!["real".to_owned()]);
}

#[test]
fn wiki_links_with_invalid_targets_are_skipped() {
    assert_eq!(wiki_links("[[!!!]] [[ / ]] [[ok]]"), vec!["ok".to_owned()]);
    assert_eq!(
        wiki_links(&format!("[[{}]]", "a/".repeat(11))),
        Vec::<String>::new()
    );
}

#[test]
fn a_wiki_link_fragment_is_not_part_of_the_path() {
    assert_eq!(
        wiki_links("[[Runbooks/BGP#Checks]] [[runbooks/bgp|x]]"),
        vec!["runbooks/bgp".to_owned()]
    );
}

#[test]
fn ticket_refs_are_found_in_text_once_each() {
    assert_eq!(
        ticket_refs("Seen in #12 and #13; see #12 again (#14), #15.\n\n- item #16"),
        vec![12, 13, 14, 15, 16]
    );
    assert_eq!(ticket_refs("#7 at the start"), vec![7]);
    assert_eq!(ticket_refs("# Heading about #8\n"), vec![8]);
}

#[test]
fn ticket_refs_in_code_are_not_refs() {
    let body = "`#1` inline\n\n```\n#2 in a fence\n```\n\n    #3 indented\n\n#4";
    assert_eq!(ticket_refs(body), vec![4]);
}

#[test]
fn hashes_in_words_urls_and_entities_are_not_refs() {
    for body in [
        "abc#12",
        "see http://x/#12",
        "https://example.net/page#12",
        "www.example.net/#12",
        "&#123;",
        "x&#35;12",
        "&amp;#22",
        "#12abc",
        "#0",
        "C#12",
        "##12",
        "a_#12",
        "#99999999999999999999",
    ] {
        assert_eq!(ticket_refs(body), Vec::<i64>::new(), "{body:?}");
    }
}

#[test]
fn hashes_inside_links_are_not_refs() {
    assert_eq!(
        ticket_refs("[ticket #5](https://x.example/)"),
        Vec::<i64>::new()
    );
    assert_eq!(ticket_refs("[[page|about #6]]"), Vec::<i64>::new());
}

// ---- rendering ----

#[test]
fn markdown_renders_tables_lists_and_strikethrough() {
    let html = staff(
        &[],
        "| Router | State |\n|---|:---:|\n| core1 | **up** |\n\n1. one\n2. two\n\n~~old~~ *new*",
    );
    assert!(html.contains("<table>"), "{html}");
    assert!(html.contains("<th>Router</th>"), "{html}");
    // Alignment as an attribute: style attributes are never written.
    assert!(html.contains("<th align=\"center\">State</th>"), "{html}");
    assert!(
        html.contains("<td align=\"center\"><strong>up</strong></td>"),
        "{html}"
    );
    assert!(!html.contains("style"), "{html}");
    assert!(html.contains("<td>core1</td>"), "{html}");
    assert!(html.contains("<strong>up</strong>"), "{html}");
    assert!(html.contains("<ol>\n<li>one</li>"), "{html}");
    assert!(html.contains("<del>old</del> <em>new</em>"), "{html}");
}

#[test]
fn task_lists_are_disabled_checkboxes_in_marked_items() {
    let html = staff(
        &[],
        "- [x] drain the link\n- [ ] call the carrier\n- plain item",
    );
    assert_eq!(
        html.matches("<li class=\"task-list-item\">").count(),
        2,
        "{html}"
    );
    let inputs: Vec<TagInfo> = tags(&html)
        .into_iter()
        .filter(|t| t.name == "input")
        .collect();
    assert_eq!(inputs.len(), 2, "{html}");
    assert!(inputs[0].attr("checked").is_some(), "{html}");
    assert!(inputs[1].attr("checked").is_none(), "{html}");
    for i in &inputs {
        assert_eq!(i.attr("type"), Some("checkbox"), "{html}");
        assert!(i.attr("disabled").is_some(), "{html}");
    }
    assert!(html.contains("<li>plain item</li>"), "{html}");
}

#[test]
fn a_raw_input_becomes_a_disabled_checkbox() {
    let html = staff(
        &[],
        "<input type=text name=password value=x onfocus=alert(1)>",
    );
    let inputs: Vec<TagInfo> = tags(&html)
        .into_iter()
        .filter(|t| t.name == "input")
        .collect();
    assert_eq!(inputs.len(), 1, "{html}");
    let mut names: Vec<&str> = inputs[0].attrs.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["disabled", "type"], "{html}");
    assert_eq!(inputs[0].attr("type"), Some("checkbox"), "{html}");
}

#[test]
fn fenced_code_has_its_language_class_and_stays_as_written() {
    let html = staff(
        &["a"],
        "```rust\nlet x = \"[[a]] #12 <b>\";\n```\n\n```c++ extra words\nx\n```\n\n```\nplain\n```",
    );
    assert!(
        html.contains(
            "<pre><code class=\"language-rust\">let x = \"[[a]] #12 &lt;b&gt;\";\n</code></pre>"
        ),
        "{html}"
    );
    assert!(html.contains("<code class=\"language-c++\">"), "{html}");
    assert!(html.contains("<pre><code>plain"), "{html}");
    assert!(
        !html.contains("ticket-ref") && !html.contains("/wiki/a"),
        "{html}"
    );
}

#[test]
fn code_spans_keep_links_and_refs_as_text() {
    let html = staff(&["a"], "`[[a]] #12`");
    assert_eq!(html, "<p><code>[[a]] #12</code></p>\n");
}

#[test]
fn existing_and_missing_pages_link_differently() {
    let html = staff(
        &["runbooks/bgp"],
        "[[Runbooks/BGP|the BGP runbook]] and [[Runbooks/Power Loss]]",
    );
    let there = anchor(&html, "/wiki/runbooks/bgp");
    assert!(!there.contains("wiki-missing"), "{html}");
    assert!(html.contains(">the BGP runbook</a>"), "{html}");
    let missing = anchor(&html, "/wiki/runbooks/power-loss?edit=1");
    assert!(missing.contains("class=\"wiki-missing\""), "{html}");
    // The label of an unpiped link is the text as written.
    assert!(html.contains(">Runbooks/Power Loss</a>"), "{html}");
}

#[test]
fn customers_get_knowledge_base_links() {
    let html = customer(&["faq/dns"], "[[FAQ/DNS]] [[FAQ/Internal]] and #42");
    anchor(&html, "/portal/kb/faq/dns");
    anchor(&html, "/portal/kb/faq/internal?edit=1");
    assert!(
        html.contains("<a href=\"/portal/tickets/42\" class=\"ticket-ref\""),
        "{html}"
    );
    assert!(html.contains(">#42</a>"), "{html}");
}

#[test]
fn ticket_refs_link_to_staff_tickets() {
    let html = staff(&[], "Caused by #123, see also abc#5 and http://x/#6.");
    let a = anchor(&html, "/tickets/123");
    assert!(a.contains("class=\"ticket-ref\""), "{html}");
    assert!(
        html.contains(">#123</a>, see also abc#5 and http://x/#6."),
        "{html}"
    );
    assert_eq!(html.matches("ticket-ref").count(), 1, "{html}");
}

#[test]
fn a_fragment_links_to_a_heading_of_an_existing_page() {
    let html = staff(&["runbooks/bgp"], "[[Runbooks/BGP#Checks]]");
    anchor(&html, "/wiki/runbooks/bgp#checks");
}

#[test]
fn an_invalid_wiki_link_is_shown_as_written() {
    let html = staff(&[], "before [[!!!|label]] after");
    assert_eq!(html, "<p>before [[!!!|label]] after</p>\n");
}

#[test]
fn headings_get_unique_slug_ids() {
    let html = staff(&[], "# Symptoms\n\n## Fix `bgpd`\n\n## Symptoms\n\n## ???");
    assert!(html.contains("<h1 id=\"symptoms\">Symptoms</h1>"), "{html}");
    assert!(html.contains("<h2 id=\"fix-bgpd\">"), "{html}");
    assert!(html.contains("<h2 id=\"symptoms-2\">"), "{html}");
    assert!(html.contains("<h2>???</h2>"), "{html}");
}

#[test]
fn raw_ids_that_are_not_slugs_are_dropped() {
    let html = staff(&[], "<h2 id=\"Foo Bar\">x</h2>\n\n<p id=\"p\">y</p>");
    assert!(html.contains("<h2>x</h2>"), "{html}");
    assert!(html.contains("<p>y</p>"), "{html}");
}

#[test]
fn safe_links_survive_with_rel_and_unknown_classes_do_not() {
    let html = staff(
        &[],
        "[web](https://noc.example.net/a?b=c) [mail](mailto:noc@example.net) \
         [rel](/tickets/5) <a href=\"/x\" class=\"btn wiki-missing\">x</a> \
         ![graph](https://grafana.example.net/p.png)",
    );
    let web = anchor(&html, "https://noc.example.net/a?b=c");
    assert!(web.contains("rel=\"noopener noreferrer\""), "{html}");
    anchor(&html, "mailto:noc@example.net");
    anchor(&html, "/tickets/5");
    assert!(html.contains("class=\"wiki-missing\""), "{html}");
    assert!(!html.contains("btn"), "{html}");
    assert!(
        html.contains("<img src=\"https://grafana.example.net/p.png\" alt=\"graph\">"),
        "{html}"
    );
}

// ---- XSS corpus ----

const XSS: &[&str] = &[
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=\"jav&#x09;ascript:alert(1)\">",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](java\\\nscript:alert(1))",
    "[x]( javascript:alert(1) )",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "<a href=\"vbscript:x\">x</a>",
    "<svg onload=alert(1)>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<p style=\"width:expression(alert(1))\">x</p>",
    "<iframe src=//evil></iframe>",
    "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
    "[[x|<img src=x onerror=alert(1)>]]",
    "[[x|<script>alert(1)</script>]]",
    "[[javascript:alert(1)]]",
    "[[javascript:alert(1)|click]]",
    "[[\"><script>alert(1)</script>]]",
    "[x](//evil.example)",
    "[x](/\\evil.example)",
    "<a href=\"\\\\evil.example\">x</a>",
    "<a href=\" //evil.example\">x</a>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
    "<a href=\"&#106;avascript:alert(1)\">x</a>",
    "[x](&#106;avascript:alert(1))",
    "<a href=\"jav&#x0A;ascript:alert(1)\">x</a>",
    "```\"><script>alert(1)</script>\nx\n```",
    "```rust onload=alert(1)\nx\n```",
    "<!-- <script>alert(1)</script> -->",
    "<!--><script>alert(1)</script>-->",
    "<!--[if IE]><script>alert(1)</script><![endif]-->",
    "<form action=x><input></form>",
    "<button formaction=javascript:alert(1)>x</button>",
    "<object data=x></object>",
    "<embed src=javascript:alert(1)>",
    "<base href=//evil>",
    "<meta http-equiv=refresh content=\"0;url=javascript:alert(1)\">",
    "<link rel=stylesheet href=//evil/x.css>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    "<details open ontoggle=alert(1)>x</details>",
    "<a href=\"https://ok.example\" onclick=\"alert(1)\" style=\"x\">x</a>",
    "<table background=\"javascript:alert(1)\"><tr><td>x</td></tr></table>",
    "<code class=\"language-x\" onmouseover=alert(1)>x</code>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<textarea><img src=x onerror=alert(1)></textarea>",
    "[x](https://ok.example \"title\\\" onmouseover=alert(1) x=\\\"\")",
    "<a href=javascript&colon;alert(1)>x</a>",
];

#[test]
fn the_xss_corpus_comes_out_inert() {
    for input in XSS {
        // Also inside a list, a table cell and a quote, where the parser's state differs.
        let nested = format!("- {input}\n\n> {input}\n\n| a |\n|:-:|\n| {input} |\n");
        for html in [
            staff(&["x"], input),
            customer(&[], input),
            staff(&[], &nested),
        ] {
            assert_inert(input, &html);
            assert_nothing_to_sanitise(input, &html);
        }
    }
}

/// Pieces of Markdown, HTML and URLs that attacks are made of.
const TOKENS: &[&str] = &[
    "[",
    "]",
    "(",
    ")",
    "[[",
    "]]",
    "|",
    "<",
    ">",
    "\"",
    "'",
    "`",
    "```",
    "\n",
    "\n\n",
    "#12",
    " ",
    "x",
    "javascript:",
    "//",
    "\\",
    "&#106;",
    "&amp;",
    "&#35;",
    "*",
    "_",
    "- ",
    "- [x] ",
    "| a | b |\n|:-|-:|\n",
    "!",
    "<b>",
    "</b>",
    "<img src=x onerror=alert(1)>",
    "<a href=\"",
    "<details>",
    "</details>",
    "http://e.x/",
    "mailto:a@b.c",
    "<!--",
    "-->",
    "www.",
    ":",
    "#",
    "> ",
    "    ",
    "~~",
    "data:",
    "\t",
    "<svg onload=alert(1)>",
    "<p style=\"x\">",
    "/",
    "=",
];

proptest! {
    #[test]
    fn any_mix_of_attack_pieces_comes_out_inert(picks in prop::collection::vec(0..TOKENS.len(), 0..60)) {
        let input: String = picks.iter().map(|&k| TOKENS[k]).collect();
        let html = staff(&["x"], &input);
        assert_inert(&input, &html);
        assert_nothing_to_sanitise(&input, &html);
    }
}

#[test]
fn markdown_without_html_needs_no_sanitising() {
    let body = "# Title\n\nText with [[Runbooks/BGP|a link]], [[missing]], #42, `code`, \
                [web](https://x.example \"t\"), <https://auto.example>, <noc@example.net>, \
                ![img](https://x.example/i.png \"title\") and ![bad](javascript:x).\n\n\
                | l | c | r |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n\n- [ ] todo\n- [x] done\n\n\
                1. one\n2. two\n\n> quote ~~old~~ *em* **strong**\n\n---\n\n```rust\nfn x() {}\n```\n";
    let html = staff(&["runbooks/bgp"], body);
    assert_nothing_to_sanitise(body, &html);
    assert!(
        html.contains("<a href=\"mailto:noc@example.net\""),
        "{html}"
    );
    assert!(html.contains("<a href=\"https://auto.example\""), "{html}");
    assert!(html.contains("<img alt=\"bad\">"), "{html}");
    assert!(html.contains("<td align=\"right\">3</td>"), "{html}");
}

#[test]
fn raw_html_around_markdown_stays_one_element() {
    let html = staff(
        &[],
        "<details>\n<summary>More</summary>\n\nHidden *text* #5\n\n</details>\n\nAfter",
    );
    assert!(
        html.contains("<details>\n<summary>More</summary>\n<p>Hidden <em>text</em>"),
        "{html}"
    );
    assert!(html.contains("</p>\n</details>"), "{html}");
    assert!(html.contains("<p>After</p>"), "{html}");
    assert!(html.contains("class=\"ticket-ref\""), "{html}");
}

#[test]
fn a_wiki_label_with_html_shows_the_html_as_text() {
    let html = staff(&["x"], "[[x|<img src=x onerror=alert(1)>]]");
    assert_eq!(
        html,
        "<p><a href=\"/wiki/x\" rel=\"noopener noreferrer\">&lt;img src=x onerror=alert(1)&gt;</a></p>\n"
    );
    let html = staff(&["x"], "[[x|<script>]]");
    assert!(html.contains(">&lt;script&gt;</a>"), "{html}");
}

#[test]
fn a_javascript_wiki_target_is_just_a_page_path() {
    let html = staff(&[], "[[javascript:alert(1)]]");
    let a = anchor(&html, "/wiki/javascript-alert-1?edit=1");
    assert!(a.contains("wiki-missing"), "{html}");
    assert!(html.contains(">javascript:alert(1)</a>"), "{html}");
}

#[test]
fn a_hostile_fence_language_gives_no_class() {
    let html = staff(&[], "```\"><script>alert(1)</script>\nx\n```");
    assert_eq!(html, "<pre><code>x\n</code></pre>\n");
    let html = staff(&[], "```rust,ignore\nx\n```");
    assert!(html.contains("<code class=\"language-rust\">"), "{html}");
}

#[test]
fn protocol_relative_links_lose_their_href() {
    for input in [
        "[x](//evil.example)",
        "<a href=\"//evil\">x</a>",
        "<a href=\"\\\\evil\">x</a>",
        "<a href=\"/\\evil\">x</a>",
        "<a href=\" \t//evil\">x</a>",
        "[x](/\\evil.example)",
        "[x](<\\\\\\\\evil.example>)",
        "[x]( \t//evil.example)",
    ] {
        let html = staff(&[], input);
        assert!(attr_values(&html, "href").is_empty(), "{input}: {html}");
        assert!(html.contains(">x</a>"), "{input}: {html}");
    }
}

#[test]
fn large_pages_render_completely() {
    let section = "## Step\n\nCheck [[Runbooks/BGP]] and #42, then run `show bgp`.\n\n\
                   | a | b |\n|---|---|\n| 1 | 2 |\n\n```sh\nping -c1 core1\n```\n\n";
    let body = section.repeat(500);
    let html = staff(&["runbooks/bgp"], &body);
    assert_eq!(html.matches("class=\"ticket-ref\"").count(), 500);
    assert_eq!(html.matches("href=\"/wiki/runbooks/bgp\"").count(), 500);
    assert!(html.contains("id=\"step-500\""));
}
