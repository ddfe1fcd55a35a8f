//! Page bodies for the browser (issue 7): CommonMark with tables, task lists and
//! strikethrough, `[[Page path]]` / `[[path|label]]` wiki links and `#123` ticket references,
//! rendered with pulldown-cmark under ammonia's policy, as ticket bodies are
//! (`tickets/render.rs`). Links and references are made on the parser's text events, so code
//! spans and blocks are left as written. Raw HTML goes through ammonia, which keeps only safe
//! tags, attributes, URL schemes and the classes this module emits; everything else is built
//! here from escaped text and URLs checked by the same rules, which the tests hold to by
//! cleaning the output again and finding nothing to remove (ammonia over a whole 100 KB page
//! would take several times the 5 ms the page may cost).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet, VecDeque};
use std::ops::Range;
use std::sync::LazyLock;

use pulldown_cmark::{
    Alignment, CodeBlockKind, CowStr, Event, LinkType, Options, Parser, Tag, TagEnd, html,
};

use super::path::{normalize, slug};

/// Where the links of a rendered page point, and which wiki pages exist.
#[derive(Debug, Clone, Copy)]
pub struct Links<'a> {
    /// Normalised paths of the pages that exist (for this reader); links to others are shown
    /// as missing and open the editor.
    pub existing: &'a HashSet<String>,
    /// `/wiki/` for staff, `/portal/kb/` for customers.
    pub page_base: &'a str,
    /// `/tickets/` for staff, `/portal/tickets/` for customers.
    pub ticket_base: &'a str,
}

/// The normalised targets of every `[[…]]` link in `body` outside code, each once, in order
/// of first use. Targets that do not normalise (`[[!!!]]`) are left out.
pub fn wiki_links(body: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for event in Parser::new_ext(body, options()) {
        if let Event::Start(Tag::Link {
            link_type: LinkType::WikiLink { .. },
            dest_url,
            ..
        })
        | Event::Start(Tag::Image {
            link_type: LinkType::WikiLink { .. },
            dest_url,
            ..
        }) = event
            && let Some((path, _)) = wiki_target(&dest_url)
            && seen.insert(path.clone())
        {
            out.push(path);
        }
    }
    out
}

/// The ticket ids of the `#123` references in `body`, each once, in order: outside code and
/// links, not inside a word (`abc#12`), a URL (`http://x/#12`) or an entity (`&#123;`).
pub fn ticket_refs(body: &str) -> Vec<i64> {
    let existing = HashSet::new();
    let links = Links {
        existing: &existing,
        page_base: "",
        ticket_base: "",
    };
    let mut refs = Vec::new();
    transform(body, &links, &mut refs, |events, _| events.clear());
    let mut seen = HashSet::new();
    refs.retain(|id| seen.insert(*id));
    refs
}

/// Safe HTML for a page body. See the module doc; wiki links to missing pages carry
/// `class="wiki-missing"` and point at the editor (`?edit=1`).
///
/// Blocks without raw HTML are written straight from the parser's events: every text,
/// attribute and URL in them is escaped or checked here, so the sanitiser would find nothing
/// to remove and only cost time (most of it on a long page). Blocks with raw HTML go through
/// the sanitiser, together with the blocks up to where their tags close.
pub fn render(body: &str, links: &Links) -> String {
    let mut out = String::with_capacity(body.len() * 5 / 2);
    // A part with raw HTML, written but not yet sanitised, and how many tags it leaves open.
    let mut part = String::new();
    let mut open = 0;
    transform(body, links, &mut Vec::new(), |events, block| {
        if part.is_empty() && !block.raw_html {
            html::push_html(&mut out, events.drain(..));
            return;
        }
        html::push_html(&mut part, events.drain(..));
        open += block.open_tags;
        if open <= 0 {
            out.push_str(&SANITIZER.clean(&part).to_string());
            (part, open) = (String::new(), 0);
        }
    });
    if !part.is_empty() {
        out.push_str(&SANITIZER.clean(&part).to_string());
    }
    out
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_WIKILINKS
}

/// URL schemes a link or image may use; relative URLs are allowed too (but not `//host`).
const SCHEMES: [&str; 3] = ["http", "https", "mailto"];

