//! HTML → blocks. Bytes are decoded by the BOM, the declared charset (`<meta charset>` or
//! `http-equiv`), or — when neither is present and the bytes are not UTF-8 — a sniffed charset
//! (`chardetng`; old Arabic sites serve windows-1256). The decoded page is run through the
//! html5ever tokenizer (the spec tokenizer: entities, raw-text elements, comments, broken markup)
//! and a light open-element stack of our own that is bounded in depth, so that 100 000 nested tags
//! cost linear time and no recursion. Each block-level element's visible text becomes one block,
//! with its tag, link density, and the class/id/role hints of its ancestors.

use std::cell::RefCell;
use std::collections::HashSet;
use std::hash::BuildHasherDefault;
use std::sync::OnceLock;

use aho_corasick::AhoCorasick;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    states::RawKind, BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer,
    TokenizerOpts,
};

use super::blocks::{Block, DomHints};
use super::lexicon::FastHasher;

/// Deepest open-element stack we track; deeper elements are counted but not inspected.
const MAX_DEPTH: usize = 512;
/// How far down the stack an end tag looks for its start tag.
const MAX_END_SEARCH: usize = 64;
/// Bytes scanned for a `<meta charset>` declaration.
const PRESCAN: usize = 4096;

/// The decoded page: its visible block text (blocks joined by `\n`), the blocks, and the
/// document `<title>`.
#[derive(Debug, Default)]
pub struct Page {
    /// Block text; block offsets point into it.
    pub text: String,
    /// Blocks in document order.
    pub blocks: Vec<Block>,
    /// The `<title>` text, whitespace collapsed.
    pub title: Option<String>,
}

