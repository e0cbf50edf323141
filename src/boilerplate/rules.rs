//! The block classifier. Every decision comes from features a person can check, and every
//! stripped block carries a kind and a reason.
//!
//! 1. **Features** per block: length (characters; characters of scripts written without spaces
//!    weigh more), sentence punctuation (`. ! ?` and Arabic `؟ ۔`, CJK `。！？`, Devanagari,
//!    Burmese, Ethiopic stops), stop-word density in the document's language (picked by the
//!    stop-word lists; per character for Chinese/Japanese; no list → punctuation and length only),
//!    the phrase lexicon, date/caption/handle shapes, learned chrome, and in HTML mode link density
//!    and the class/id/tag hints of ancestors.
//! 2. **Prose classes**: `Good` (long prose), `Near` (shorter prose), `Short` (headings, list
//!    items, labels), `Bad` (chrome by phrase, links, DOM hint or learning).
//! 3. **Main run**: clusters of prose blocks separated by short gaps; an end-of-article marker
//!    (read-also header, tags, source line, comments header) closes a cluster. The main run is the
//!    first cluster carrying at least half of the largest cluster's prose; neighbouring clusters
//!    join it when no end marker lies between or when their vocabulary continues the article's.
//! 4. **Decisions**: inside the run, prose and short blocks (section headings, Q&A lines) are
//!    kept and chrome is cut where it stands (inline "read also" lines, captions, ads); before the
//!    run only the headline is kept; after it everything goes. A block repeating a kept block
//!    (the title printed twice) is cut.

use std::collections::HashSet;

use super::blocks::Block;
use super::lexicon::{self, fold_into, Hit, Mode};
use super::scan;

/// Prose class of a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Long running prose.
    Good,
    /// Shorter prose: a sentence or two.
    Near,
    /// Short text: a heading, a label, a list item.
    Short,
    /// Chrome by phrase, link density, DOM hint or learning.
    Bad,
}

/// Why a block was stripped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Strip {
    /// Kind of boilerplate.
    pub kind: &'static str,
    /// Human-readable reason.
    pub reason: String,
}

/// Per-block features.
#[derive(Debug, Clone, Default)]
pub struct Features {
    /// Where the block's folded text (first 420 bytes' worth of characters are enough for
    /// phrases) lies in the document's folded texts (see [`features`] and [`Features::folded`]).
    pub folded_at: (u32, u32),
    /// Non-space characters.
    pub chars: usize,
    /// Length weight: characters, with characters of scripts written without spaces counted
    /// more.
    pub weight: f32,
    /// Whitespace-separated words (or no-space-script characters).
    pub words: usize,
    /// Stop-word hits per language bit.
    pub stop_hits: [u32; lexicon::MAX_LANGS],
    /// Characters of no-space scripts (denominator for per-character stop words).
    pub cjk_chars: usize,
    /// Ends with sentence punctuation.
    pub sentence_end: bool,
    /// Number of sentence punctuation marks inside the block.
    pub sentence_marks: usize,
    /// Share of ASCII digits among non-space characters.
    pub digit_share: f32,
    /// Phrase lexicon hit.
    pub hit: Option<Hit>,
    /// Looks like a date/time line.
    pub date_like: bool,
    /// Looks like an image caption with a credit in parentheses.
    pub caption_like: bool,
    /// A lone handle, hashtag or URL.
    pub handle_like: bool,
}

use super::scan::{add_mask, SENTENCE_END};
const CLOSERS: &[char] = &[
    '"', '\'', '”', '’', '»', ')', ']', '」', '』', '）', '›', '*',
];

/// Kinds that end the article when they stand as a header.
const END_KINDS: &[&str] = &[
    "related-header",
    "tags",
    "source-label",
    "comments-header",
    "comments-widget",
    "editors-picks",
    "most-read",
];

/// Longest block, in bytes, that a prefix or contained phrase may mark (longer blocks are prose
/// that happens to start with the phrase).
const MAX_PHRASE_BLOCK: usize = 220;
/// Stop-word statistics look at no more than this many words of a block.
const STOP_SAMPLE: usize = 64;
/// Characters of no-space scripts looked up as per-character stop words, at most.
const CJK_SAMPLE: usize = super::scan::CJK_SAMPLE;

impl Features {
    /// The block's folded text, from the document's folded texts `all` (what [`features`]
    /// appended to; "" if `all` is not that text).
    pub fn folded<'a>(&self, all: &'a str) -> &'a str {
        all.get(self.folded_at.0 as usize..self.folded_at.1 as usize)
            .unwrap_or("")
    }
}

