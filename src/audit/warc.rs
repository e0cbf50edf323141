//! WARC / WARC.gz input: every `response` record of an HTTP 2xx HTML (or plain-text) page, and
//! every `resource` record of such a type, is one document.
//!
//! Framing is ours (bounded: a header block of at most [`MAX_HEADER_BYTES`], a body of at most
//! the item limit, larger bodies skipped without buffering); the header block is parsed by the
//! `warc` crate's parser. Decoding the HTTP message (status, `Transfer-Encoding: chunked`,
//! `Content-Encoding: gzip|deflate`, `Content-Type` with its `charset`) runs in [`decode`], off
//! the reading thread.
//! Other record types (`warcinfo`, `request`, `metadata`, `revisit`, …) are passed over.

use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::document::{Content, Document};
use crate::{Error, Result};

use super::source::{
    into_text, open_maybe_gzip, read_line_bounded, Decoded, DocumentSource, ItemError, Line, Raw,
    RawKind, SourceOptions,
};

/// Largest WARC header block read.
pub const MAX_HEADER_BYTES: usize = 1 << 20;

/// What the audit keeps of a WARC record's headers.
#[derive(Debug, Clone, Default)]
pub struct WarcMeta {
    /// `WARC-Type`, lower case.
    pub warc_type: String,
    /// `WARC-Record-ID` (the document id).
    pub record_id: String,
    /// `WARC-Target-URI`.
    pub target_uri: Option<String>,
    /// `WARC-Date` as seconds since the epoch.
    pub date: Option<i64>,
    /// The record's `Content-Type` (for `resource` records, the payload's type).
    pub content_type: Option<String>,
    /// Largest payload after de-chunking and decompression (0 = the default item limit).
    pub max_payload: usize,
}

/// A WARC file (plain or gzip, one member per record or one for all) read record by record.
pub struct WarcSource {
    name: String,
    reader: BufReader<Box<dyn Read + Send>>,
    record_no: u64,
    read: Arc<AtomicU64>,
    total: Option<u64>,
    max: usize,
    done: bool,
}

impl WarcSource {
    /// Open a WARC or WARC.gz file.
    pub fn open(path: &Path, opts: &SourceOptions) -> Result<Self> {
        let read = Arc::new(AtomicU64::new(0));
        let reader = open_maybe_gzip(path, read.clone())?;
        Ok(Self::with_reader(
            &path.display().to_string(),
            reader,
            read,
            std::fs::metadata(path).ok().map(|m| m.len()),
            opts,
        ))
    }

    /// A WARC stream from any reader (already decompressed).
    pub fn from_reader(name: &str, reader: Box<dyn Read + Send>, opts: &SourceOptions) -> Self {
        Self::with_reader(name, BufReader::new(reader), Arc::default(), None, opts)
    }

    fn with_reader(
        name: &str,
        reader: BufReader<Box<dyn Read + Send>>,
        read: Arc<AtomicU64>,
        total: Option<u64>,
        opts: &SourceOptions,
    ) -> Self {
        WarcSource {
            name: name.to_string(),
            reader,
            record_no: 0,
            read,
            total,
            max: opts.max_item_bytes,
            done: false,
        }
    }

    fn origin(&self) -> String {
        format!("{}#record {}", self.name, self.record_no)
    }

    fn fail(&mut self, message: String) -> Option<std::result::Result<Raw, ItemError>> {
        // The framing is lost: nothing after this point can be trusted.
        self.done = true;
        Some(Err(ItemError {
            origin: self.origin(),
            error: Error::Decode {
                what: "WARC record",
                message: format!("{message}; the rest of the file is skipped"),
            },
        }))
    }

    /// Read the next header block (skipping blank lines between records); None at the end.
    fn header_block(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        let mut block = Vec::new();
        let mut line = Vec::new();
        loop {
            match read_line_bounded(&mut self.reader, &mut line, MAX_HEADER_BYTES)? {
                Line::Eof => return Ok((!block.is_empty()).then_some(block)),
                Line::TooLong(_) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "header line over the limit",
                    ))
                }
                Line::Full if line.is_empty() => {
                    if block.is_empty() {
                        continue;
                    }
                    block.extend_from_slice(b"\r\n");
                    return Ok(Some(block));
                }
                Line::Full => {
                    if block.len() + line.len() + 2 > MAX_HEADER_BYTES {
                        return Err(std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            "header block over the limit",
                        ));
                    }
                    block.extend_from_slice(&line);
                    block.extend_from_slice(b"\r\n");
                }
            }
        }
    }
}