/// Decode page bytes to text by BOM, declared charset, or sniffing.
pub fn decode(bytes: &[u8]) -> String {
    if let Some((enc, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        return text.into_owned();
    }
    let enc = declared_charset(&bytes[..bytes.len().min(PRESCAN)]).unwrap_or_else(|| {
        if std::str::from_utf8(bytes).is_ok() {
            encoding_rs::UTF_8
        } else {
            let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
            det.feed(&bytes[..bytes.len().min(1 << 16)], true);
            det.guess(None, chardetng::Utf8Detection::Allow)
        }
    });
    // A page that declares a legacy charset but is valid UTF-8 beyond ASCII is UTF-8 in practice.
    let enc = if enc != encoding_rs::UTF_8
        && !bytes.is_ascii()
        && std::str::from_utf8(bytes).is_ok()
        && enc.is_single_byte()
    {
        encoding_rs::UTF_8
    } else {
        enc
    };
    let (text, _) = enc.decode_without_bom_handling(bytes);
    text.into_owned()
}

/// Find `charset=NAME` in the page head (meta charset or http-equiv content type).
fn declared_charset(head: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let lower: Vec<u8> = head.iter().map(|b| b.to_ascii_lowercase()).collect();
    let mut from = 0;
    while let Some(pos) = find(&lower[from..], b"charset") {
        let mut i = from + pos + b"charset".len();
        from = i;
        while i < lower.len() && matches!(lower[i], b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
        }
        if lower.get(i) != Some(&b'=') {
            continue;
        }
        i += 1;
        while i < lower.len() && matches!(lower[i], b' ' | b'"' | b'\'') {
            i += 1;
        }
        let start = i;
        while i < lower.len()
            && (lower[i].is_ascii_alphanumeric() || matches!(lower[i], b'-' | b'_' | b':' | b'.'))
        {
            i += 1;
        }
        if let Some(enc) = encoding_rs::Encoding::for_label(&lower[start..i]) {
            // UTF-16 declarations inside an ASCII-compatible prefix are wrong by construction.
            if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
                return Some(encoding_rs::UTF_8);
            }
            return Some(enc);
        }
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Whether a text looks like HTML markup rather than extracted text.
///
/// Looks at the first 2 KiB, ASCII case-insensitively, without copying them: every sign needs a
/// `<`, so text without one is answered by one `memchr`.
pub fn looks_like_html(s: &str) -> bool {
    let head = &s[..super::floor_boundary(s, 2048)];
    if memchr::memchr(b'<', head.as_bytes()).is_none() {
        return false;
    }
    let t = head.trim_start().as_bytes();
    let head = head.as_bytes();
    let starts = |p: &[u8]| t.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
    let contains = |p: &[u8]| {
        memchr::memchr_iter(b'<', head).any(|i| {
            head.get(i..i + p.len())
                .is_some_and(|h| h.eq_ignore_ascii_case(p))
        })
    };
    starts(b"<!doctype")
        || starts(b"<html")
        || starts(b"<?xml")
        || contains(b"<html")
        || contains(b"<body")
        || contains(b"<head")
        || (starts(b"<") && (contains(b"</p>") || contains(b"</div>")))
}

/// [`looks_like_html`] as first written (lower-cased copy and substring searches), for the
/// tests.
#[cfg(test)]
fn looks_like_html_reference(s: &str) -> bool {
    let head = &s[..super::floor_boundary(s, 2048)];
    let lower = head.to_ascii_lowercase();
    let t = lower.trim_start();
    t.starts_with("<!doctype")
        || t.starts_with("<html")
        || t.starts_with("<?xml")
        || lower.contains("<html")
        || lower.contains("<body")
        || lower.contains("<head")
        || (t.starts_with('<') && (lower.contains("</p>") || lower.contains("</div>")))
}

/// Drop the bodies of `<script>` and `<style>` elements (well over half of a typical news page's
/// bytes) before tokenizing, keeping their start and end tags so the tokenizer sees the same
/// elements. The tokenizer would skip these bodies as raw text anyway; skipping them with a
/// substring search is several times faster.
fn drop_raw_bodies(html: &str) -> std::borrow::Cow<'_, str> {
    static OPEN: OnceLock<Option<AhoCorasick>> = OnceLock::new();
    let Some(open) = OPEN
        .get_or_init(|| {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(["<script", "<style"])
                .ok()
        })
        .as_ref()
    else {
        return std::borrow::Cow::Borrowed(html);
    };
    let bytes = html.as_bytes();
    let mut out = String::new();
    let mut pos = 0;
    let mut from = 0;
    while let Some(m) = open.find(&html[from..]) {
        let name_end = from + m.end();
        from = name_end;
        // `<scripts>` or `<styles-x>` are other elements.
        if !matches!(
            bytes.get(name_end),
            Some(b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'>' | b'/')
        ) {
            continue;
        }
        let Some(gt) = html[name_end..].find('>') else {
            break;
        };
        let body_start = name_end + gt + 1;
        let close: &[u8] = if m.pattern().as_usize() == 0 {
            b"</script"
        } else {
            b"</style"
        };
        let body_end =
            find_ascii_ci(&bytes[body_start..], close).map_or(bytes.len(), |i| body_start + i);
        if out.is_empty() {
            out.reserve(html.len() / 2);
        }
        out.push_str(&html[pos..body_start]);
        pos = body_end;
        from = body_end;
    }
    if pos == 0 {
        return std::borrow::Cow::Borrowed(html);
    }
    out.push_str(&html[pos..]);
    std::borrow::Cow::Owned(out)
}

/// Position of `needle` (lower-case ASCII) in `hay`, ignoring ASCII case.
fn find_ascii_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = needle[0];
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        let rest = &hay[i..];
        let j = rest.iter().position(|&b| b == first)?;
        let at = i + j;
        if at + needle.len() <= hay.len() && hay[at..at + needle.len()].eq_ignore_ascii_case(needle)
        {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

/// Parse decoded HTML into blocks.
pub fn parse(html: &str) -> Page {
    let html = drop_raw_bodies(html);
    let sink = Sink::default();
    let tok = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(&html));
    let _ = tok.feed(&input);
    tok.end();
    let sink = tok.sink;
    let mut st = sink.state.into_inner();
    st.flush();
    Page {
        text: st.text,
        blocks: st.blocks,
        title: st.title.map(|t| collapse(&t)),
    }
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[derive(Default)]
struct Sink {
    state: RefCell<State>,
}

/// One open element.
#[derive(Debug)]
struct Frame {
    name: String,
    /// Why this element marks its content as chrome.
    negative: Option<String>,
    positive: bool,
    /// `itemprop="articleBody"`.
    body: bool,
    container: u32,
}

#[derive(Default)]
struct State {
    stack: Vec<Frame>,
    /// Elements opened beyond [`MAX_DEPTH`].
    overflow: usize,
    /// Depth of elements whose content is not shown (script, style, hidden…); 0 = visible.
    skip: usize,
    /// Name of the element that started skipping, and how many of it are open inside.
    skip_tag: Option<(String, usize)>,
    in_title: bool,
    title: Option<String>,
    link_depth: usize,
    buf: String,
    buf_link_chars: usize,
    buf_space: bool,
    text: String,
    blocks: Vec<Block>,
    next_container: u32,
}

const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "keygen",
];

const SKIP: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "math", "select", "textarea", "iframe",
    "object", "canvas", "button", "noembed", "noframes", "rt", "rp",
];