/// Compute the features of one block, appending its folded text to `folded` (one buffer for all
/// the blocks of a document: no allocation per block).
pub fn features(text: &str, folded_all: &mut String) -> Features {
    let lex = lexicon::lexicon();
    let mut f = Features::default();
    // Folded prefix for phrase lookup.
    let head_end = super::floor_boundary(text, 420);
    let fold_start = folded_all.len();
    fold_into(&text[..head_end], folded_all);
    let folded = &folded_all[fold_start..];
    f.folded_at = (
        u32::try_from(fold_start).unwrap_or(u32::MAX),
        u32::try_from(folded_all.len()).unwrap_or(u32::MAX),
    );
    let mut tok = String::new();
    // Words are runs of non-whitespace (as `split_whitespace`); words past the folded head are
    // folded one by one for the stop-word statistics.
    let counts = scan::scan(
        text,
        head_end,
        STOP_SAMPLE,
        &mut f.stop_hits,
        |hits, start, end| {
            let m = lex.word_stop_mask(text, start, end, &mut tok);
            add_mask(hits, m & !lex.char_langs);
        },
    );
    f.words = counts.words;
    f.chars = counts.chars;
    f.cjk_chars = counts.cjk_chars;
    f.sentence_marks = counts.marks;
    let digits = counts.digits;
    let weight = counts.weight;
    // The first words of the folded head.
    lex.add_stop_words(folded, STOP_SAMPLE, &mut f.stop_hits);
    f.weight = weight.max(0.0);
    f.digit_share = if f.chars == 0 {
        0.0
    } else {
        digits as f32 / f.chars as f32
    };
    let trimmed = text.trim_end_matches(|c: char| CLOSERS.contains(&c) || c.is_whitespace());
    f.sentence_end = trimmed.ends_with(SENTENCE_END);
    // A contained phrase only marks blocks of at most 400 bytes (see the filter), so longer
    // blocks skip that search.
    f.hit = lex
        .lookup_with(folded, text.len() <= 400)
        .filter(|h| match h.mode {
            Mode::Whole => true,
            Mode::Prefix | Mode::Contains => {
                let limit = if h.kind == "byline" {
                    90
                } else {
                    MAX_PHRASE_BLOCK
                };
                text.len() <= limit || (h.kind == "related-link" && text.len() <= 400)
            }
        });
    f.date_like = f.chars <= 80 && digits >= 4 && f.digit_share >= 0.15 && !text.ends_with('.');
    f.caption_like = caption_like(text);
    f.handle_like = f.words == 1
        && (text.starts_with('@')
            || text.starts_with('#')
            || text.starts_with("http://")
            || text.starts_with("https://")
            || text.starts_with("www."));
    f
}

/// A short block ending in a credit in parentheses: `(AFP)`, `(إ.ب.أ)`, `(Reuters/John Doe)`.
fn caption_like(text: &str) -> bool {
    if text.len() > 300 || !text.ends_with(')') {
        return false;
    }
    let Some(open) = text.rfind('(') else {
        return false;
    };
    let inner = &text[open + 1..text.len() - 1];
    let n = inner.chars().count();
    if n == 0 || n > 30 {
        return false;
    }
    let credit_shape = inner.contains('.')
        || inner.contains('/')
        || inner
            .chars()
            .filter(|c| c.is_alphabetic())
            .all(|c| c.is_uppercase());
    credit_shape && !text[..open].trim_end().ends_with(SENTENCE_END)
}

/// The classifier's input: the base text, its blocks and their features, and which blocks learned
/// frequency marks as chrome (with the count the reason names).
pub struct Input<'a> {
    /// Base text the blocks point into.
    pub base: &'a str,
    /// Blocks in order.
    pub blocks: &'a [Block],
    /// Features of each block ([`features`]).
    pub feats: &'a [Features],
    /// The blocks' folded texts, one after the other (see [`Features::folded`]).
    pub folded: &'a str,
    /// Per block, the number of earlier stories of the source the line was seen in, when that
    /// makes it learned chrome (`None` = not learned).
    pub learned: &'a [Option<u32>],
    /// The source (site) the learned counts are of, named in the reason.
    pub source: Option<&'a str>,
}

/// The reason of a learned-chrome block, formatted only for the blocks it strips: one
/// allocation of the right size, the count's digits by `itoa` (`to_string` and `concat` cost
/// two more allocations and the formatting machinery, on every learned line of a page).
fn learned_reason(input: &Input<'_>, i: usize) -> Option<String> {
    let n = (*input.learned.get(i)?)?;
    let of = input.source.unwrap_or("the stream");
    let mut digits = itoa::Buffer::new();
    let count = digits.format(n);
    const SEEN: &str = "line seen in ";
    const STORIES: &str = " earlier stories of ";
    let mut reason = String::with_capacity(SEEN.len() + count.len() + STORIES.len() + of.len());
    reason.push_str(SEEN);
    reason.push_str(count);
    reason.push_str(STORIES);
    reason.push_str(of);
    Some(reason)
}