/// Built once: ammonia's safe defaults (no script, style, forms, frames, objects, SVG or
/// MathML; no event handlers or style attributes), plus what the renderer emits.
static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    b.link_rel(Some("noopener noreferrer"))
        .url_schemes(SCHEMES.into_iter().collect())
        .url_relative(ammonia::UrlRelative::Custom(Box::new(relative_url)))
        .add_tags(["input"])
        .add_tag_attributes("code", ["class"])
        .add_tag_attributes("a", ["class"])
        .add_tag_attributes("li", ["class"])
        .add_tag_attributes("input", ["checked"])
        // Whatever an <input> said, it is a disabled checkbox (task lists).
        .set_tag_attribute_value("input", "type", "checkbox")
        .set_tag_attribute_value("input", "disabled", "")
        .attribute_filter(filter_attribute);
    for h in ["h1", "h2", "h3", "h4", "h5", "h6"] {
        b.add_tag_attributes(h, ["id"]);
    }
    b
});

/// A relative URL is kept unless the browser would read it as another host: `//evil`, and
/// the backslash forms browsers treat the same (`/\evil`, `\\evil`).
fn relative_url(url: &str) -> Option<Cow<'_, str>> {
    let mut lead = url
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .skip_while(|c| *c <= ' ');
    let first = lead.next();
    let second = lead.next();
    match (first, second) {
        (Some('/' | '\\'), Some('/' | '\\')) => None,
        _ => Some(Cow::Borrowed(url)),
    }
}

/// Classes only the ones this module emits; ids only heading slugs.
fn filter_attribute<'u>(element: &str, attribute: &str, value: &'u str) -> Option<Cow<'u, str>> {
    match attribute {
        "class" => {
            let kept: Vec<&str> = value
                .split_ascii_whitespace()
                .filter(|c| class_allowed(element, c))
                .collect();
            match kept.as_slice() {
                [] => None,
                [one] if *one == value => Some(Cow::Borrowed(value)),
                _ => Some(Cow::Owned(kept.join(" "))),
            }
        }
        "id" => {
            let ok = !value.is_empty()
                && value.chars().all(|c| c == '-' || c.is_alphanumeric())
                && value.to_lowercase() == value;
            ok.then_some(Cow::Borrowed(value))
        }
        _ => Some(Cow::Borrowed(value)),
    }
}

fn class_allowed(element: &str, class: &str) -> bool {
    match element {
        "code" => class
            .strip_prefix("language-")
            .is_some_and(|l| !l.is_empty() && l.chars().all(lang_char)),
        "a" => matches!(class, "wiki-missing" | "ticket-ref"),
        "li" => class == "task-list-item",
        _ => false,
    }
}

fn lang_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-')
}

/// A wiki link's target: the normalised path, and a `#fragment` slug if one was given
/// (`[[Runbooks/BGP#Checks]]`).
fn wiki_target(dest: &str) -> Option<(String, Option<String>)> {
    let (path, fragment) = match dest.split_once('#') {
        Some((p, f)) => (p, Some(slug(f)).filter(|f| !f.is_empty())),
        None => (dest, None),
    };
    normalize(path).ok().map(|p| (p, fragment))
}

/// What a top-level block of the output holds: raw HTML or not, and how many more tags that
/// HTML opens than it closes.
#[derive(Default)]
struct Block {
    raw_html: bool,
    open_tags: i32,
}

/// Text gathered from consecutive text events (the parser splits text at `[`, entities…),
/// borrowed from the body while it is one piece.
#[derive(Default)]
struct Pending<'a> {
    one: Option<CowStr<'a>>,
    many: String,
}

impl<'a> Pending<'a> {
    fn push(&mut self, t: CowStr<'a>) {
        if self.one.is_none() && self.many.is_empty() {
            self.one = Some(t);
            return;
        }
        if let Some(first) = self.one.take() {
            self.many.push_str(&first);
        }
        self.many.push_str(&t);
    }

    fn take(&mut self) -> Option<CowStr<'a>> {
        match self.one.take() {
            Some(t) => Some(t),
            None if self.many.is_empty() => None,
            None => Some(std::mem::take(&mut self.many).into()),
        }
    }
}

