//! Boilerplate stripping: turn a page (HTML) or extracted text into the article text, and say
//! what was removed and why.
//!
//! The stages, one module each:
//!
//! | stage | module |
//! |---|---|
//! | text → blocks (one per line) | [`blocks`] |
//! | HTML bytes → charset → tokens → blocks with DOM hints | [`html`] |
//! | phrase lexicon and stop words, as data files | [`lexicon`] |
//! | features → prose classes → main run → keep/strip with kind and reason | [`rules`] |
//! | a block's word, character and mark counts in one byte pass (for the features) | [`scan`] |
//! | lines recurring across a source's stories → learned chrome | [`frequency`] |
//!
//! Offsets of removed spans are byte offsets into the input text (text mode) or into the decoded
//! page's block text (HTML mode: the visible text of the page, one block-level element per line,
//! whitespace collapsed — what [`html::parse`] returns). The clean text is the kept blocks joined
//! by `\n`: stripping never adds text.

pub mod blocks;
pub mod frequency;
pub mod html;
pub mod lexicon;
pub mod rules;
pub mod scan;

use crate::document::Content;
use crate::Result;
use std::sync::Arc;

pub use frequency::{FrequencyConfig, FrequencyState, LineFrequency};

/// Largest input accepted, in bytes.
pub const MAX_INPUT: usize = 64 << 20;

/// How to read the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputFormat {
    /// Extracted text, one block per line.
    Text,
    /// Raw HTML.
    Html,
    /// Decide from the content.
    #[default]
    Auto,
}

/// A span of the input that was removed, with its kind and the reason.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RemovedSpan {
    /// Start byte offset in the input text (or in the decoded HTML text).
    pub start: usize,
    /// End byte offset, exclusive.
    pub end: usize,
    /// Kind of boilerplate, e.g. `related-teaser`, `navigation`, `share`.
    pub kind: String,
    /// Why it was removed.
    pub reason: String,
}

/// The article text and what was removed to get it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Cleaned {
    /// The article text, blocks separated by newlines.
    pub text: String,
    /// Every removed span.
    pub removed: Vec<RemovedSpan>,
    /// Keys of the input's blocks, for [`Stripper::learn`] once the document's story (duplicate
    /// cluster) is known. Not part of the output.
    #[serde(skip)]
    pub line_keys: Vec<u64>,
    /// The text the removed spans' offsets index into: the input text, or in HTML mode the
    /// decoded page's block text (one block per line, tags gone). Not part of the output; empty
    /// when the result came from a remote server. Shared with the [`Analysis`] it was decided
    /// from, so a decision copies no text.
    #[serde(skip)]
    pub span_base: Arc<String>,
}

impl Cleaned {
    /// The text of a removed span ("" if the span does not index into [`Cleaned::span_base`]).
    pub fn removed_text(&self, span: &RemovedSpan) -> &str {
        self.span_base.get(span.start..span.end).unwrap_or("")
    }
}

/// Strips boilerplate. Holds what it has learned about recurring lines (per source) so that one
/// instance serves one namespace. `&self` methods; safe to share across threads.
#[derive(Debug, Default)]
pub struct Stripper {
    freq: LineFrequency,
}

/// A document's blocks and their features: everything [`Stripper::decide`] needs besides what
/// was learned. See [`Stripper::analyze`].
#[derive(Debug, Clone)]
pub struct Analysis {
    base: Arc<String>,
    blocks: Vec<blocks::Block>,
    feats: Vec<rules::Features>,
    /// The blocks' folded texts, one after the other ([`rules::Features::folded`]).
    folded: String,
    line_keys: Vec<u64>,
}

/// The text the blocks point into and the blocks, for either input kind.
struct Prepared {
    base: String,
    blocks: Vec<blocks::Block>,
}

impl Stripper {
    /// A stripper that has learned nothing yet.
    pub fn new() -> Self {
        Stripper::default()
    }

    /// A stripper with explicit learned-chrome settings.
    pub fn with_config(config: FrequencyConfig) -> Self {
        Stripper {
            freq: LineFrequency::new(config),
        }
    }