/// Classify every block: `None` keeps it, `Some(Strip)` removes it.
pub fn classify(input: &Input<'_>) -> Vec<Option<Strip>> {
    let n = input.blocks.len().min(input.feats.len());
    let feats = &input.feats[..n];
    let lang = doc_language(feats);
    let ratios: Vec<f32> = feats.iter().map(|f| stop_ratio(f, lang)).collect();
    let reference = reference_ratio(feats, &ratios);
    let classes: Vec<Class> = (0..n)
        .map(|i| {
            prose_class(
                &feats[i],
                ratios[i],
                reference,
                input.blocks[i].dom.as_ref(),
                input.learned.get(i).is_some_and(|l| l.is_some()),
            )
        })
        .collect();
    let end_marker: Vec<bool> = feats.iter().map(is_end_marker).collect();
    let folded = |i: usize| feats[i].folded(input.folded);
    let (start, end) = main_run(feats, input.folded, &classes, &end_marker);

    let mut out: Vec<Option<Strip>> = vec![None; n];
    let Some((start, end)) = start.zip(end) else {
        // No prose at all: everything is chrome.
        for (i, o) in out.iter_mut().enumerate() {
            *o = Some(outside(&feats[i], input, i, "no run of prose on the page"));
        }
        return out;
    };
    // HTML: the element holding most of the run's prose is the article; follow it past the run's
    // gaps (list-shaped and table-shaped articles), and cut what lies outside it.
    let mut container = article_container(input.blocks, feats, &classes, start, end);
    let (mut start, mut end) = (start, end);
    if let Some((id, s, e)) = declared_body(input.blocks, feats, &classes, start, end) {
        container = Some(id);
        start = s;
        end = e;
    }
    if let Some(id) = container {
        let mut i = end + 1;
        while i < n && !end_marker[i] && in_container(&input.blocks[i], id) {
            if classes[i] != Class::Bad {
                end = i;
            }
            i += 1;
        }
    }
    end = trailing_list(input, &classes, &end_marker, end);
    end = announced(input, &classes, &end_marker, container, end);
    let title = find_title(feats, input.folded, &classes, start);
    for i in 0..n {
        if i < start {
            if Some(i) != title {
                out[i] = Some(outside(
                    &feats[i],
                    input,
                    i,
                    "before the article's main text",
                ));
            }
            continue;
        }
        if i > end {
            let mut strip = outside(&feats[i], input, i, "after the end of the article");
            if strip.kind == "outside-article" {
                if let Some(m) = (end + 1..i).rev().find(|&k| end_marker[k]) {
                    let marker = feats[m].hit.map_or("", |h| h.kind);
                    strip.kind = match marker {
                        "related-header" | "most-read" | "editors-picks" => "related-teaser",
                        "comments-header" | "comments-widget" => "comments",
                        _ => "outside-article",
                    };
                    strip.reason =
                        ["after the \"", marker, "\" marker that ends the article"].concat();
                }
            }
            out[i] = Some(strip);
            continue;
        }
        if let Some(id) = container {
            if classes[i] != Class::Good && !in_container(&input.blocks[i], id) {
                out[i] = Some(Strip {
                    kind: "outside-article",
                    reason: "outside the element holding the article's text".into(),
                });
                continue;
            }
        }
        out[i] = inside(&feats[i], classes[i], input, i);
    }
    // A block repeating a kept block (the title printed twice) goes.
    // (SipHash of every kept block's folded text cost more than the rest of the loop.)
    let mut seen: HashSet<&str, std::hash::BuildHasherDefault<lexicon::FastHasher>> =
        HashSet::with_capacity_and_hasher(n, Default::default());
    let first_kept = (0..n).find(|&i| out[i].is_none());
    for (i, o) in out.iter_mut().enumerate() {
        if let (Some(t), Some(strip)) = (title, o.as_mut()) {
            if i != t && folded(t) == folded(i) {
                strip.kind = "duplicate-title";
                strip.reason = "repeats the headline".into();
            }
            continue;
        }
        if o.is_some() {
            continue;
        }
        let key = lexicon::trim_marks(folded(i));
        if key.is_empty() {
            continue;
        }
        if !seen.insert(key) {
            let kind = if first_kept.is_some_and(|t| folded(t) == folded(i)) {
                "duplicate-title"
            } else {
                "duplicate-block"
            };
            *o = Some(Strip {
                kind,
                reason: "repeats a block kept earlier".into(),
            });
        }
    }
    out
}

/// The element the page declares as its article body (`itemprop="articleBody"`), when it holds
/// enough text to be the article: `(id, first block, last block)`.
fn declared_body(
    blocks: &[Block],
    feats: &[Features],
    classes: &[Class],
    start: usize,
    end: usize,
) -> Option<(u32, usize, usize)> {
    let mut bodies: lexicon::FastMap<u32, (f32, usize, usize)> = lexicon::FastMap::default();
    for (i, b) in blocks.iter().enumerate() {
        let Some(id) = b.dom.as_ref().and_then(|d| d.article_body) else {
            continue;
        };
        if classes[i] == Class::Bad {
            continue;
        }
        let e = bodies.entry(id).or_insert((0.0, i, i));
        e.0 += feats[i].weight;
        e.2 = i;
    }
    let (id, (w, s, e)) = bodies
        .into_iter()
        .max_by(|a, b| a.1 .0.total_cmp(&b.1 .0))?;
    let run: f32 = (start..=end)
        .filter(|&i| classes[i] == Class::Good)
        .map(|i| feats[i].weight)
        .sum();
    (w >= 150.0 && w >= 0.3 * run).then_some((id, s, e))
}

fn in_container(b: &Block, id: u32) -> bool {
    b.dom.as_ref().is_some_and(|d| d.path.contains(&id))
}