const BLOCK: &[&str] = &[
    "p",
    "div",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "tr",
    "td",
    "th",
    "thead",
    "tbody",
    "tfoot",
    "caption",
    "blockquote",
    "pre",
    "section",
    "article",
    "header",
    "footer",
    "nav",
    "aside",
    "main",
    "figure",
    "figcaption",
    "form",
    "fieldset",
    "legend",
    "address",
    "center",
    "details",
    "summary",
    "hr",
    "br",
    "body",
    "html",
    "title",
    "menu",
    "dialog",
    "label",
    "option",
];

const NEG_TAGS: &[&str] = &["nav", "footer", "aside", "form", "menu", "dialog", "header"];

/// Class/id words that mark chrome. Matched against the tokens of class and id split on
/// non-letters, or as substrings for the longer ones.
const NEG_WORDS: &[&str] = &[
    "nav",
    "navbar",
    "navigation",
    "menu",
    "footer",
    "sidebar",
    "breadcrumb",
    "breadcrumbs",
    "related",
    "share",
    "sharing",
    "social",
    "comment",
    "comments",
    "cookie",
    "newsletter",
    "subscribe",
    "subscription",
    "promo",
    "advert",
    "advertisement",
    "ads",
    "ad",
    "banner",
    "widget",
    "tags",
    "tag",
    "popular",
    "trending",
    "recommended",
    "recommendation",
    "outbrain",
    "taboola",
    "byline",
    "author",
    "meta",
    "masthead",
    "toolbar",
    "pagination",
    "pager",
    "login",
    "signup",
    "modal",
    "popup",
    "disqus",
    "rating",
    "print",
    "skip",
    "hidden",
    "copyright",
    "caption",
    "credit",
    "dateline",
    "timestamp",
    "date",
    "teaser",
    "sponsor",
    "sponsored",
    "partner",
    "topics",
    "categories",
    "category",
];

const POS_WORDS: &[&str] = &[
    "article",
    "content",
    "post",
    "entry",
    "story",
    "body",
    "main",
    "text",
    "articlebody",
    "post-content",
    "entry-content",
    "article-body",
    "story-body",
    "article-content",
];

/// Tag/word sets looked up per element: hashed once instead of scanned linearly.
struct Sets {
    void: HashSet<&'static str, BuildHasherDefault<FastHasher>>,
    skip: HashSet<&'static str, BuildHasherDefault<FastHasher>>,
    block: HashSet<&'static str, BuildHasherDefault<FastHasher>>,
    neg: HashSet<&'static str, BuildHasherDefault<FastHasher>>,
}

fn sets() -> &'static Sets {
    static SETS: OnceLock<Sets> = OnceLock::new();
    SETS.get_or_init(|| Sets {
        void: VOID.iter().copied().collect(),
        skip: SKIP.iter().copied().collect(),
        block: BLOCK.iter().copied().collect(),
        neg: NEG_WORDS.iter().copied().collect(),
    })
}

fn is_void(name: &str) -> bool {
    sets().void.contains(name)
}

fn is_skip(name: &str) -> bool {
    sets().skip.contains(name)
}

fn is_block(name: &str) -> bool {
    sets().block.contains(name)
}