fn header_str(value: &[u8]) -> String {
    String::from_utf8_lossy(value).trim().to_string()
}

fn parse_meta(headers: &[(&str, &[u8])]) -> WarcMeta {
    let mut meta = WarcMeta::default();
    for (name, value) in headers {
        match name.to_ascii_lowercase().as_str() {
            "warc-type" => meta.warc_type = header_str(value).to_ascii_lowercase(),
            "warc-record-id" => meta.record_id = header_str(value),
            "warc-target-uri" => {
                let uri = header_str(value);
                // WARC 1.0 examples wrap the URI in angle brackets.
                let uri = uri
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string();
                meta.target_uri = Some(uri);
            }
            "warc-date" => {
                meta.date = time::OffsetDateTime::parse(
                    &header_str(value),
                    &time::format_description::well_known::Rfc3339,
                )
                .ok()
                .map(|t| t.unix_timestamp());
            }
            "content-type" => meta.content_type = Some(header_str(value)),
            _ => {}
        }
    }
    meta
}

impl DocumentSource for WarcSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn next_raw(&mut self) -> Option<std::result::Result<Raw, ItemError>> {
        while !self.done {
            self.record_no += 1;
            let block = match self.header_block() {
                Ok(Some(b)) => b,
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Err(e) => return self.fail(format!("bad header block: {e}")),
            };
            let (mut meta, len) = match warc::parser::headers(&block) {
                Ok((_, (_version, headers, len))) => (parse_meta(&headers), len),
                Err(_) => return self.fail("unparsable header block".into()),
            };
            meta.max_payload = self.max;
            let wanted = matches!(meta.warc_type.as_str(), "response" | "resource");
            let len64 = len as u64;
            if !wanted || len > self.max {
                let skipped =
                    std::io::copy(&mut (&mut self.reader).take(len64), &mut std::io::sink());
                match skipped {
                    Ok(n) if n == len64 => {}
                    Ok(_) => return self.fail("truncated record body".into()),
                    Err(e) => return self.fail(format!("cannot read record body: {e}")),
                }
                if wanted {
                    return Some(Err(ItemError {
                        origin: self.origin(),
                        error: Error::TooLarge {
                            field: "WARC record",
                            limit: self.max,
                            actual: len,
                        },
                    }));
                }
                continue;
            }
            let mut body = Vec::with_capacity(len);
            match (&mut self.reader).take(len64).read_to_end(&mut body) {
                Ok(n) if n == len => {}
                Ok(_) => return self.fail("truncated record body".into()),
                Err(e) => return self.fail(format!("cannot read record body: {e}")),
            }
            if meta.record_id.is_empty() {
                return Some(Err(ItemError {
                    origin: self.origin(),
                    error: Error::invalid("WARC-Record-ID", "missing"),
                }));
            }
            return Some(Ok(Raw {
                origin: self.origin(),
                kind: RawKind::Warc(meta),
                bytes: body,
            }));
        }
        None
    }

    fn bytes_read(&self) -> u64 {
        self.read.load(Ordering::Relaxed)
    }

    fn total_bytes(&self) -> Option<u64> {
        self.total
    }
}

/// Most HTTP header lines parsed from a response head.
const MAX_HTTP_HEADERS: usize = 128;

/// The parts of an HTTP response the audit needs.
struct HttpResponse<'a> {
    status: u16,
    content_type: Option<String>,
    chunked: bool,
    encoding: Option<String>,
    body: &'a [u8],
}

