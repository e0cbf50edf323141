//! Learned chrome: lines that recur across many earlier *stories* of one source (or of the whole
//! stream when no source is given) are site chrome — headers, footers, "most read" boxes, widget
//! strings — even when no phrase list knows them (CCNet-style line frequency, but online).
//!
//! A line counts once per story (duplicate cluster), not per document: three copies of one story
//! must not turn that story's own paragraphs into "chrome". Each line remembers the last few
//! stories that counted it, so a copy arriving later does not count again.
//!
//! Memory is bounded: each scope keeps at most `max_lines_per_scope` lines; when full, lines seen
//! in a single story are dropped first, then counts are halved (old chrome fades slowly, one-off
//! lines fast). At most `max_scopes` sources are tracked; the one with the fewest stories goes
//! first. All methods take `&self`; one `RwLock` guards the tables because `clean` (read) is far
//! more frequent than `learn` (write) and both are short.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use parking_lot::RwLock;

/// How many recent story ids each line remembers to count a story once.
const RECENT: usize = 6;

/// Builds [`KeyHasher`]s with a seed drawn once per table.
#[derive(Debug, Clone, Copy)]
struct KeyHashing {
    seed: u64,
}

impl Default for KeyHashing {
    fn default() -> Self {
        // A random seed (std's per-process keys), so nobody can choose line keys that all
        // land in one probe sequence; the tables' contents do not depend on it.
        let mut h = std::hash::RandomState::new().build_hasher();
        h.write_u64(0x6c69_6e65_6b65_7973);
        KeyHashing { seed: h.finish() }
    }
}

impl BuildHasher for KeyHashing {
    type Hasher = KeyHasher;
    fn build_hasher(&self) -> KeyHasher {
        KeyHasher(self.seed)
    }
}

/// Hasher of line keys, which are xxh3 hashes already: one folded multiply of the key with
/// the table's seed instead of SipHash over its bytes.
#[derive(Debug, Clone, Copy)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Not used by u64 keys; kept correct for any other.
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        let m = u128::from(n ^ self.0) * u128::from(0x9E37_79B9_7F4A_7C15u64);
        self.0 = (m as u64) ^ ((m >> 64) as u64);
    }
}

/// Settings of learned chrome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FrequencyConfig {
    /// A line seen in this many distinct earlier stories of a source is chrome.
    pub min_stories: u32,
    /// Lines tracked per source before eviction.
    pub max_lines_per_scope: usize,
    /// Sources tracked before eviction.
    pub max_scopes: usize,
}

impl Default for FrequencyConfig {
    fn default() -> Self {
        FrequencyConfig {
            min_stories: 3,
            max_lines_per_scope: 50_000,
            max_scopes: 10_000,
        }
    }
}

/// One tracked line, inline (no allocation per line).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct LineStat {
    /// Distinct stories that contained the line (halved on decay).
    stories: u32,
    /// How many of `recent` are used.
    len: u8,
    /// Hashes of the most recent stories that counted it, oldest first.
    recent: [u64; RECENT],
}

impl LineStat {
    fn recent(&self) -> &[u64] {
        &self.recent[..usize::from(self.len)]
    }

    /// Remember `story`, forgetting the oldest when full.
    fn push(&mut self, story: u64) {
        let len = usize::from(self.len);
        if len >= RECENT {
            self.recent.copy_within(1.., 0);
            self.recent[RECENT - 1] = story;
        } else {
            self.recent[len] = story;
            self.len += 1;
        }
    }

    /// From a snapshot: its latest `RECENT` stories.
    fn from_state(stories: u32, recent: &[u64]) -> Self {
        let mut stat = LineStat {
            stories,
            ..LineStat::default()
        };
        for &r in &recent[recent.len().saturating_sub(RECENT)..] {
            stat.push(r);
        }
        stat
    }
}

#[derive(Debug, Clone, Default)]
struct Scope {
    lines: HashMap<u64, LineStat, KeyHashing>,
    /// Stories learned in this scope.
    stories: u64,
}

/// Plain, serializable snapshot of what was learned, for the store to persist.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FrequencyState {
    /// Format version of this snapshot.
    pub version: u32,
    /// The settings in force.
    pub config: FrequencyConfig,
    /// One entry per source; the empty source is the stream.
    pub scopes: Vec<ScopeState>,
}

/// What was learned about one source.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScopeState {
    /// The source (empty = the whole stream).
    pub source: String,
    /// Stories learned.
    pub stories: u64,
    /// Lines, sorted by key.
    pub lines: Vec<LineState>,
}

/// One tracked line.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LineState {
    /// Line key ([`super::line_key`]).
    pub key: u64,
    /// Distinct stories that contained it.
    pub stories: u32,
    /// Hashes of the latest stories that counted it.
    pub recent: Vec<u64>,
}