/// The parser's events, with as many queued as a look-ahead needed.
struct Ahead<'a> {
    parser: pulldown_cmark::OffsetIter<'a, pulldown_cmark::DefaultBrokenLinkCallback>,
    queue: VecDeque<(Event<'a>, Range<usize>)>,
}

impl<'a> Ahead<'a> {
    fn next(&mut self) -> Option<(Event<'a>, Range<usize>)> {
        self.queue.pop_front().or_else(|| self.parser.next())
    }

    fn peek(&mut self, n: usize) -> Option<&Event<'a>> {
        while self.queue.len() <= n {
            let e = self.parser.next()?;
            self.queue.push_back(e);
        }
        self.queue.get(n).map(|(e, _)| e)
    }

    /// The events up to and including the end of the link or image just started.
    fn rest_of_link(&mut self) -> Vec<Event<'a>> {
        let mut inner = Vec::new();
        let mut nest = 0usize;
        while let Some((e, _)) = self.next() {
            match e {
                Event::Start(_) => nest += 1,
                Event::End(_) if nest == 0 => break,
                Event::End(_) => nest -= 1,
                _ => {}
            }
            inner.push(e);
        }
        inner
    }
}

/// Runs the parser's events through [`Transform`]: wiki links, ticket references, links,
/// images, code languages, heading ids, table alignment and task-list classes; hands each
/// top-level block's events to `block` (which takes them), and the ids of the references
/// made to `refs`.
fn transform<'a>(
    body: &'a str,
    links: &Links,
    refs: &mut Vec<i64>,
    block: impl FnMut(&mut Vec<Event<'a>>, &Block),
) {
    let mut t = Transform {
        body,
        links,
        refs,
        sink: block,
        ahead: Ahead {
            parser: Parser::new_ext(body, options()).into_offset_iter(),
            queue: VecDeque::new(),
        },
        out: Vec::new(),
        block: Block::default(),
        depth: 0,
        text: Pending::default(),
        code_block: false,
        closes: Vec::new(),
        wiki_tags: HashMap::new(),
        heading_ids: HeadingIds::default(),
        aligns: Vec::new(),
        in_head: false,
        cell: 0,
    };
    while let Some((event, range)) = t.ahead.next() {
        t.event(event, range);
    }
    t.end_block();
}

/// The state of [`transform`].
struct Transform<'a, 'l, F> {
    body: &'a str,
    links: &'l Links<'l>,
    refs: &'l mut Vec<i64>,
    sink: F,
    ahead: Ahead<'a>,
    /// The events of the current top-level block.
    out: Vec<Event<'a>>,
    block: Block,
    depth: usize,
    text: Pending<'a>,
    code_block: bool,
    /// The links we are inside, whether each is a wiki link: no references are made there
    /// (a link in a link is no link), and raw HTML in a wiki link's label is shown as text.
    closes: Vec<bool>,
    /// Wiki link targets as written → their opening tag (`None`: not a page path).
    wiki_tags: HashMap<String, Option<String>>,
    heading_ids: HeadingIds,
    /// Column alignments of the table we are in, whether in its head, and the next cell.
    aligns: Vec<Alignment>,
    in_head: bool,
    cell: usize,
}