fn parse_http(block: &[u8]) -> Result<HttpResponse<'_>> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HTTP_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let head_len = match response.parse(block) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            return Err(Error::Decode {
                what: "HTTP response",
                message: "incomplete head".into(),
            })
        }
        Err(e) => {
            return Err(Error::Decode {
                what: "HTTP response",
                message: e.to_string(),
            })
        }
    };
    let mut out = HttpResponse {
        status: response.code.unwrap_or(0),
        content_type: None,
        chunked: false,
        encoding: None,
        body: block.get(head_len..).unwrap_or_default(),
    };
    for h in response.headers.iter() {
        let value = || String::from_utf8_lossy(h.value).trim().to_ascii_lowercase();
        if h.name.eq_ignore_ascii_case("content-type") {
            out.content_type = Some(value());
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            out.chunked = value().contains("chunked");
        } else if h.name.eq_ignore_ascii_case("content-encoding") {
            let v = value();
            if !v.is_empty() && v != "identity" {
                out.encoding = Some(v);
            }
        }
    }
    Ok(out)
}

/// Undo `Transfer-Encoding: chunked`, reading at most `limit` bytes of payload.
fn dechunk(mut input: &[u8], limit: usize) -> Result<Vec<u8>> {
    let bad = |m: &str| Error::Decode {
        what: "chunked HTTP body",
        message: m.to_string(),
    };
    let mut out = Vec::new();
    loop {
        let eol = input
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| bad("missing chunk size line"))?;
        let size_line = std::str::from_utf8(&input[..eol]).map_err(|_| bad("bad size line"))?;
        let size_hex = size_line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_hex, 16).map_err(|_| bad("bad chunk size"))?;
        input = &input[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        // Saturating: a size line may say up to 2^64 - 1.
        let total = out.len().saturating_add(size);
        if total > limit {
            return Err(Error::TooLarge {
                field: "HTTP body",
                limit,
                actual: total,
            });
        }
        let chunk = input.get(..size).ok_or_else(|| bad("truncated chunk"))?;
        out.extend_from_slice(chunk);
        input = input.get(size..).unwrap_or_default();
        input = input.strip_prefix(b"\r\n").unwrap_or(input);
    }
}

/// Undo `Content-Encoding`, never producing more than `limit` bytes.
fn decompress(body: &[u8], encoding: &str, limit: usize) -> Result<Option<Vec<u8>>> {
    let mut out = Vec::new();
    let limit64 = limit as u64 + 1;
    let result = match encoding {
        "gzip" | "x-gzip" => flate2::read::MultiGzDecoder::new(body)
            .take(limit64)
            .read_to_end(&mut out),
        "deflate" => {
            // Servers send both zlib-wrapped and raw deflate under this name.
            let zlib = flate2::read::ZlibDecoder::new(body)
                .take(limit64)
                .read_to_end(&mut out);
            match zlib {
                Ok(n) => Ok(n),
                Err(_) => {
                    out.clear();
                    flate2::read::DeflateDecoder::new(body)
                        .take(limit64)
                        .read_to_end(&mut out)
                }
            }
        }
        _ => return Ok(None),
    };
    result.map_err(|e| Error::Decode {
        what: "HTTP body",
        message: format!("{encoding}: {e}"),
    })?;
    if out.len() > limit {
        return Err(Error::TooLarge {
            field: "HTTP body",
            limit,
            actual: out.len(),
        });
    }
    Ok(Some(out))
}

/// What a `Content-Type` says the payload is: Some(true) HTML, Some(false) plain text, None
/// neither (images, scripts, PDFs, …). A missing type is sniffed from the payload.
fn payload_kind(content_type: Option<&str>, payload: &[u8]) -> Option<bool> {
    match content_type {
        Some(ct) if ct.contains("html") => Some(true),
        Some(ct) if ct.starts_with("text/plain") => Some(false),
        Some(ct) if !ct.is_empty() => None,
        _ => {
            let start = payload
                .iter()
                .position(|b| !b.is_ascii_whitespace())
                .unwrap_or(payload.len());
            payload[start..].starts_with(b"<").then_some(true)
        }
    }
}

/// The encoding named by a `Content-Type`'s `charset` parameter (e.g. `text/html;
/// charset=windows-1256`), if it is one the WHATWG Encoding Standard knows.
fn charset_of(content_type: &str) -> Option<&'static encoding_rs::Encoding> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        let label = value.trim().trim_matches(['"', '\'']);
        encoding_rs::Encoding::for_label(label.as_bytes())
    })
}