/// The deepest element holding at least 3/4 of the long prose of the run `start..=end` (HTML
/// only).
fn article_container(
    blocks: &[Block],
    feats: &[Features],
    classes: &[Class],
    start: usize,
    end: usize,
) -> Option<u32> {
    let mut total = 0f32;
    let mut prose = 0usize;
    // id → (prose weight, depth, prose blocks)
    let mut weight: lexicon::FastMap<u32, (f32, usize, usize)> = lexicon::FastMap::default();
    for i in start..=end {
        let w = match classes[i] {
            Class::Good => feats[i].weight,
            Class::Near => feats[i].weight * 0.5,
            _ => continue,
        };
        let dom = blocks[i].dom.as_ref()?;
        total += w;
        prose += 1;
        for (depth, id) in dom.path.iter().enumerate() {
            let e = weight.entry(*id).or_insert((0.0, depth, 0));
            e.0 += w;
            e.2 += 1;
        }
    }
    if total <= 0.0 {
        return None;
    }
    // The container must hold several of the run's prose blocks (not be one paragraph).
    let min_blocks = prose.min(2);
    weight
        .into_iter()
        .filter(|(_, (w, _, n))| *w >= 0.75 * total && *n >= min_blocks)
        .max_by_key(|(_, (_, depth, _))| *depth)
        .map(|(id, _)| id)
}

/// How a block starts: with a number and a list delimiter (`1.`, `2)`, `3 -`), with a bullet
/// (`*`, `•`, `·`, `▪`, `-`, `–`) and a space, or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListMark {
    Numbered,
    Bullet,
    None,
}

fn list_mark(text: &str) -> ListMark {
    let t = text.trim_start();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if (1..=3).contains(&digits) {
        let rest = t[digits..].trim_start_matches(' ');
        let delimited = rest.starts_with(['.', ')', '-', '–'])
            && rest[rest.chars().next().map_or(0, char::len_utf8)..].starts_with(' ');
        return if delimited {
            ListMark::Numbered
        } else {
            ListMark::None
        };
    }
    match t.chars().next() {
        Some('*' | '•' | '·' | '▪' | '-' | '–') if t.chars().nth(1) == Some(' ') => {
            ListMark::Bullet
        }
        _ => ListMark::None,
    }
}

/// Most unmarked blocks (sub-headings of a list: "Free apps") between two list items.
const LIST_HEADINGS: usize = 2;

/// A numbered list right after the main run's last paragraph is the article's (a ranking, a
/// programme, the steps of a procedure): its items are short, so the run's prose clusters stop
/// before it. Extends `end` over the blocks that follow it while they are list items (numbered or
/// bulleted) or short sub-headings followed by one; the list must hold at least two numbered
/// items, and an end-of-article marker or a chrome block stops it. Numbers in text-mode input are
/// the page's own (HTML `<ol>` numbers are not text), so navigation and link lists, which carry
/// no such numbers, are not taken.
fn trailing_list(input: &Input<'_>, classes: &[Class], end_marker: &[bool], end: usize) -> usize {
    let n = classes.len().min(input.blocks.len());
    let mut last = end;
    let mut numbered = 0usize;
    let mut headings = 0usize;
    let mut i = end + 1;
    while i < n && !end_marker[i] && classes[i] != Class::Bad {
        match list_mark(input.blocks[i].text(input.base)) {
            ListMark::None => {
                headings += 1;
                if headings > LIST_HEADINGS || classes[i] == Class::Good {
                    break;
                }
            }
            mark => {
                numbered += usize::from(mark == ListMark::Numbered);
                headings = 0;
                last = i;
            }
        }
        i += 1;
    }
    if numbered >= 2 {
        last
    } else {
        end
    }
}

/// The main run's last paragraph ends with a colon: it announces what follows (a poem, a
/// statement, the items of a list), whose short lines the run's prose clusters do not take.
/// Extends `end` over the blocks that follow until an end-of-article marker, a chrome block or
/// (HTML) a block outside the element holding the article.
fn announced(
    input: &Input<'_>,
    classes: &[Class],
    end_marker: &[bool],
    container: Option<u32>,
    end: usize,
) -> usize {
    let n = classes.len().min(input.blocks.len());
    let colon = input
        .blocks
        .get(end)
        .is_some_and(|b| b.text(input.base).trim_end().ends_with([':', '：']));
    if !colon {
        return end;
    }
    let mut last = end;
    while last + 1 < n
        && !end_marker[last + 1]
        && classes[last + 1] != Class::Bad
        && container.is_none_or(|id| in_container(&input.blocks[last + 1], id))
    {
        last += 1;
    }
    last
}