    /// A stripper resuming from a learned-chrome snapshot (see [`Stripper::export`]).
    pub fn import(state: FrequencyState) -> Result<Self> {
        Ok(Stripper {
            freq: LineFrequency::import(state)?,
        })
    }

    /// Snapshot of the learned chrome, for the store to persist.
    pub fn export(&self) -> FrequencyState {
        self.freq.export()
    }

    /// Clean one document body. `source` names the site, if known.
    pub fn clean(
        &self,
        content: &Content,
        format: InputFormat,
        source: Option<&str>,
    ) -> Result<Cleaned> {
        let analysis = self.analyze(content, format)?;
        let learned = self.learned(source, &analysis);
        Ok(self.decide(&analysis, &learned, source))
    }

    /// The part of [`clean`](Self::clean) that does not depend on what the stripper has
    /// learned (blocks and their features): the costly part, done once per document even when
    /// the decision is taken again later (see [`decide`](Self::decide)).
    pub fn analyze(&self, content: &Content, format: InputFormat) -> Result<Analysis> {
        check_size(content)?;
        Ok(analysis_of(prepare(content, format)))
    }

    /// [`analyze`](Self::analyze) taking the body: a plain-text body becomes the analysis's
    /// base text as it is, without a copy.
    pub fn analyze_owned(&self, content: Content, format: InputFormat) -> Result<Analysis> {
        check_size(&content)?;
        let prepared = match content {
            Content::Text(text) if !is_html(&text, format) => Prepared {
                blocks: blocks::text_blocks(&text),
                base: text,
            },
            other => prepare(&other, format),
        };
        Ok(analysis_of(prepared))
    }

    /// What the stripper has learned about the analysed document's lines now: for each block,
    /// the number of earlier stories of `source` it was seen in, when that makes it chrome.
    /// The decision depends on the learned state only through this.
    pub fn learned(&self, source: Option<&str>, analysis: &Analysis) -> Vec<Option<u32>> {
        self.freq.lookup(source, &analysis.line_keys)
    }

    /// Keep or strip each block of an analysed document given what was learned (see
    /// [`learned`](Self::learned)): cheap, and equal to [`clean`](Self::clean) when `learned`
    /// is current.
    pub fn decide(
        &self,
        analysis: &Analysis,
        learned: &[Option<u32>],
        source: Option<&str>,
    ) -> Cleaned {
        let decisions = rules::classify(&rules::Input {
            base: &analysis.base,
            blocks: &analysis.blocks,
            feats: &analysis.feats,
            folded: &analysis.folded,
            learned,
            source,
        });
        // Room for the kept blocks and their separators (reflowing only shortens them).
        let kept: usize = analysis
            .blocks
            .iter()
            .zip(&decisions)
            .filter(|(_, d)| d.is_none())
            .map(|(b, _)| b.end - b.start + 1)
            .sum();
        let mut text = String::with_capacity(kept);
        let mut removed = Vec::with_capacity(decisions.iter().filter(|d| d.is_some()).count());
        for (block, decision) in analysis.blocks.iter().zip(decisions) {
            match decision {
                None => {
                    if !text.is_empty() {
                        text.push('\n');
                    }
                    push_reflowed(&mut text, block.text(&analysis.base));
                }
                Some(strip) => removed.push(RemovedSpan {
                    start: block.start,
                    end: block.end,
                    kind: strip.kind.to_string(),
                    reason: strip.reason,
                }),
            }
        }
        Cleaned {
            text,
            removed,
            line_keys: analysis.line_keys.clone(),
            span_base: Arc::clone(&analysis.base),
        }
    }

    /// Record the blocks of a document that joined `story` (its duplicate cluster), so that lines
    /// recurring across many *stories* of one source are later stripped as chrome. A story counts
    /// once however many copies of it arrive.
    /// Returns whether which of the source's lines are learned chrome may have changed (see
    /// [`LineFrequency::learn`]).
    pub fn learn(&self, source: Option<&str>, line_keys: &[u64], story: &str) -> bool {
        self.freq.learn(source, line_keys, story)
    }
}