/// Version of [`FrequencyState`].
pub const STATE_VERSION: u32 = 1;

/// Online line-frequency table per source.
#[derive(Default)]
pub struct LineFrequency {
    config: FrequencyConfig,
    scopes: RwLock<HashMap<String, Scope>>,
}

/// Prints sizes, not the tables (they can hold millions of lines).
impl std::fmt::Debug for LineFrequency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scopes = self.scopes.read();
        f.debug_struct("LineFrequency")
            .field("config", &self.config)
            .field("sources", &scopes.len())
            .field(
                "lines",
                &scopes.values().map(|s| s.lines.len()).sum::<usize>(),
            )
            .finish()
    }
}

fn scope_name(source: Option<&str>) -> &str {
    source.unwrap_or("")
}

impl LineFrequency {
    /// An empty table with the given settings.
    pub fn new(config: FrequencyConfig) -> Self {
        LineFrequency {
            config,
            scopes: RwLock::new(HashMap::new()),
        }
    }

    /// The settings.
    pub fn config(&self) -> FrequencyConfig {
        self.config
    }

    /// For each key: `Some(stories)` when the line is learned chrome in this source.
    pub fn lookup(&self, source: Option<&str>, keys: &[u64]) -> Vec<Option<u32>> {
        let scopes = self.scopes.read();
        let Some(scope) = scopes.get(scope_name(source)) else {
            return vec![None; keys.len()];
        };
        keys.iter()
            .map(|k| {
                scope
                    .lines
                    .get(k)
                    .map(|s| s.stories)
                    .filter(|&n| n >= self.config.min_stories)
            })
            .collect()
    }

    /// Count the document's lines for `story`, once per story. Returns whether which lines of
    /// the source are learned chrome ([`lookup`](Self::lookup) gives `Some`) may have changed:
    /// a line reached `min_stories`, or lines were dropped or decayed to make room, or a whole
    /// source was dropped for a new one. When false, every line is chrome or not exactly as
    /// before (only counts grew).
    pub fn learn(&self, source: Option<&str>, keys: &[u64], story: &str) -> bool {
        if keys.is_empty() {
            return false;
        }
        let mut chrome_changed = false;
        let story_hash = xxhash_rust::xxh3::xxh3_64(story.as_bytes());
        let mut scopes = self.scopes.write();
        let name = scope_name(source);
        if !scopes.contains_key(name) {
            if scopes.len() >= self.config.max_scopes {
                // The source with the fewest stories goes; among equals the smallest name,
                // so which one does not depend on the map's order.
                if let Some(victim) = scopes
                    .iter()
                    .min_by(|a, b| a.1.stories.cmp(&b.1.stories).then_with(|| a.0.cmp(b.0)))
                    .map(|(n, _)| n.clone())
                {
                    scopes.remove(&victim);
                    chrome_changed = true;
                }
            }
            scopes.insert(name.to_string(), Scope::default());
        }
        let Some(scope) = scopes.get_mut(name) else {
            return chrome_changed;
        };
        let mut new_story = false;
        for &k in keys {
            // A line repeated in the document finds the story already in its `recent` (put
            // there by its first occurrence), so it counts once without a per-document set.
            let stat = scope.lines.entry(k).or_default();
            if stat.recent().contains(&story_hash) {
                continue;
            }
            new_story = true;
            stat.stories = stat.stories.saturating_add(1);
            chrome_changed |= stat.stories == self.config.min_stories;
            stat.push(story_hash);
        }
        if new_story {
            scope.stories += 1;
        }
        if scope.lines.len() > self.config.max_lines_per_scope {
            evict(scope, self.config.max_lines_per_scope);
            chrome_changed = true;
        }
        chrome_changed
    }

    /// Number of lines tracked over all sources.
    pub fn len(&self) -> usize {
        self.scopes.read().values().map(|s| s.lines.len()).sum()
    }

    /// Whether nothing was learned.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Snapshot of the tables.
    pub fn export(&self) -> FrequencyState {
        let scopes = self.scopes.read();
        let mut out: Vec<_> = scopes
            .iter()
            .map(|(name, s)| {
                let mut lines: Vec<LineState> = s
                    .lines
                    .iter()
                    .map(|(k, v)| LineState {
                        key: *k,
                        stories: v.stories,
                        recent: v.recent().to_vec(),
                    })
                    .collect();
                lines.sort_unstable_by_key(|l| l.key);
                ScopeState {
                    source: name.clone(),
                    stories: s.stories,
                    lines,
                }
            })
            .collect();
        out.sort_by(|a, b| a.source.cmp(&b.source));
        FrequencyState {
            version: STATE_VERSION,
            config: self.config,
            scopes: out,
        }
    }