/// Strip decision for a block outside the main run.
fn outside(f: &Features, input: &Input<'_>, i: usize, where_: &str) -> Strip {
    if let Some(reason) = learned_reason(input, i) {
        return Strip {
            kind: "learned-chrome",
            reason,
        };
    }
    if let Some(h) = f.hit {
        return Strip {
            kind: h.kind,
            reason: ["phrase \"", h.phrase, "\" (", h.lang, "), ", where_].concat(),
        };
    }
    if let Some(dom) = &input.blocks[i].dom {
        if let Some(neg) = &dom.negative {
            return Strip {
                kind: "navigation",
                reason: [neg, ", ", where_].concat(),
            };
        }
        if dom.link_density() > 0.5 {
            return Strip {
                kind: "link-list",
                reason: format!("{:.0}% link text, {where_}", dom.link_density() * 100.0),
            };
        }
    }
    if f.date_like {
        return Strip {
            kind: "dateline",
            reason: ["date/time line, ", where_].concat(),
        };
    }
    Strip {
        kind: "outside-article",
        reason: where_.to_string(),
    }
}

/// Decision for a block inside the main run.
fn inside(f: &Features, class: Class, input: &Input<'_>, i: usize) -> Option<Strip> {
    if class != Class::Good {
        if let Some(reason) = learned_reason(input, i) {
            return Some(Strip {
                kind: "learned-chrome",
                reason,
            });
        }
    }
    if let Some(h) = f.hit {
        return Some(Strip {
            kind: h.kind,
            reason: ["phrase \"", h.phrase, "\" (", h.lang, ")"].concat(),
        });
    }
    if matches!(class, Class::Good | Class::Near) {
        return None;
    }
    if let Some(dom) = &input.blocks[i].dom {
        if let Some(neg) = &dom.negative {
            if class == Class::Bad {
                return Some(Strip {
                    kind: "navigation",
                    reason: neg.clone(),
                });
            }
        }
        if dom.link_density() > 0.5 {
            return Some(Strip {
                kind: "related-link",
                reason: format!("{:.0}% link text", dom.link_density() * 100.0),
            });
        }
    }
    if f.caption_like {
        return Some(Strip {
            kind: "image-caption",
            reason: "ends with a photo credit in parentheses".into(),
        });
    }
    if f.date_like {
        return Some(Strip {
            kind: "dateline",
            reason: "date/time line".into(),
        });
    }
    if f.handle_like {
        return Some(Strip {
            kind: "social-handle",
            reason: "a lone handle, hashtag or link".into(),
        });
    }
    None
}

fn is_end_marker(f: &Features) -> bool {
    match f.hit {
        Some(h) => {
            END_KINDS.contains(&h.kind)
                && (h.mode == Mode::Whole
                    || matches!(h.kind, "tags" | "source-label" | "comments-widget"))
        }
        None => false,
    }
}

/// The document's language: the stop-word list with the most hits (ties and too few hits → none,
/// and the per-script fallback uses punctuation and length only).
fn doc_language(feats: &[Features]) -> Option<usize> {
    let lex = lexicon::lexicon();
    let n = lex.langs.len();
    let mut total = vec![0u64; n];
    let mut cjk = 0u64;
    let mut words = 0u64;
    for f in feats.iter().filter(|f| f.words >= 4 || f.cjk_chars >= 10) {
        for (t, h) in total.iter_mut().zip(&f.stop_hits) {
            *t += u64::from(*h);
        }
        cjk += f.cjk_chars.min(CJK_SAMPLE) as u64;
        words += f.words.min(STOP_SAMPLE) as u64;
    }
    let mut best: Option<(usize, f64)> = None;
    for (bit, t) in total.iter().enumerate() {
        let per_char = lex.char_langs & (1 << bit) != 0;
        let denom = if per_char { cjk } else { words };
        if denom == 0 {
            continue;
        }
        let share = *t as f64 / denom as f64;
        if best.is_none_or(|(_, s)| share > s) {
            best = Some((bit, share));
        }
    }
    best.filter(|(_, s)| *s >= 0.04).map(|(b, _)| b)
}

fn stop_ratio(f: &Features, lang: Option<usize>) -> f32 {
    let Some(bit) = lang else { return 0.0 };
    let lex = lexicon::lexicon();
    let hits = f.stop_hits.get(bit).copied().unwrap_or(0) as f32;
    let denom = if lex.char_langs & (1 << bit) != 0 {
        f.cjk_chars.min(CJK_SAMPLE)
    } else {
        f.words.min(STOP_SAMPLE)
    };
    if denom == 0 {
        0.0
    } else {
        hits / denom as f32
    }
}

/// Typical stop-word density of this page's prose: the weighted mean over long blocks.
fn reference_ratio(feats: &[Features], ratios: &[f32]) -> f32 {
    let mut num = 0f32;
    let mut den = 0f32;
    for (f, r) in feats.iter().zip(ratios) {
        if f.weight >= 200.0 && f.hit.is_none() {
            num += r * f.weight;
            den += f.weight;
        }
    }
    if den == 0.0 {
        0.0
    } else {
        num / den
    }
}