fn attr<'a>(tag: &'a Tag, name: &str) -> Option<&'a str> {
    tag.attrs
        .iter()
        .find(|a| &*a.name.local == name)
        .map(|a| &*a.value)
}

fn is_hidden(tag: &Tag) -> bool {
    if tag.attrs.iter().any(|a| &*a.name.local == "hidden") {
        return true;
    }
    if attr(tag, "aria-hidden").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return true;
    }
    if let Some(style) = attr(tag, "style") {
        let s: String = style
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        if s.contains("display:none") || s.contains("visibility:hidden") {
            return true;
        }
    }
    false
}

/// Chrome hint of an element from its tag, role, class and id.
fn negative_hint(name: &str, tag: &Tag) -> Option<String> {
    if NEG_TAGS.contains(&name) {
        return Some(format!("inside <{name}>"));
    }
    if let Some(role) = attr(tag, "role") {
        let r = role.to_ascii_lowercase();
        if matches!(
            r.as_str(),
            "navigation"
                | "banner"
                | "contentinfo"
                | "complementary"
                | "menu"
                | "menubar"
                | "dialog"
        ) {
            return Some(format!("role={r}"));
        }
    }
    for key in ["class", "id"] {
        let Some(v) = attr(tag, key) else { continue };
        let lower = v.to_ascii_lowercase();
        // Positive words win inside the same attribute (`article-body`, `post-content`).
        if POS_WORDS
            .iter()
            .any(|p| p.contains('-') && lower.contains(p))
        {
            continue;
        }
        for token in lower.split(|c: char| !c.is_ascii_alphanumeric()) {
            if sets().neg.contains(token) {
                return Some(format!("{key}={token}"));
            }
        }
    }
    None
}

fn positive_hint(name: &str, tag: &Tag) -> bool {
    if name == "article" || name == "main" {
        return true;
    }
    if attr(tag, "itemprop").is_some_and(|v| v.to_ascii_lowercase().contains("articlebody")) {
        return true;
    }
    for key in ["class", "id"] {
        let Some(v) = attr(tag, key) else { continue };
        let lower = v.to_ascii_lowercase();
        if POS_WORDS.iter().any(|p| p.len() > 4 && lower.contains(p)) {
            return true;
        }
    }
    false
}

impl State {
    fn push_text(&mut self, s: &str) {
        if self.skip > 0 {
            return;
        }
        if self.in_title {
            self.title.get_or_insert_with(String::new).push_str(s);
            return;
        }
        for c in s.chars() {
            if c.is_whitespace() || c == '\u{0}' {
                if !self.buf_space && !self.buf.is_empty() {
                    self.buf.push(' ');
                }
                self.buf_space = true;
                continue;
            }
            self.buf_space = false;
            self.buf.push(c);
            if self.link_depth > 0 {
                self.buf_link_chars += 1;
            }
        }
    }

    fn flush(&mut self) {
        let trimmed = self.buf.trim();
        if !trimmed.is_empty() {
            if !self.text.is_empty() {
                self.text.push('\n');
            }
            let start = self.text.len();
            self.text.push_str(trimmed);
            let chars = trimmed.chars().filter(|c| !c.is_whitespace()).count();
            let mut dom = DomHints {
                chars,
                link_chars: self.buf_link_chars.min(chars),
                path: self.stack.iter().map(|f| f.container).collect(),
                ..DomHints::default()
            };
            for f in self.stack.iter().rev() {
                if dom.tag.is_empty() && is_block(&f.name) {
                    dom.tag = f.name.clone();
                    dom.container = f.container;
                }
                if dom.heading.is_none() {
                    if let Some(l) = heading_level(&f.name) {
                        dom.heading = Some(l);
                    }
                }
                if f.name == "li" {
                    dom.in_list = true;
                }
                if f.body && dom.article_body.is_none() {
                    dom.article_body = Some(f.container);
                }
                if dom.negative.is_none() {
                    dom.negative = f.negative.clone();
                }
                dom.positive |= f.positive;
            }
            self.blocks.push(Block {
                start,
                end: self.text.len(),
                dom: Some(dom),
            });
        }
        self.buf.clear();
        self.buf_link_chars = 0;
        self.buf_space = false;
    }

