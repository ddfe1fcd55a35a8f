//! HTML-only mail as text, for the ticket and the search index: tags dropped, block elements
//! as line breaks, entities decoded, script and style content left out. The original HTML is
//! kept as an attachment; this text is never rendered as HTML.

/// Text of an HTML body for the ticket and the search index: tags dropped, block elements as
/// line breaks, entities decoded, script and style content left out.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    let mut skip_until: Option<&'static str> = None;
    while let Some(lt) = rest.find('<') {
        if skip_until.is_none() {
            out.push_str(&decode_entities(&rest[..lt]));
        }
        let after = &rest[lt + 1..];
        let Some(gt) = after.find('>') else {
            rest = "";
            break;
        };
        let tag = after[..gt].trim().to_ascii_lowercase();
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        match skip_until {
            Some(end) if tag.starts_with('/') && name == end => skip_until = None,
            Some(_) => {}
            None if !tag.starts_with('/') && (name == "script" || name == "style") => {
                skip_until = Some(if name == "script" { "script" } else { "style" });
            }
            None => {
                if matches!(
                    name.as_str(),
                    "br" | "p" | "div" | "tr" | "li" | "h1" | "h2" | "h3" | "h4" | "blockquote"
                ) {
                    out.push('\n');
                }
            }
        }
        rest = &after[gt + 1..];
    }
    if skip_until.is_none() {
        out.push_str(&decode_entities(rest));
    }
    let lines: Vec<&str> = out.lines().map(str::trim_end).collect();
    let mut text = String::new();
    let mut blank = 0;
    for l in lines {
        if l.trim().is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        text.push_str(l.trim_start_matches([' ', '\t']));
        text.push('\n');
    }
    text.trim().to_owned()
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.replace(['\r', '\n'], " ");
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let end = after.find(';').filter(|&e| e <= 10);
        let decoded = end.and_then(|e| {
            let ent = &after[..e];
            let c = match ent {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" | "#39" => Some('\''),
                "nbsp" => Some(' '),
                named if named.chars().all(|c| c.is_ascii_alphanumeric()) && !named.is_empty() => {
                    named_entity(named)
                }
                _ => ent
                    .strip_prefix("#x")
                    .or_else(|| ent.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| ent.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &after[e + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out.replace(['\r', '\n'], " ")
}

/// The named entities mail HTML uses beyond the five of XML: Latin-1 letters and typography.
fn named_entity(name: &str) -> Option<char> {
    const TABLE: &[(&str, char)] = &[
        ("eacute", 'é'),
        ("egrave", 'è'),
        ("ecirc", 'ê'),
        ("euml", 'ë'),
        ("Eacute", 'É'),
        ("aacute", 'á'),
        ("agrave", 'à'),
        ("acirc", 'â'),
        ("auml", 'ä'),
        ("aring", 'å'),
        ("Auml", 'Ä'),
        ("Aring", 'Å'),
        ("iacute", 'í'),
        ("igrave", 'ì'),
        ("iuml", 'ï'),
        ("oacute", 'ó'),
        ("ograve", 'ò'),
        ("ocirc", 'ô'),
        ("ouml", 'ö'),
        ("Ouml", 'Ö'),
        ("oslash", 'ø'),
        ("Oslash", 'Ø'),
        ("uacute", 'ú'),
        ("ugrave", 'ù'),
        ("uuml", 'ü'),
        ("Uuml", 'Ü'),
        ("szlig", 'ß'),
        ("ccedil", 'ç'),
        ("Ccedil", 'Ç'),
        ("ntilde", 'ñ'),
        ("aelig", 'æ'),
        ("AElig", 'Æ'),
        ("euro", '€'),
        ("pound", '£'),
        ("yen", '¥'),
        ("cent", '¢'),
        ("copy", '©'),
        ("reg", '®'),
        ("trade", '™'),
        ("deg", '°'),
        ("middot", '·'),
        ("bull", '•'),
        ("hellip", '…'),
        ("ndash", '–'),
        ("mdash", '—'),
        ("lsquo", '‘'),
        ("rsquo", '’'),
        ("ldquo", '“'),
        ("rdquo", '”'),
        ("laquo", '«'),
        ("raquo", '»'),
        ("times", '×'),
        ("divide", '÷'),
        ("sect", '§'),
        ("para", '¶'),
        ("shy", '\u{ad}'),
        ("zwnj", '\u{200c}'),
        ("thinsp", ' '),
        ("ensp", ' '),
        ("emsp", ' '),
    ];
    TABLE.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}