fn prose_class(
    f: &Features,
    ratio: f32,
    reference: f32,
    dom: Option<&super::blocks::DomHints>,
    learned: bool,
) -> Class {
    if learned || f.hit.is_some() || f.handle_like {
        return Class::Bad;
    }
    let link = dom.map_or(0.0, |d| d.link_density());
    if link > 0.5 {
        return Class::Bad;
    }
    // Stop-word check against the page's own prose; pages with no list pass on punctuation.
    let stop_ok = reference <= 0.0 || ratio >= 0.45 * reference;
    let stop_strong = reference <= 0.0 || ratio >= 0.7 * reference;
    let mut class = if f.weight >= 150.0 && stop_ok && (f.sentence_marks > 0 || f.weight >= 300.0) {
        Class::Good
    } else if f.weight >= 50.0 && stop_ok && (f.sentence_end || (stop_strong && f.weight >= 100.0))
    {
        Class::Near
    } else {
        Class::Short
    };
    if link > 0.3 && class == Class::Good {
        class = Class::Near;
    }
    if let Some(d) = dom {
        if d.negative.is_some() && !d.positive {
            class = match class {
                Class::Good => Class::Near,
                _ => Class::Bad,
            };
        }
    }
    class
}

/// Find the main run of prose: `(first, last)` block indices, inclusive.
fn main_run(
    feats: &[Features],
    folded: &str,
    classes: &[Class],
    end_marker: &[bool],
) -> (Option<usize>, Option<usize>) {
    // Gap allowed inside a cluster: a short block costs 1, a phrase-marked in-article widget
    // (caption, ad, share bar, inline read-also) 0.5, other chrome (links, DOM hints) 2.
    const MAX_GAP: f32 = 5.0;
    // Share of a cluster's content words already in the article for it to count as the same
    // article (measured: a continuation after a "Related" box ≈ 0.25–0.4, an unrelated article
    // from the same site ≈ 0.1).
    const CONTINUES: f32 = 0.2;
    // Clusters: (start, end, value, ends_at_marker)
    // (start, end, value, has a Good block)
    let mut all: Vec<(usize, usize, f32, bool)> = Vec::new();
    let mut cur: Option<(usize, usize, f32, bool)> = None;
    let mut gap = 0f32;
    let close = |cur: &mut Option<(usize, usize, f32, bool)>, all: &mut Vec<_>| {
        if let Some(c) = cur.take() {
            all.push(c);
        }
    };
    for i in 0..classes.len() {
        if end_marker[i] {
            close(&mut cur, &mut all);
            gap = 0.0;
            continue;
        }
        match classes[i] {
            Class::Good | Class::Near => {
                let v = if classes[i] == Class::Good {
                    feats[i].weight
                } else {
                    feats[i].weight * 0.5
                };
                match &mut cur {
                    Some(c) => {
                        c.1 = i;
                        c.2 += v;
                        c.3 |= classes[i] == Class::Good;
                    }
                    None => cur = Some((i, i, v, classes[i] == Class::Good)),
                }
                gap = 0.0;
            }
            Class::Short | Class::Bad => {
                if cur.is_some() {
                    gap += match (classes[i], feats[i].hit) {
                        (Class::Bad, Some(_)) => 0.5,
                        (Class::Bad, None) => 2.0,
                        _ => 1.0,
                    };
                    if gap > MAX_GAP {
                        close(&mut cur, &mut all);
                        gap = 0.0;
                    }
                }
            }
        }
    }
    close(&mut cur, &mut all);
    // Clusters seeded by long prose; on pages without any, clusters of shorter prose.
    let any_good = all.iter().any(|c| c.3);
    let clusters: Vec<(usize, usize, f32)> = all
        .into_iter()
        .filter(|c| c.3 || !any_good)
        .map(|c| (c.0, c.1, c.2))
        .collect();
    if clusters.is_empty() {
        return (None, None);
    }
    let max = clusters.iter().map(|c| c.2).fold(0f32, f32::max);
    let Some(m) = clusters.iter().position(|c| c.2 >= 0.4 * max) else {
        return (None, None);
    };
    let (mut start, mut end, value) = clusters[m];
    // The run's vocabulary, built when a neighbouring cluster first needs it (most pages have
    // none, and it is the largest cost of the classifier otherwise).
    let mut vocab: Option<Vocab> = None;
    // Comments discuss the article, so vocabulary cannot tell them apart: never cross them.
    let comment_between = |a: usize, b: usize| {
        (a..b).any(|i| {
            end_marker[i]
                && feats[i]
                    .hit
                    .is_some_and(|h| matches!(h.kind, "comments-header" | "comments-widget"))
        })
    };
    // Extend forward.
    for c in &clusters[m + 1..] {
        let marker_between = (end + 1..c.0).any(|i| end_marker[i]);
        let gap = c.0 - end - 1;
        let vocab = vocab.get_or_insert_with(|| vocabulary(feats, folded, start, end));
        let overlap = overlap(vocab, feats, folded, c.0, c.1);
        let joins = if comment_between(end + 1, c.0) {
            false
        } else if marker_between {
            overlap >= CONTINUES && gap <= 10
        } else {
            (gap <= 8 && (c.2 >= 0.15 * value || overlap >= CONTINUES)) || overlap >= 0.35
        };
        if !joins {
            break;
        }
        vocab.extend(vocabulary(feats, folded, c.0, c.1));
        end = c.1;
    }
    // Extend backward.
    for c in clusters[..m].iter().rev() {
        let marker_between = (c.1 + 1..start).any(|i| end_marker[i]);
        let gap = start - c.1 - 1;
        let vocab = vocab.get_or_insert_with(|| vocabulary(feats, folded, start, end));
        let overlap = overlap(vocab, feats, folded, c.0, c.1);
        let joins = if marker_between {
            overlap >= CONTINUES && gap <= 10
        } else {
            gap <= 4 || overlap >= CONTINUES
        };
        if !joins {
            break;
        }
        vocab.extend(vocabulary(feats, folded, c.0, c.1));
        start = c.0;
    }
    (Some(start), Some(end))
}