    fn start(&mut self, tag: &Tag) -> TokenSinkResult<()> {
        let name: &str = &tag.name;
        if self.skip > 0 {
            if let Some((t, n)) = &mut self.skip_tag {
                if t == name && !is_void(name) {
                    *n += 1;
                }
            }
            return raw_kind(name);
        }
        if name == "title" && self.title.is_none() {
            self.in_title = true;
            return TokenSinkResult::RawData(RawKind::Rcdata);
        }
        let void = is_void(name) || (tag.self_closing && !is_skip(name));
        if is_block(name) {
            self.flush();
        }
        if void {
            return TokenSinkResult::Continue;
        }
        if is_skip(name) || is_hidden(tag) {
            self.skip = 1;
            self.skip_tag = Some((name.to_string(), 1));
            return raw_kind(name);
        }
        // Implied end tags: a new paragraph or list item closes an open one.
        if matches!(name, "p" | "li" | "dt" | "dd" | "tr" | "td" | "th") {
            let closes: &[&str] = match name {
                "li" => &["li"],
                "dt" | "dd" => &["dt", "dd"],
                "tr" => &["tr", "td", "th"],
                "td" | "th" => &["td", "th"],
                _ => &["p"],
            };
            if self
                .stack
                .last()
                .is_some_and(|f| closes.contains(&f.name.as_str()))
            {
                self.pop_to(self.stack.len() - 1);
            }
        } else if is_block(name) && self.stack.last().is_some_and(|f| f.name == "p") {
            self.pop_to(self.stack.len() - 1);
        }
        if name == "a" {
            self.link_depth += 1;
        }
        if self.stack.len() >= MAX_DEPTH {
            self.overflow += 1;
            return TokenSinkResult::Continue;
        }
        let container = self.next_container;
        self.next_container = self.next_container.wrapping_add(1);
        self.stack.push(Frame {
            name: name.to_string(),
            negative: negative_hint(name, tag),
            positive: positive_hint(name, tag),
            body: attr(tag, "itemprop").is_some_and(|v| v.eq_ignore_ascii_case("articlebody")),
            container,
        });
        TokenSinkResult::Continue
    }

    fn end(&mut self, tag: &Tag) {
        let name: &str = &tag.name;
        if self.skip > 0 {
            if let Some((t, n)) = &mut self.skip_tag {
                if t == name {
                    *n -= 1;
                    if *n == 0 {
                        self.skip = 0;
                        self.skip_tag = None;
                    }
                }
            }
            return;
        }
        if self.in_title && name == "title" {
            self.in_title = false;
            return;
        }
        if is_block(name) {
            self.flush();
        }
        if self.overflow > 0 {
            self.overflow -= 1;
            if name == "a" {
                self.link_depth = self.link_depth.saturating_sub(1);
            }
            return;
        }
        let len = self.stack.len();
        let lowest = len.saturating_sub(MAX_END_SEARCH);
        if let Some(i) = (lowest..len).rev().find(|&i| self.stack[i].name == name) {
            self.pop_to(i);
        }
    }

    /// Pop frames down to (and including) index `i`.
    fn pop_to(&mut self, i: usize) {
        while self.stack.len() > i {
            if let Some(f) = self.stack.pop() {
                if f.name == "a" {
                    self.link_depth = self.link_depth.saturating_sub(1);
                }
            }
        }
    }
}

fn heading_level(name: &str) -> Option<u8> {
    match name {
        "h1" => Some(1),
        "h2" => Some(2),
        "h3" => Some(3),
        "h4" => Some(4),
        "h5" => Some(5),
        "h6" => Some(6),
        _ => None,
    }
}