impl<'a, F: FnMut(&mut Vec<Event<'a>>, &Block)> Transform<'a, '_, F> {
    fn event(&mut self, event: Event<'a>, range: Range<usize>) {
        match &event {
            Event::Start(_) => self.depth += 1,
            Event::End(_) => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
        match event {
            Event::Text(t) if !self.code_block => self.text.push(t),
            Event::InlineHtml(t) if self.closes.contains(&true) => self.text.push(t),
            event => {
                self.flush();
                self.other(event, range);
            }
        }
        if self.depth == 0 {
            self.end_block();
        }
    }

    fn other(&mut self, event: Event<'a>, range: Range<usize>) {
        match event {
            Event::Start(Tag::Link {
                link_type: LinkType::WikiLink { .. },
                dest_url,
                ..
            })
            | Event::Start(Tag::Image {
                link_type: LinkType::WikiLink { .. },
                dest_url,
                ..
            }) => {
                let tag = match self.wiki_tags.get(&*dest_url) {
                    Some(tag) => tag.clone(),
                    None => {
                        let tag =
                            wiki_target(&dest_url).map(|(p, f)| wiki_anchor(self.links, &p, f));
                        self.wiki_tags.insert(dest_url.to_string(), tag.clone());
                        tag
                    }
                };
                if let Some(tag) = tag {
                    self.out.push(Event::Html(tag.into()));
                    self.closes.push(true);
                } else {
                    // Not a page path: show what was written, as text.
                    self.text
                        .push(self.body.get(range).unwrap_or_default().into());
                    self.ahead.rest_of_link();
                    self.depth -= 1;
                }
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                ..
            }) => {
                let href = if link_type == LinkType::Email {
                    format!("mailto:{dest_url}").into()
                } else {
                    dest_url
                };
                self.out.push(Event::Html(anchor(&href, &title).into()));
                self.closes.push(false);
            }
            Event::End(TagEnd::Link | TagEnd::Image) => {
                self.closes.pop();
                self.out.push(Event::Html("</a>".into()));
            }
            Event::Start(Tag::Image {
                dest_url, title, ..
            }) => {
                let inner = self.ahead.rest_of_link();
                self.out
                    .push(Event::Html(image(&dest_url, &title, &inner).into()));
                self.depth -= 1;
            }
            Event::Start(Tag::CodeBlock(kind)) => {
                self.code_block = true;
                let kind = match kind {
                    CodeBlockKind::Fenced(info) => CodeBlockKind::Fenced(code_language(&info)),
                    CodeBlockKind::Indented => CodeBlockKind::Indented,
                };
                self.out.push(Event::Start(Tag::CodeBlock(kind)));
            }
            Event::End(TagEnd::CodeBlock) => {
                self.code_block = false;
                self.out.push(Event::End(TagEnd::CodeBlock));
            }
            Event::Start(Tag::Heading {
                level,
                id: None,
                classes,
                attrs,
            }) => {
                let id = self.heading_ids.next(&mut self.ahead).map(CowStr::from);
                self.out.push(Event::Start(Tag::Heading {
                    level,
                    id,
                    classes,
                    attrs,
                }));
            }
            Event::Start(Tag::Item) if self.is_task() => {
                let li = "\n<li class=\"task-list-item\">";
                self.out.push(Event::Html(li.into()));
            }
            Event::Html(h) | Event::InlineHtml(h) => {
                self.block.raw_html = true;
                self.block.open_tags += tag_balance(&h);
                self.out.push(Event::Html(h));
            }
            other => self.table_or_other(other),
        }
    }

    /// Whether the list item just started begins with a task-list marker.
    fn is_task(&mut self) -> bool {
        match self.ahead.peek(0) {
            Some(Event::TaskListMarker(_)) => true,
            Some(Event::Start(Tag::Paragraph)) => {
                matches!(self.ahead.peek(1), Some(Event::TaskListMarker(_)))
            }
            _ => false,
        }
    }

    /// Table events, alignment written as the `align` attribute: the parser writes `style`,
    /// which the sanitiser (and the CSP) would drop. Any other event as it is.
    fn table_or_other(&mut self, event: Event<'a>) {
        let event = match event {
            Event::Start(Tag::Table(aligns)) => {
                self.aligns = aligns;
                Event::Start(Tag::Table(Vec::new()))
            }
            Event::Start(Tag::TableHead) => {
                (self.in_head, self.cell) = (true, 0);
                event
            }
            Event::End(TagEnd::TableHead) => {
                self.in_head = false;
                event
            }
            Event::Start(Tag::TableRow) => {
                self.cell = 0;
                event
            }
            Event::Start(Tag::TableCell) => {
                let align = match self.aligns.get(self.cell) {
                    Some(Alignment::Left) => "left",
                    Some(Alignment::Center) => "center",
                    Some(Alignment::Right) => "right",
                    Some(Alignment::None) | None => "",
                };
                self.cell += 1;
                if align.is_empty() {
                    event
                } else {
                    let tag = if self.in_head { "th" } else { "td" };
                    Event::Html(format!("<{tag} align=\"{align}\">").into())
                }
            }
            other => other,
        };
        self.out.push(event);
    }