/// Content words (folded, four characters or more) of blocks `s..=e`.
type Vocab = HashSet<u64, std::hash::BuildHasherDefault<lexicon::FastHasher>>;

fn vocabulary(feats: &[Features], folded: &str, s: usize, e: usize) -> Vocab {
    let bytes: usize = feats[s..=e].iter().map(|f| f.folded(folded).len()).sum();
    let mut v = Vocab::with_capacity_and_hasher(bytes / 8, Default::default());
    for f in &feats[s..=e] {
        v.extend(content_words(f.folded(folded)));
    }
    v
}

/// Keys ([`lexicon::word_key`]) of the content words of a folded text: words of four characters
/// or more that are no stop word.
fn content_words(folded: &str) -> impl Iterator<Item = u64> + '_ {
    let lex = lexicon::lexicon();
    folded
        .split(|c: char| !lexicon::is_wordish(c))
        .filter(|w| w.len() >= 16 || (w.len() >= 4 && w.chars().count() >= 4))
        .filter_map(move |w| {
            let key = lexicon::word_key(w);
            (lex.stop_mask_of_key(w.len(), key) == 0).then_some(key)
        })
}

/// Share of the content words of blocks `s..=e` found in `vocab`.
fn overlap(vocab: &Vocab, feats: &[Features], folded: &str, s: usize, e: usize) -> f32 {
    let mut hit = 0usize;
    let mut all = 0usize;
    for f in &feats[s..=e] {
        for key in content_words(f.folded(folded)) {
            all += 1;
            if vocab.contains(&key) {
                hit += 1;
            }
        }
    }
    if all == 0 {
        0.0
    } else {
        hit as f32 / all as f32
    }
}