/// Apply the charset the transport declared to a payload, as the HTML standard orders it: a
/// BOM first, then the transport's charset, then the page's own `<meta charset>`. The page is
/// re-encoded as UTF-8 behind a UTF-8 BOM, which the HTML decoder honours before any `<meta>`
/// (and the text path strips). Left as sent: a payload with a BOM, plain ASCII, a charset that
/// is UTF-8 or not ASCII-compatible (UTF-16 without a BOM), and bytes that are valid UTF-8
/// beyond ASCII under a single-byte label (UTF-8 in practice, the decoder's own rule for
/// `<meta>`). Those cases are left to the decoder's own BOM / `<meta>` / sniffing steps.
fn apply_charset(payload: Vec<u8>, content_type: Option<&str>) -> Vec<u8> {
    let Some(enc) = content_type.and_then(charset_of) else {
        return payload;
    };
    if enc == encoding_rs::UTF_8
        || !enc.is_ascii_compatible()
        || payload.is_ascii()
        || encoding_rs::Encoding::for_bom(&payload).is_some()
        || (enc.is_single_byte() && std::str::from_utf8(&payload).is_ok())
    {
        return payload;
    }
    let (text, _) = enc.decode_without_bom_handling(&payload);
    let mut out = Vec::with_capacity(3 + text.len());
    out.extend_from_slice(b"\xEF\xBB\xBF");
    out.extend_from_slice(text.as_bytes());
    out
}