/// Key of a block for learned chrome: xxh3-64 of its folded text (the folded prefix the
/// classifier looks at) seeded with the block's byte length.
pub fn line_key(text: &str) -> u64 {
    let mut folded = String::new();
    rules::features(text, &mut folded);
    key_of(&folded, text.len())
}

/// The largest character boundary of `s` at or below `i` (`s.len()` when `i` is past the end):
/// where to cut a prefix of at most `i` bytes.
pub(crate) fn floor_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn key_of(folded: &str, len: usize) -> u64 {
    xxhash_rust::xxh3::xxh3_64_with_seed(folded.as_bytes(), len as u64)
}

/// Refuse a body over [`MAX_INPUT`].
fn check_size(content: &Content) -> Result<()> {
    let len = match content {
        Content::Text(t) => t.len(),
        Content::Html(h) => h.len(),
    };
    if len > MAX_INPUT {
        return Err(crate::Error::TooLarge {
            field: "document.content",
            limit: MAX_INPUT,
            actual: len,
        });
    }
    Ok(())
}

/// The features and line keys of prepared blocks.
fn analysis_of(prepared: Prepared) -> Analysis {
    // Room for every block's folded head (folding seldom lengthens a text).
    let heads: usize = prepared
        .blocks
        .iter()
        .map(|b| (b.end - b.start).min(420))
        .sum();
    let mut folded = String::with_capacity(heads);
    let feats: Vec<rules::Features> = prepared
        .blocks
        .iter()
        .map(|b| rules::features(b.text(&prepared.base), &mut folded))
        .collect();
    let line_keys: Vec<u64> = prepared
        .blocks
        .iter()
        .zip(&feats)
        .map(|(b, f)| key_of(f.folded(&folded), b.end - b.start))
        .collect();
    Analysis {
        base: Arc::new(prepared.base),
        blocks: prepared.blocks,
        feats,
        folded,
        line_keys,
    }
}

/// Whether a text body is read as HTML.
fn is_html(text: &str, format: InputFormat) -> bool {
    match format {
        InputFormat::Html => true,
        InputFormat::Text => false,
        InputFormat::Auto => html::looks_like_html(text),
    }
}

fn prepare(content: &Content, format: InputFormat) -> Prepared {
    let decoded = match content {
        Content::Text(t) => std::borrow::Cow::Borrowed(t.as_str()),
        Content::Html(b) => std::borrow::Cow::Owned(html::decode(b)),
    };
    if is_html(&decoded, format) {
        let page = html::parse(&decoded);
        Prepared {
            base: page.text,
            blocks: page.blocks,
        }
    } else {
        let base = decoded.into_owned();
        let blocks = blocks::text_blocks(&base);
        Prepared { base, blocks }
    }
}