/// The headline: the nearest heading-like block before the main run, skipping datelines,
/// captions and phrase-marked chrome; if the same line appears just before it, the first copy.
fn find_title(feats: &[Features], folded: &str, classes: &[Class], start: usize) -> Option<usize> {
    let mut i = start;
    let mut steps = 0;
    while i > 0 && steps < 6 {
        i -= 1;
        steps += 1;
        let f = &feats[i];
        if f.hit.is_some() || f.date_like || f.caption_like || f.handle_like {
            continue;
        }
        if classes[i] == Class::Bad {
            return None;
        }
        let heading = f.weight >= 12.0
            && f.words <= 30
            && f.chars <= 250
            && !f.folded(folded).ends_with('.')
            && classes[i] != Class::Good;
        if !heading {
            return None;
        }
        // An identical copy just before: keep the first, the later one is the duplicate.
        let mut first = i;
        for j in (i.saturating_sub(3)..i).rev() {
            if feats[j].folded(folded) == f.folded(folded) {
                first = j;
            }
        }
        return Some(first);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boilerplate::blocks::text_blocks;

    /// The features of one block alone.
    fn features(text: &str) -> Features {
        super::features(text, &mut String::new())
    }

    fn run(text: &str) -> Vec<Option<Strip>> {
        let blocks = text_blocks(text);
        let learned = vec![None; blocks.len()];
        let mut folded = String::new();
        let feats: Vec<Features> = blocks
            .iter()
            .map(|b| super::features(b.text(text), &mut folded))
            .collect();
        classify(&Input {
            base: text,
            blocks: &blocks,
            feats: &feats,
            folded: &folded,
            learned: &learned,
            source: None,
        })
    }

    /// A kept block repeating an earlier kept block goes; one of the same length with the same
    /// first and last eight bytes (what the duplicate set hashes) but another middle stays.
    #[test]
    fn only_true_repeats_of_kept_blocks_are_duplicates() {
        let para = |mid: &str| {
            format!(
                "The council met on Monday and {mid} voted to approve the new budget for the \
                 coming year after a long debate in which members raised many concerns."
            )
        };
        let (a, b) = (para("then"), para("they"));
        assert_eq!(a.len(), b.len());
        let text = [a.as_str(), &b, &a, &b].join("\n");
        let out = run(&text);
        let kinds: Vec<Option<&str>> = out.iter().map(|o| o.as_ref().map(|s| s.kind)).collect();
        assert_eq!(kinds[..2], [None, None], "{out:?}");
        assert!(kinds[2..]
            .iter()
            .all(|k| matches!(k, Some("duplicate-block" | "duplicate-title"))));
    }

    #[test]
    fn features_see_arabic_and_cjk_sentence_marks() {
        assert!(features("هل هذا صحيح؟").sentence_end);
        assert!(features("这是一个句子。").sentence_end);
        assert!(features("He said “yes.”").sentence_end);
        assert!(!features("Breaking news headline").sentence_end);
    }

    #[test]
    fn captions_and_dates_are_recognised() {
        assert!(
            features("وزير الدفاع الأميركي لويد أوستن (يسار) ونظيره الروسي (إ.ب.أ)").caption_like
        );
        assert!(features("The minister arrives (AFP)").caption_like);
        assert!(!features("The vote was held in 2019 (see below).").caption_like);
        assert!(features("الجمعة - 12 شوال 1443 هـ - 13 مايو 2022 مـ").date_like);
    }

    #[test]
    fn navigation_before_and_teasers_after_the_article_go() {
        let body = "The council met on Tuesday to discuss the closure of the old bridge, which has been in poor repair for years and which the engineers say is no longer safe for heavy traffic.";
        let text = format!(
            "Home\nWorld\nSports\nBridge to close for repairs\n{body}\n{body} It was a long meeting.\nRelated\nAnother story about something else entirely\n"
        );
        let out = run(&text);
        assert!(out[0].is_some() && out[1].is_some() && out[2].is_some());
        assert!(out[3].is_none(), "the headline is kept");
        assert!(out[4].is_none() && out[5].is_none());
        assert_eq!(out[6].as_ref().unwrap().kind, "related-header");
        assert!(out[7].is_some());
        let reasons: Vec<&str> = out.iter().flatten().map(|s| s.reason.as_str()).collect();
        assert_eq!(
            reasons,
            [
                "phrase \"home\" (en), before the article's main text",
                "before the article's main text",
                "before the article's main text",
                "phrase \"related\" (en), after the end of the article",
                "after the \"related-header\" marker that ends the article",
            ]
        );
    }

    #[test]
    fn lines_announced_by_a_colon_are_the_articles() {
        let intro = "The column prints a poem every week, and this week the poet sent one about the long summer nights in the old town by the sea, which reads:";
        let text = format!(
            "Summer nights\n{intro}\nThe sea is calm tonight\nThe lamps are lit along the bay\nAnd no one sleeps\nLeave a comment\nRecent posts\nAnother headline\n"
        );
        let out = run(&text);
        for (i, o) in out.iter().enumerate().take(5).skip(1) {
            assert!(o.is_none(), "block {i} is announced by the colon: {o:?}");
        }
        assert!(out[5].is_some(), "chrome after it goes");
        // Without the colon the short lines are not the article's.
        let text = text.replace("reads:", "reads well.");
        let out = run(&text);
        assert!(out[2].is_some() && out[3].is_some());
    }

    #[test]
    fn learned_reasons_read_as_formatted() {
        let counts = [
            Some(0),
            Some(3),
            Some(10),
            Some(99),
            Some(100),
            Some(123_456),
            Some(u32::MAX),
            None,
        ];
        for source in [Some("example.com"), None] {
            let input = Input {
                base: "",
                blocks: &[],
                feats: &[],
                folded: "",
                learned: &counts,
                source,
            };
            for (i, n) in counts.iter().enumerate() {
                let want = n.map(|n| match source {
                    Some(s) => format!("line seen in {n} earlier stories of {s}"),
                    None => format!("line seen in {n} earlier stories of the stream"),
                });
                assert_eq!(learned_reason(&input, i), want);
            }
            assert_eq!(learned_reason(&input, counts.len()), None);
        }
    }

    #[test]
    fn list_marks() {
        assert_eq!(list_mark("1. Agar.io"), ListMark::Numbered);
        assert_eq!(list_mark("12 - تطبيق «فيسبوك»"), ListMark::Numbered);
        assert_eq!(list_mark("3) Third"), ListMark::Numbered);
        assert_eq!(list_mark("* التطبيقات المجانية"), ListMark::Bullet);
        assert_eq!(list_mark("• item"), ListMark::Bullet);
        assert_eq!(list_mark("2015 was a year"), ListMark::None);
        assert_eq!(list_mark("3.5 million people"), ListMark::None);
        assert_eq!(list_mark("*emphasis*"), ListMark::None);
    }

    #[test]
    fn a_numbered_list_after_the_last_paragraph_is_the_articles() {
        let intro = "Here are the most downloaded apps of the past week in both stores, ranked by the figures the analytics company published on Monday for all countries.";
        let text = format!(
            "Most downloaded apps\n{intro}\n* Free apps\n1. Agar.io game\n2. Facebook Messenger app\n3. Facebook app\nPaid apps\n1. Minecraft Pocket Edition\n2. Goat Simulator\nLeave a comment\nRecent posts\n"
        );
        let out = run(&text);
        for (i, o) in out.iter().enumerate().take(9).skip(1) {
            assert!(o.is_none(), "block {i} is the article's list: {o:?}");
        }
        assert!(
            out[9].is_some() && out[10].is_some(),
            "chrome after the list goes"
        );
        // Bullets alone (a menu) do not extend the article.
        let text = format!("Title here\n{intro}\n* Home\n* World\n* Sports\n");
        let out = run(&text);
        assert!(out[2].is_some() && out[3].is_some() && out[4].is_some());
    }
}
