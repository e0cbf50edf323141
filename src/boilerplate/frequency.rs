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

use parking_lot::RwLock;

/// How many recent story ids each line remembers to count a story once.
const RECENT: usize = 6;

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

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct LineStat {
    /// Distinct stories that contained the line (halved on decay).
    stories: u32,
    /// Hashes of the most recent stories that counted it.
    recent: Vec<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Scope {
    lines: HashMap<u64, LineStat>,
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
#[derive(Debug, Default)]
pub struct LineFrequency {
    config: FrequencyConfig,
    scopes: RwLock<HashMap<String, Scope>>,
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

    /// Count the document's lines for `story`, once per story.
    pub fn learn(&self, source: Option<&str>, keys: &[u64], story: &str) {
        if keys.is_empty() {
            return;
        }
        let story_hash = xxhash_rust::xxh3::xxh3_64(story.as_bytes());
        let mut scopes = self.scopes.write();
        let name = scope_name(source);
        if !scopes.contains_key(name) && scopes.len() >= self.config.max_scopes {
            if let Some(victim) = scopes
                .iter()
                .min_by_key(|(_, s)| s.stories)
                .map(|(n, _)| n.clone())
            {
                scopes.remove(&victim);
            }
        }
        let scope = scopes.entry(name.to_string()).or_default();
        let mut new_story = false;
        let mut seen_in_doc: Vec<u64> = Vec::with_capacity(keys.len());
        for &k in keys {
            if seen_in_doc.contains(&k) {
                continue;
            }
            seen_in_doc.push(k);
            let stat = scope.lines.entry(k).or_default();
            if stat.recent.contains(&story_hash) {
                continue;
            }
            new_story = true;
            stat.stories = stat.stories.saturating_add(1);
            if stat.recent.len() >= RECENT {
                stat.recent.remove(0);
            }
            stat.recent.push(story_hash);
        }
        if new_story {
            scope.stories += 1;
        }
        if scope.lines.len() > self.config.max_lines_per_scope {
            evict(scope, self.config.max_lines_per_scope);
        }
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
                        recent: v.recent.clone(),
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
                    .map(|l| {
                        (
                            l.key,
                            LineStat {
                                stories: l.stories,
                                recent: l.recent,
                            },
                        )
                    })
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

    #[test]
    fn is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<LineFrequency>();
    }
}