/// Host of a URI (`https://www.example.com:8080/a` → `www.example.com`).
pub(crate) fn host_of(uri: &str) -> Option<String> {
    let rest = uri.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    let host = if host.starts_with('[') {
        host.split(']').next().map(|h| format!("{h}]"))?
    } else {
        host.split(':').next()?.to_string()
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// Turn one WARC record block into a document (or a reason to skip it).
pub fn decode(meta: WarcMeta, block: Vec<u8>) -> Result<Decoded> {
    let limit = match meta.max_payload {
        0 => super::source::DEFAULT_MAX_ITEM_BYTES,
        n => n,
    }
    .max(block.len());
    let (content_type, payload): (Option<String>, Vec<u8>) = if meta.warc_type == "response" {
        let is_http = meta
            .content_type
            .as_deref()
            .is_none_or(|ct| ct.to_ascii_lowercase().contains("http"));
        if !is_http {
            return Ok(Decoded::Skip("non-HTTP response record"));
        }
        let http = parse_http(&block)?;
        if !(200..300).contains(&http.status) {
            return Ok(Decoded::Skip("HTTP status not 2xx"));
        }
        let body = if http.chunked {
            dechunk(http.body, limit)?
        } else {
            http.body.to_vec()
        };
        let body = match &http.encoding {
            None => body,
            Some(enc) => match decompress(&body, enc, limit)? {
                Some(b) => b,
                None => return Ok(Decoded::Skip("unsupported Content-Encoding")),
            },
        };
        (http.content_type, body)
    } else {
        (
            meta.content_type.clone().map(|c| c.to_ascii_lowercase()),
            block,
        )
    };
    let Some(html) = payload_kind(content_type.as_deref(), &payload) else {
        return Ok(Decoded::Skip("not HTML or text"));
    };
    if payload.iter().all(u8::is_ascii_whitespace) {
        return Ok(Decoded::Skip("empty payload"));
    }
    let payload = apply_charset(payload, content_type.as_deref());
    let source = meta.target_uri.as_deref().and_then(host_of);
    Ok(Decoded::Doc(Document {
        id: meta.record_id,
        content: if html {
            Content::Html(payload)
        } else {
            Content::Text(into_text(payload))
        },
        source,
        url: meta.target_uri,
        published_at: meta.date,
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn record(kind: &str, id: &str, ct: &str, body: &[u8]) -> Vec<u8> {
        let mut r = format!(
            "WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Record-ID: {id}\r\nWARC-Date: 2024-05-01T10:00:00Z\r\nWARC-Target-URI: https://News.example.org:443/a?b\r\nContent-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        r.extend_from_slice(body);
        r.extend_from_slice(b"\r\n\r\n");
        r
    }

    fn source_of(bytes: Vec<u8>, max: usize) -> WarcSource {
        WarcSource::from_reader(
            "mem",
            Box::new(std::io::Cursor::new(bytes)),
            &SourceOptions {
                max_item_bytes: max,
            },
        )
    }

    #[test]
    fn responses_become_documents_and_other_records_are_passed_over() {
        let mut bytes = record(
            "warcinfo",
            "<urn:info>",
            "application/warc-fields",
            b"x: y\r\n",
        );
        bytes.extend(record(
            "response",
            "<urn:1>",
            "application/http; msgtype=response",
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hello</p>",
        ));
        bytes.extend(record(
            "response",
            "<urn:2>",
            "application/http; msgtype=response",
            b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\n\r\n<p>gone</p>",
        ));
        let mut src = source_of(bytes, 1 << 20);
        let first = src.next_raw().unwrap().unwrap();
        assert_eq!(first.origin, "mem#record 2");
        match first.decode().unwrap() {
            Decoded::Doc(d) => {
                assert_eq!(d.id, "<urn:1>");
                assert_eq!(d.source.as_deref(), Some("news.example.org"));
                assert_eq!(d.url.as_deref(), Some("https://News.example.org:443/a?b"));
                assert_eq!(d.published_at, Some(1_714_557_600));
                assert_eq!(d.content, Content::Html(b"<p>Hello</p>".to_vec()));
            }
            other => panic!("expected a document, got {other:?}"),
        }
        let second = src.next_raw().unwrap().unwrap();
        assert!(matches!(
            second.decode().unwrap(),
            Decoded::Skip("HTTP status not 2xx")
        ));
        assert!(src.next_raw().is_none());
    }

    #[test]
    fn chunked_and_gzip_bodies_are_decoded() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"<p>compressed page</p>").unwrap();
        let gz = gz.finish().unwrap();
        let mut chunked = format!("{:x}\r\n", 5).into_bytes();
        chunked.extend_from_slice(&gz[..5]);
        chunked.extend_from_slice(format!("\r\n{:x};ext=1\r\n", gz.len() - 5).as_bytes());
        chunked.extend_from_slice(&gz[5..]);
        chunked.extend_from_slice(b"\r\n0\r\n\r\n");
        let mut http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n".to_vec();
        http.extend(chunked);
        let doc = decode(
            WarcMeta {
                warc_type: "response".into(),
                record_id: "r".into(),
                ..Default::default()
            },
            http,
        )
        .unwrap();
        assert!(
            matches!(doc, Decoded::Doc(d) if d.content == Content::Html(b"<p>compressed page</p>".to_vec()))
        );
    }

    #[test]
    fn decompression_stops_at_the_limit() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&[b'a'; 100_000]).unwrap();
        let gz = gz.finish().unwrap();
        assert!(gz.len() < 1_000);
        let err = decompress(&gz, "gzip", 10_000).unwrap_err();
        assert!(matches!(err, Error::TooLarge { limit: 10_000, .. }));
        assert_eq!(decompress(&gz, "br", 10).unwrap(), None);
    }

    #[test]
    fn a_chunk_size_near_usize_max_is_refused_not_overflowed() {
        // Spotted while writing the `warc` fuzz target (random runs had not reached it): a
        // chunk after the first with size 2^64 - 1 made `out.len() + size` overflow (a panic
        // with overflow checks).
        let body = b"1\r\na\r\nffffffffffffffff\r\nb\r\n0\r\n\r\n";
        let err = dechunk(body, 1 << 20).unwrap_err();
        assert!(
            matches!(err, Error::TooLarge { limit, actual: usize::MAX, .. } if limit == 1 << 20),
            "{err}"
        );
        let err = dechunk(b"ffffffffffffffff\r\nb\r\n0\r\n\r\n", 1 << 20).unwrap_err();
        assert!(matches!(err, Error::TooLarge { .. }), "{err}");
    }

    #[test]
    fn oversized_records_are_skipped_without_losing_the_framing() {
        let mut bytes = record("response", "<urn:big>", "application/http", &[b'a'; 200]);
        bytes.extend(record(
            "resource",
            "<urn:small>",
            "text/plain",
            b"plain words",
        ));
        let mut src = source_of(bytes, 100);
        let err = src.next_raw().unwrap().unwrap_err();
        assert!(matches!(err.error, Error::TooLarge { actual: 200, .. }));
        let ok = src.next_raw().unwrap().unwrap();
        assert!(
            matches!(ok.decode().unwrap(), Decoded::Doc(d) if d.content == Content::Text("plain words".into()))
        );
        assert!(src.next_raw().is_none());
    }

    #[test]
    fn garbage_and_truncation_end_the_file_with_one_error() {
        for bytes in [
            b"this is not a warc file\r\n\r\n".to_vec(),
            record(
                "response",
                "<urn:t>",
                "application/http",
                b"HTTP/1.1 200 OK\r\n\r\nabc",
            )[..120]
                .to_vec(),
        ] {
            let mut src = source_of(bytes, 1 << 20);
            let err = src.next_raw().unwrap().unwrap_err();
            assert!(
                err.to_string().contains("rest of the file is skipped"),
                "{err}"
            );
            assert!(src.next_raw().is_none());
        }
    }

    #[test]
    fn the_http_charset_decodes_legacy_pages_and_wins_over_meta() {
        // Windows-1256 Arabic under a page that wrongly declares windows-1252.
        let (arabic, _, _) = encoding_rs::WINDOWS_1256.encode("مرحبا بالعالم");
        let mut body = b"<meta charset=windows-1252><p>".to_vec();
        body.extend_from_slice(&arabic);
        body.extend_from_slice(b"</p>");
        let decoded = |ct: &str, payload: &[u8]| {
            let mut http = format!("HTTP/1.1 200 OK\r\nContent-Type: {ct}\r\n\r\n").into_bytes();
            http.extend_from_slice(payload);
            let meta = WarcMeta {
                warc_type: "response".into(),
                record_id: "r".into(),
                ..Default::default()
            };
            match decode(meta, http).unwrap() {
                Decoded::Doc(d) => d.content,
                other => panic!("expected a document, got {other:?}"),
            }
        };
        let Content::Html(page) = decoded("text/html; charset=\"Windows-1256\"", &body) else {
            panic!("html expected");
        };
        let text = crate::boilerplate::html::decode(&page);
        assert!(text.contains("<p>مرحبا بالعالم</p>"), "{text}");
        // Without the HTTP charset the page's (wrong) declaration is all there is.
        let Content::Html(page) = decoded("text/html", &body) else {
            panic!("html expected");
        };
        assert!(!crate::boilerplate::html::decode(&page).contains("مرحبا"));
        // Plain text in ISO-8859-1.
        let (latin, _, _) = encoding_rs::WINDOWS_1252.encode("Café in Zürich");
        assert_eq!(
            decoded("text/plain; charset=iso-8859-1", &latin),
            Content::Text("Café in Zürich".into())
        );
        // Left alone: UTF-8 bytes under a legacy label, unknown labels, ASCII.
        let utf8 = "<p>Café</p>".as_bytes();
        assert_eq!(
            decoded("text/html; charset=iso-8859-1", utf8),
            Content::Html(utf8.to_vec())
        );
        assert_eq!(
            decoded("text/html; charset=no-such-thing", &body),
            Content::Html(body.clone())
        );
        assert_eq!(
            charset_of("text/html;charset=utf-8"),
            Some(encoding_rs::UTF_8)
        );
        assert_eq!(charset_of("text/html; format=x"), None);
    }

    #[test]
    fn hosts_are_extracted() {
        assert_eq!(host_of("http://a.b/c").as_deref(), Some("a.b"));
        assert_eq!(host_of("https://u:p@X.org:8/").as_deref(), Some("x.org"));
        assert_eq!(host_of("http://[::1]:80/").as_deref(), Some("[::1]"));
        assert_eq!(host_of("no scheme"), None);
    }
}