/// The tokenizer state an element's content needs (what a tree builder would ask for).
fn raw_kind(name: &str) -> TokenSinkResult<()> {
    match name {
        "script" => TokenSinkResult::RawData(RawKind::ScriptData),
        "style" | "xmp" | "iframe" | "noembed" | "noframes" | "noscript" => {
            TokenSinkResult::RawData(RawKind::Rawtext)
        }
        "textarea" | "title" => TokenSinkResult::RawData(RawKind::Rcdata),
        _ => TokenSinkResult::Continue,
    }
}

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut st = self.state.borrow_mut();
        match token {
            Token::TagToken(tag) => match tag.kind {
                TagKind::StartTag => return st.start(&tag),
                TagKind::EndTag => st.end(&tag),
            },
            Token::CharacterTokens(s) => st.push_text(&s),
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pieces of HTML signs in any case, white space, other text, and padding that moves them
    /// across the 2 KiB limit.
    fn html_ish() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let piece = prop_oneof![
            3 => proptest::sample::select(
                &[
                    "<html", "<HTML", "<Html>", "<!DocType html>", "<!doctype", "<?xml", "<?XML",
                    "<body", "<BoDy", "<head", "</p>", "</P>", "</div>", "</DiV>", "<", "<p>",
                    "<htm", "</di", " ", "\n", "\u{2003}", "\u{a0}", "é", "İ", "中", "text",
                ][..]
            )
            .prop_map(String::from),
            1 => any::<char>().prop_map(String::from),
            1 => (2030usize..2050).prop_map(|n| "x".repeat(n)),
        ];
        proptest::collection::vec(piece, 0..12).prop_map(|v| v.concat())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

        #[test]
        fn looks_like_html_matches_its_definition(s in html_ish()) {
            proptest::prop_assert_eq!(looks_like_html(&s), looks_like_html_reference(&s), "{:?}", s);
        }
    }

    fn texts(p: &Page) -> Vec<&str> {
        p.blocks.iter().map(|b| b.text(&p.text)).collect()
    }

    #[test]
    fn block_elements_become_blocks_and_scripts_vanish() {
        let p = parse(
            "<html><head><title> A  title </title><script>var x = '<p>no</p>';</script></head>\
             <body><nav><a href=/>Home</a></nav><article><h1>Head</h1><p>One <b>two</b> &amp; three.<p>Four</article>\
             <style>p{}</style></body></html>",
        );
        assert_eq!(texts(&p), vec!["Home", "Head", "One two & three.", "Four"]);
        assert_eq!(p.title.as_deref(), Some("A title"));
        let nav = p.blocks[0].dom.as_ref().unwrap();
        assert_eq!(nav.link_density(), 1.0);
        assert!(nav.negative.as_deref().unwrap().contains("nav"));
        let head = p.blocks[1].dom.as_ref().unwrap();
        assert_eq!(head.heading, Some(1));
        assert!(head.positive);
    }

    #[test]
    fn raw_bodies_are_dropped_but_tags_kept() {
        let h = "<p>a</p><SCRIPT type=x>if (a<b) {}</p></Script ><p>b</p><style>p{}</style><styles>c</styles><script>never closed <p>x";
        let d = drop_raw_bodies(h);
        assert_eq!(
            d,
            "<p>a</p><SCRIPT type=x></Script ><p>b</p><style></style><styles>c</styles><script>"
        );
        assert_eq!(texts(&parse(h)), vec!["a", "b", "c"]);
    }

    #[test]
    fn hidden_elements_are_skipped() {
        let p = parse("<div style='display: none'><div>x</div>hidden</div><p>shown</p>");
        assert_eq!(texts(&p), vec!["shown"]);
    }

    #[test]
    fn windows_1256_is_decoded_from_the_declaration() {
        let (bytes, _, _) =
            encoding_rs::WINDOWS_1256.encode("<meta charset=windows-1256><p>مرحبا</p>");
        let text = decode(&bytes);
        assert!(text.contains("مرحبا"));
    }

    #[test]
    fn undeclared_legacy_bytes_are_sniffed() {
        let body = "<p>أجرى وزير الدفاع الروسي مباحثات هاتفية مع نظيره الأميركي بشأن التصعيد في أوكرانيا</p>";
        let (bytes, _, _) = encoding_rs::WINDOWS_1256.encode(body);
        assert!(decode(&bytes).contains("وزير الدفاع"));
    }

    #[test]
    fn deep_nesting_is_linear_and_bounded() {
        let mut s = String::new();
        for _ in 0..100_000 {
            s.push_str("<div>");
        }
        s.push_str("deep text");
        let p = parse(&s);
        assert_eq!(texts(&p), vec!["deep text"]);
    }
}