    fn end_block(&mut self) {
        self.flush();
        if !self.out.is_empty() {
            let block = std::mem::take(&mut self.block);
            (self.sink)(&mut self.out, &block);
            self.out.clear();
        }
    }

    /// Emits the text gathered so far, its `#123` references made links outside links.
    fn flush(&mut self) {
        let Some(t) = self.text.take() else {
            return;
        };
        let found = if self.closes.is_empty() && t.as_bytes().contains(&b'#') {
            find_refs(&t)
        } else {
            Vec::new()
        };
        if found.is_empty() {
            self.out.push(Event::Text(t));
            return;
        }
        let part = |r: Range<usize>| -> CowStr<'a> {
            match &t {
                CowStr::Borrowed(s) => {
                    let s: &'a str = s;
                    CowStr::Borrowed(&s[r])
                }
                other => other[r].to_owned().into(),
            }
        };
        let mut last = 0;
        let base = escape(self.links.ticket_base);
        for (range, id) in found {
            if range.start > last {
                self.out.push(Event::Text(part(last..range.start)));
            }
            let digits = &t[range.start + 1..range.end];
            let mut a = String::with_capacity(64 + base.len());
            for piece in [
                "<a href=\"",
                &base,
                digits,
                "\" class=\"ticket-ref\" ",
                REL,
                ">#",
            ] {
                a.push_str(piece);
            }
            a.push_str(digits);
            a.push_str("</a>");
            self.out.push(Event::Html(a.into()));
            self.refs.push(id);
            last = range.end;
        }
        if last < t.len() {
            self.out.push(Event::Text(part(last..t.len())));
        }
    }
}

/// `#123` in plain text: `#` not after a letter, digit, `_`, `&`, `/` or `#` and not in a
/// word that is a URL; digits up to something that is not a letter, digit or `_`.
fn find_refs(text: &str) -> Vec<(Range<usize>, i64)> {
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    let mut from = 0;
    // Start of the whitespace-separated word the `#` is in, found incrementally so a long
    // text without spaces costs linear time.
    let mut word_start = 0;
    let mut scanned = 0;
    while let Some(off) = bytes[from..].iter().position(|b| *b == b'#') {
        let hash = from + off;
        from = hash + 1;
        let before = text[..hash].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '&' | '/' | '#')) {
            continue;
        }
        let digits = bytes[hash + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 || digits > 18 {
            continue;
        }
        let end = hash + 1 + digits;
        if text[end..]
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
        {
            continue;
        }
        if let Some((w, c)) = text[scanned..hash]
            .char_indices()
            .rev()
            .find(|(_, c)| c.is_whitespace())
        {
            word_start = scanned + w + c.len_utf8();
        }
        scanned = hash;
        let word = &text[word_start..hash];
        if word.contains("://") || word.starts_with("www.") {
            continue;
        }
        if let Ok(id) = text[hash + 1..end].parse::<i64>()
            && id > 0
        {
            found.push((hash..end, id));
        }
        from = end;
    }
    found
}

/// The `rel` of every link, as the sanitiser sets it.
const REL: &str = "rel=\"noopener noreferrer\"";

/// The opening `<a>` of a wiki link (attribute values escaped; the path is canonical).
fn wiki_anchor(links: &Links, path: &str, fragment: Option<String>) -> String {
    let base = escape(links.page_base);
    let exists = links.existing.contains(path);
    let path = escape(path);
    match (exists, fragment) {
        (true, Some(f)) => format!("<a href=\"{base}{path}#{}\" {REL}>", escape(&f)),
        (true, None) => format!("<a href=\"{base}{path}\" {REL}>"),
        (false, _) => format!("<a href=\"{base}{path}?edit=1\" class=\"wiki-missing\" {REL}>"),
    }
}

/// The opening `<a>` of a Markdown link; without `href` when the URL is not allowed.
fn anchor(href: &str, title: &str) -> String {
    let mut a = String::with_capacity(href.len() + title.len() + 48);
    a.push_str("<a");
    push_attr(&mut a, "href", href, url_allowed(href));
    push_attr(&mut a, "title", title, !title.is_empty());
    a.push(' ');
    a.push_str(REL);
    a.push('>');
    a
}