/// Append a kept block, with the line breaks of hard-wrapped prose (a block spanning several
/// input lines) turned into single spaces, so the sentence reads, and shingles, as one.
fn push_reflowed(out: &mut String, block: &str) {
    if memchr::memchr2(b'\n', b'\r', block.as_bytes()).is_none() {
        out.push_str(block);
        return;
    }
    let mut words = block.split_whitespace();
    if let Some(first) = words.next() {
        out.push_str(first);
    }
    for word in words {
        out.push(' ');
        out.push_str(word);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_point_into_the_input_and_text_is_kept_blocks() {
        let body = "The council met on Tuesday to discuss the closure of the old bridge, which has been in poor repair for years and is no longer safe for heavy traffic.";
        let input = format!("Home\nBridge to close\n{body}\nShare this story\n");
        let c = Stripper::new()
            .clean(&Content::Text(input.clone()), InputFormat::Text, None)
            .unwrap();
        assert_eq!(c.text, format!("Bridge to close\n{body}"));
        assert_eq!(c.removed.len(), 2);
        assert_eq!(&input[c.removed[0].start..c.removed[0].end], "Home");
        assert_eq!(c.removed[1].kind, "share");
        assert_eq!(c.line_keys.len(), 4);
    }

    #[test]
    fn learned_lines_are_stripped_after_three_stories() {
        let s = Stripper::new();
        let body = |n: u32| {
            format!("Story number {n} tells of the minister who met the council on Tuesday to discuss the bridge, which is no longer safe.")
        };
        for n in 0..3 {
            let doc = format!("{}\nMost read: a headline of the day\n", body(n));
            let c = s
                .clean(&Content::Text(doc), InputFormat::Text, Some("site"))
                .unwrap();
            s.learn(Some("site"), &c.line_keys, &format!("story-{n}"));
        }
        let doc = format!("Most read: a headline of the day\n{}", body(9));
        let c = s
            .clean(&Content::Text(doc), InputFormat::Text, Some("site"))
            .unwrap();
        assert_eq!(c.text, body(9));
        assert_eq!(c.removed[0].kind, "learned-chrome");
        assert_eq!(
            c.removed[0].reason,
            "line seen in 3 earlier stories of site"
        );
        // Without a source the stream's lines are counted, and the reason says so.
        let analysis = s
            .analyze(
                &Content::Text(format!("Most read: a headline of the day\n{}", body(9))),
                InputFormat::Text,
            )
            .unwrap();
        let c = s.decide(&analysis, &[Some(7), None], None);
        assert_eq!(
            c.removed[0].reason,
            "line seen in 7 earlier stories of the stream"
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        /// The document's one buffer of folded texts holds, for each block, what folding the
        /// block alone gives, and the line keys are those of the blocks alone.
        #[test]
        fn shared_folded_buffer_is_each_blocks_own_fold(
            lines in proptest::collection::vec(lexicon::tests::tricky_text(), 1..8)
        ) {
            let text = lines.join("\n");
            let a = Stripper::new()
                .analyze(&Content::Text(text.clone()), InputFormat::Text)
                .unwrap();
            proptest::prop_assert_eq!(a.feats.len(), a.blocks.len());
            for (i, (b, f)) in a.blocks.iter().zip(&a.feats).enumerate() {
                let block = b.text(&a.base);
                let head = floor_boundary(block, 420);
                proptest::prop_assert_eq!(f.folded(&a.folded), lexicon::fold(&block[..head]));
                proptest::prop_assert_eq!(a.line_keys[i], line_key(block));
            }
        }
    }

    #[test]
    fn oversized_input_is_a_typed_error() {
        let big = vec![b'a'; MAX_INPUT + 1];
        let err = Stripper::new()
            .clean(&Content::Html(big), InputFormat::Auto, None)
            .unwrap_err();
        assert!(matches!(err, crate::Error::TooLarge { .. }));
        let err = Stripper::new()
            .analyze_owned(Content::Text("a".repeat(MAX_INPUT + 1)), InputFormat::Text)
            .unwrap_err();
        assert!(matches!(err, crate::Error::TooLarge { .. }));
    }

    #[test]
    fn taking_the_body_decides_as_borrowing_it() {
        let body = "The council met on Tuesday to discuss the closure of the old bridge, which has been in poor repair for years and is no longer safe for heavy traffic.";
        let text = format!("Home\nBridge to close\n{body}\nShare this story\n");
        let page = format!("<html><body><nav>Home | News</nav><p>{body}</p><footer>Share this story</footer></body></html>");
        let stripper = Stripper::new();
        for (content, format) in [
            (Content::Text(text.clone()), InputFormat::Auto),
            (Content::Text(text), InputFormat::Html),
            (Content::Text(page.clone()), InputFormat::Auto),
            (Content::Text(page.clone()), InputFormat::Text),
            (Content::Html(page.into_bytes()), InputFormat::Auto),
        ] {
            let borrowed = stripper.analyze(&content, format).unwrap();
            let owned = stripper.analyze_owned(content.clone(), format).unwrap();
            let learned = vec![None; borrowed.line_keys.len()];
            assert_eq!(owned.line_keys, borrowed.line_keys, "{format:?}");
            assert_eq!(
                stripper.decide(&owned, &learned, None),
                stripper.decide(&borrowed, &learned, None),
                "{format:?}"
            );
        }
    }
}