    /// Rebuild a table from a snapshot.
    pub fn import(state: FrequencyState) -> crate::Result<Self> {
        if state.version != STATE_VERSION {
            return Err(crate::Error::Decode {
                what: "boilerplate frequency state",
                message: format!("version {} (expected {STATE_VERSION})", state.version),
            });
        }
        let mut scopes = HashMap::new();
        for sc in state.scopes {
            let scope = Scope {
                stories: sc.stories,
                lines: sc
                    .lines
                    .into_iter()
                    .map(|l| (l.key, LineStat::from_state(l.stories, &l.recent)))
                    .collect(),
            };
            scopes.insert(sc.source, scope);
        }
        Ok(LineFrequency {
            config: state.config,
            scopes: RwLock::new(scopes),
        })
    }
}

fn evict(scope: &mut Scope, cap: usize) {
    scope.lines.retain(|_, s| s.stories > 1);
    while scope.lines.len() > cap * 3 / 4 {
        for s in scope.lines.values_mut() {
            s.stories /= 2;
        }
        scope.lines.retain(|_, s| s.stories > 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_becomes_chrome_after_enough_distinct_stories() {
        let f = LineFrequency::new(FrequencyConfig::default());
        f.learn(Some("site"), &[1, 2], "a");
        f.learn(Some("site"), &[1, 3], "b");
        assert_eq!(f.lookup(Some("site"), &[1]), vec![None]);
        f.learn(Some("site"), &[1, 4], "c");
        assert_eq!(f.lookup(Some("site"), &[1, 2]), vec![Some(3), None]);
        // Other sources and the stream are separate.
        assert_eq!(f.lookup(Some("other"), &[1]), vec![None]);
        assert_eq!(f.lookup(None, &[1]), vec![None]);
    }

    #[test]
    fn copies_of_one_story_count_once() {
        let f = LineFrequency::new(FrequencyConfig::default());
        for _ in 0..5 {
            f.learn(None, &[7, 7, 8], "story-1");
        }
        assert_eq!(f.lookup(None, &[7, 8]), vec![None, None]);
    }

    #[test]
    fn memory_is_bounded() {
        let cfg = FrequencyConfig {
            max_lines_per_scope: 100,
            ..FrequencyConfig::default()
        };
        let f = LineFrequency::new(cfg);
        for i in 0..1000u64 {
            f.learn(None, &[i, 5_000_000], &i.to_string());
        }
        assert!(f.len() <= 101);
        assert!(
            f.lookup(None, &[5_000_000])[0].is_some(),
            "frequent chrome survives eviction"
        );
    }

    #[test]
    fn export_import_round_trips() {
        let f = LineFrequency::new(FrequencyConfig::default());
        for s in ["a", "b", "c"] {
            f.learn(Some("x"), &[9], s);
        }
        let state = f.export();
        let json = serde_json::to_string(&state).unwrap();
        let back: FrequencyState = serde_json::from_str(&json).unwrap();
        let g = LineFrequency::import(back).unwrap();
        assert_eq!(g.lookup(Some("x"), &[9]), vec![Some(3)]);
        assert_eq!(g.export(), state);
        let mut bad = state;
        bad.version = 99;
        assert!(LineFrequency::import(bad).is_err());
    }

    /// The counting as first written: std maps, a `Vec` of recent stories per line and a
    /// per-document set of lines already counted.
    #[derive(Default)]
    struct Reference {
        /// Per source: stories, and per line its stories and recent story hashes.
        scopes: HashMap<String, (u64, RefLines)>,
    }

    type RefLines = HashMap<u64, (u32, Vec<u64>)>;

    impl Reference {
        fn learn(
            &mut self,
            cfg: &FrequencyConfig,
            source: Option<&str>,
            keys: &[u64],
            story: &str,
        ) {
            if keys.is_empty() {
                return;
            }
            let story_hash = xxhash_rust::xxh3::xxh3_64(story.as_bytes());
            let name = scope_name(source);
            if !self.scopes.contains_key(name) && self.scopes.len() >= cfg.max_scopes {
                let victim = self
                    .scopes
                    .iter()
                    .min_by_key(|(n, s)| (s.0, (*n).clone()))
                    .map(|(n, _)| n.clone())
                    .unwrap();
                self.scopes.remove(&victim);
            }
            let (stories, lines) = self.scopes.entry(name.to_string()).or_default();
            let mut new_story = false;
            let mut seen_in_doc = Vec::new();
            for &k in keys {
                if seen_in_doc.contains(&k) {
                    continue;
                }
                seen_in_doc.push(k);
                let (n, recent) = lines.entry(k).or_default();
                if recent.contains(&story_hash) {
                    continue;
                }
                new_story = true;
                *n = n.saturating_add(1);
                if recent.len() >= RECENT {
                    recent.remove(0);
                }
                recent.push(story_hash);
            }
            if new_story {
                *stories += 1;
            }
            if lines.len() > cfg.max_lines_per_scope {
                lines.retain(|_, s| s.0 > 1);
                while lines.len() > cfg.max_lines_per_scope * 3 / 4 {
                    for s in lines.values_mut() {
                        s.0 /= 2;
                    }
                    lines.retain(|_, s| s.0 > 0);
                }
            }
        }

        fn export(&self, cfg: FrequencyConfig) -> FrequencyState {
            let mut scopes: Vec<ScopeState> = self
                .scopes
                .iter()
                .map(|(name, (stories, lines))| {
                    let mut lines: Vec<LineState> = lines
                        .iter()
                        .map(|(k, (n, recent))| LineState {
                            key: *k,
                            stories: *n,
                            recent: recent.clone(),
                        })
                        .collect();
                    lines.sort_unstable_by_key(|l| l.key);
                    ScopeState {
                        source: name.clone(),
                        stories: *stories,
                        lines,
                    }
                })
                .collect();
            scopes.sort_by(|a, b| a.source.cmp(&b.source));
            FrequencyState {
                version: STATE_VERSION,
                config: cfg,
                scopes,
            }
        }
    }

    /// Learns of (source 0–3, line keys of 24, story of 10): repeated lines, copies of a
    /// story, full scopes and too many sources all happen.
    fn learns() -> impl proptest::strategy::Strategy<Value = Vec<(u8, Vec<u64>, u8)>> {
        proptest::collection::vec(
            (0u8..4, proptest::collection::vec(0u64..24, 0..12), 0u8..10),
            0..120,
        )
    }

    proptest::proptest! {
        /// Whatever is learned (repeated lines, copies of a story, more than `RECENT` stories
        /// per line, full scopes and too many sources), the table holds exactly what the
        /// first, plain implementation held, and answers lookups the same.
        #[test]
        fn counts_as_the_plain_reference_does(
            docs in learns(),
            max_lines in 4usize..40,
            max_scopes in 1usize..4,
        ) {
            let cfg = FrequencyConfig {
                min_stories: 2,
                max_lines_per_scope: max_lines,
                max_scopes,
            };
            let f = LineFrequency::new(cfg);
            let mut r = Reference::default();
            let all: Vec<u64> = (0..24).collect();
            for (src, keys, story) in &docs {
                let source = (*src > 0).then(|| format!("s{src}"));
                let story = format!("story-{story}");
                f.learn(source.as_deref(), keys, &story);
                r.learn(&cfg, source.as_deref(), keys, &story);
                let want: Vec<Option<u32>> = r
                    .scopes
                    .get(scope_name(source.as_deref()))
                    .map(|(_, lines)| {
                        all.iter()
                            .map(|k| lines.get(k).map(|s| s.0).filter(|&n| n >= cfg.min_stories))
                            .collect()
                    })
                    .unwrap_or_else(|| vec![None; all.len()]);
                proptest::prop_assert_eq!(f.lookup(source.as_deref(), &all), want);
            }
            proptest::prop_assert_eq!(f.export(), r.export(cfg));
            let back = LineFrequency::import(f.export()).unwrap();
            proptest::prop_assert_eq!(back.export(), r.export(cfg));
        }

        /// A learn that says the chrome lines did not change leaves every line of every
        /// source chrome or not exactly as before (the engine then skips looking lines up
        /// again at commit).
        #[test]
        fn a_learn_that_reports_no_chrome_change_changes_none(
            docs in learns(),
            max_lines in 4usize..40,
            max_scopes in 1usize..4,
            min_stories in 1u32..4,
        ) {
            let cfg = FrequencyConfig {
                min_stories,
                max_lines_per_scope: max_lines,
                max_scopes,
            };
            let f = LineFrequency::new(cfg);
            let all: Vec<u64> = (0..24).collect();
            let chrome = |f: &LineFrequency| -> Vec<Vec<bool>> {
                (0u8..4)
                    .map(|src| {
                        let source = (src > 0).then(|| format!("s{src}"));
                        f.lookup(source.as_deref(), &all).iter().map(Option::is_some).collect()
                    })
                    .collect()
            };
            for (src, keys, story) in &docs {
                let source = (*src > 0).then(|| format!("s{src}"));
                let before = chrome(&f);
                let changed = f.learn(source.as_deref(), keys, &format!("story-{story}"));
                if !changed {
                    proptest::prop_assert_eq!(chrome(&f), before);
                }
            }
        }
    }

    #[test]
    fn is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<LineFrequency>();
    }
}