/// ` name="value"` (escaped), when `when`.
fn push_attr(out: &mut String, name: &str, value: &str, when: bool) {
    if when {
        out.push(' ');
        out.push_str(name);
        out.push_str("=\"");
        out.push_str(&escape(value));
        out.push('"');
    }
}

/// An `<img>` with its alt text from the image's inner events; without `src` when the URL
/// is not allowed.
fn image(src: &str, title: &str, inner: &[Event<'_>]) -> String {
    let mut alt = String::new();
    for e in inner {
        match e {
            Event::Text(t) | Event::Code(t) | Event::InlineHtml(t) => alt.push_str(t),
            Event::SoftBreak | Event::HardBreak => alt.push(' '),
            _ => {}
        }
    }
    let mut img = String::from("<img");
    push_attr(&mut img, "src", src, url_allowed(src));
    push_attr(&mut img, "alt", &alt, true);
    push_attr(&mut img, "title", title, !title.is_empty());
    img.push('>');
    img
}

/// A URL the sanitiser would keep: one of [`SCHEMES`] (read as browsers read URLs, so
/// `JaVaScRiPt:` and `java&#9;script:` are what they are), or relative but not to another
/// host.
fn url_allowed(u: &str) -> bool {
    match url::Url::parse(u) {
        Ok(parsed) => SCHEMES.contains(&parsed.scheme()),
        Err(url::ParseError::RelativeUrlWithoutBase) => relative_url(u).is_some(),
        Err(_) => false,
    }
}

/// How many more elements raw HTML opens than it closes (void and self-closed elements,
/// comments and declarations count nothing). Only decides how far a sanitised part reaches,
/// so that `<details>` … Markdown … `</details>` stays one element; never safety.
fn tag_balance(h: &str) -> i32 {
    const VOID: [&str; 14] = [
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr",
    ];
    let mut n = 0;
    let mut rest = h;
    while let Some(lt) = rest.find('<') {
        rest = &rest[lt + 1..];
        let closing = rest.starts_with('/');
        let name_from = usize::from(closing);
        let name: String = rest[name_from..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue;
        }
        let tag_end = rest.find('>').unwrap_or(rest.len());
        if closing {
            n -= 1;
        } else if !VOID.contains(&name.as_str()) && !rest[..tag_end].ends_with('/') {
            n += 1;
        }
    }
    n
}

/// A fence's language: the leading `[A-Za-z0-9_+-]` characters of its info string
/// (`rust,ignore` → `rust`, `"><script>` → none, which means no class).
fn code_language<'a>(info: &CowStr<'a>) -> CowStr<'a> {
    let lang: String = info
        .trim_start()
        .chars()
        .take_while(|c| lang_char(*c))
        .take(40)
        .collect();
    lang.into()
}

/// The ids given to headings so far, and the last number used after each slug.
#[derive(Default)]
struct HeadingIds {
    used: HashSet<String>,
    last: HashMap<String, usize>,
}

impl HeadingIds {
    /// A unique id for the heading whose events follow: the slug of its text (`-2`, `-3`…
    /// on repeats), or none when the text has no letter or digit.
    fn next(&mut self, ahead: &mut Ahead<'_>) -> Option<String> {
        let mut text = String::new();
        let mut n = 0;
        while let Some(e) = ahead.peek(n) {
            match e {
                Event::End(TagEnd::Heading(_)) => break,
                Event::Text(t) | Event::Code(t) => text.push_str(t),
                _ => {}
            }
            n += 1;
        }
        let base = slug(&text);
        if base.is_empty() {
            return None;
        }
        if self.used.insert(base.clone()) {
            return Some(base);
        }
        // Counting on from the last number for this slug keeps many equal headings linear.
        let n = self.last.entry(base.clone()).or_insert(1);
        loop {
            *n += 1;
            let id = format!("{base}-{n}");
            if self.used.insert(id.clone()) {
                return Some(id);
            }
        }
    }
}

/// HTML-escapes text or an attribute value.
fn escape(s: &str) -> Cow<'_, str> {
    if !s.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
