//! Blocks: the units the classifier keeps or strips. Text input gives one block per non-blank
//! line; HTML input gives one block per block-level element (see [`super::html`]), with DOM hints.

use super::lexicon::{is_alphanumeric, is_lowercase};

/// What the DOM says about a block (HTML mode only).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DomHints {
    /// Name of the innermost block element (`p`, `li`, `h2`, `td`, …).
    pub tag: String,
    /// Heading level 1–6 when the block is inside `h1`–`h6`.
    pub heading: Option<u8>,
    /// Characters of the block that sit inside links.
    pub link_chars: usize,
    /// Characters of the block.
    pub chars: usize,
    /// Why an ancestor marks this block as chrome (`<nav>`, `class="related"`, …), if one does.
    pub negative: Option<String>,
    /// Whether an ancestor marks this block as the article (`<article>`, `itemprop=articleBody`,
    /// `class="entry-content"`, …).
    pub positive: bool,
    /// Index of the nearest container element (for grouping blocks that share a parent).
    pub container: u32,
    /// Whether the block is inside a list item.
    pub in_list: bool,
    /// Ids of the open elements around the block, outermost first (for finding the article's
    /// container).
    pub path: Vec<u32>,
    /// Id of the element declared as the article body (`itemprop="articleBody"`) around the
    /// block, if any.
    pub article_body: Option<u32>,
}

impl DomHints {
    /// Share of the block's characters inside links.
    pub fn link_density(&self) -> f32 {
        if self.chars == 0 {
            0.0
        } else {
            self.link_chars as f32 / self.chars as f32
        }
    }
}

/// One block: a byte range of the base text (the input text, or the decoded page's block text),
/// already trimmed of surrounding whitespace.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// Start byte offset in the base text.
    pub start: usize,
    /// End byte offset, exclusive.
    pub end: usize,
    /// DOM hints in HTML mode.
    pub dom: Option<DomHints>,
}

impl Block {
    /// The block's text.
    pub fn text<'a>(&self, base: &'a str) -> &'a str {
        base.get(self.start..self.end).unwrap_or("")
    }
}

/// Split text into blocks, one per non-blank line (`\n`, `\r\n` or `\r` endings), trimmed.
///
/// Hard-wrapped prose (mail, plain-text pages, PDF extractions) is joined back: a line that
/// stops mid-sentence and is followed by a line starting in lower case is one block with it,
/// even across one blank line (see [`continues`]).
pub fn text_blocks(text: &str) -> Vec<Block> {
    let bytes = text.as_bytes();
    // Line ends found in SIMD steps by one iterator over the text. Room for a block per 64
    // bytes (news lines are longer), grown if need be.
    let mut ends = memchr::memchr2_iter(b'\n', b'\r', bytes);
    let mut blocks: Vec<Block> = Vec::with_capacity((bytes.len() / 64).min(4096) + 4);
    let mut line_start = 0;
    loop {
        // The next line ending at or after `line_start` (the `\n` of a `\r\n` is skipped).
        let found = ends.by_ref().find(|&p| p >= line_start);
        let i = found.unwrap_or(bytes.len());
        let before = blocks.len();
        push_trimmed(text, line_start, i, &mut blocks);
        if blocks.len() == before + 1 && before > 0 {
            let (prev, line) = (&blocks[before - 1], &blocks[before]);
            let gap = text.get(prev.end..line.start).unwrap_or("");
            if continues(prev.text(text), line.text(text)) && gap.matches('\n').count() <= 2 {
                let end = line.end;
                blocks.pop();
                if let Some(prev) = blocks.last_mut() {
                    prev.end = end;
                }
            }
        }
        let Some(mut i) = found else {
            break;
        };
        if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
            i += 1;
        }
        line_start = i + 1;
    }
    blocks
}

/// Whether `next` continues the sentence `prev` was cut in by a hard wrap: `prev` is a prose
/// line (at least 30 bytes and 5 words) that ends without closing punctuation, and `next`
/// starts with a lower-case letter (possibly after an opening bracket or quote). Scripts
/// without case never join: nothing tells a wrap from a new block there.
pub fn continues(prev: &str, next: &str) -> bool {
    let Some(last) = prev.chars().next_back() else {
        return false;
    };
    let open_end = is_alphanumeric(last) || matches!(last, ',' | '-' | '\u{2013}' | '(');
    if !open_end || prev.len() < 30 {
        return false;
    }
    let first = next
        .chars()
        .find(|c| !matches!(c, '(' | '"' | '\'' | '\u{201c}' | '\u{2018}'));
    first.is_some_and(is_lowercase) && prev.split_whitespace().nth(4).is_some()
}

fn push_trimmed(text: &str, start: usize, end: usize, out: &mut Vec<Block>) {
    let Some(line) = text.get(start..end) else {
        return;
    };
    let trimmed_start = line.trim_start();
    let lead = line.len() - trimmed_start.len();
    let trimmed = trimmed_start.trim_end();
    if trimmed.is_empty() {
        return;
    }
    out.push(Block {
        start: start + lead,
        end: start + lead + trimmed.len(),
        dom: None,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_trimmed_and_blank_lines_skipped() {
        let t = "  one \r\n\n two\rthree";
        let b = text_blocks(t);
        let texts: Vec<&str> = b.iter().map(|b| b.text(t)).collect();
        assert_eq!(texts, vec!["one", "two", "three"]);
        assert_eq!(&t[b[0].start..b[0].end], "one");
    }

    #[test]
    fn hard_wrapped_prose_is_one_block_and_lists_are_not() {
        let t = "Using the vector space model for retrieval models all pages\n\nand queries \
                 as sparse vectors. Each item in the vector\nrepresents a keyword.\n\
                 The next paragraph starts here.\nhome\nnews\nsport";
        let b = text_blocks(t);
        let texts: Vec<&str> = b.iter().map(|b| b.text(t)).collect();
        assert_eq!(texts.len(), 5, "{texts:?}");
        assert!(texts[0].starts_with("Using") && texts[0].ends_with("keyword."));
        assert_eq!(
            &texts[1..],
            ["The next paragraph starts here.", "home", "news", "sport"]
        );
    }

    #[test]
    fn a_finished_sentence_or_a_capital_starts_a_new_block() {
        assert!(!continues(
            "The minister arrived in the capital on Monday.",
            "and left"
        ));
        assert!(!continues(
            "The minister arrived in the capital on Monday",
            "And left"
        ));
        assert!(!continues("Short line", "and more"));
        assert!(continues(
            "The minister arrived in the capital on Monday",
            "(and left)"
        ));
    }

    #[test]
    fn empty_text_has_no_blocks() {
        assert!(text_blocks("").is_empty());
        assert!(text_blocks("\n \n").is_empty());
    }
}
