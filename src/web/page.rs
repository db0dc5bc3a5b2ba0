//! Cached pages as they are sent: the same text for every reader of a class, with each reader's
//! own parts (account links, who is signed in, the banner) put in at their markers on every
//! request. A page is kept with its parts between the markers already compressed, so that a
//! browser that accepts gzip (every browser does) is sent a gzip stream stitched from them
//! without compressing anything per request: each part is a raw deflate stream that ends on a
//! byte boundary (a full flush, no final block), the reader's own parts go in as stored
//! (uncompressed) deflate blocks, and an empty final block, the CRC-32 of the whole text and its
//! length close the one gzip member (RFC 1951 §3.2.4, RFC 1952). A reader that does not accept
//! gzip gets the text.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// The markers of a reader's own parts, in the order of `Page::parts`.
pub const MARKERS: [&str; 3] = ["<!--account-->", "<!--who-->", "<!--banner-->"];

/// A rendered page as kept in the cache.
pub struct CachedPage {
    html: String,
    /// Where the first of each marker is, in page order: (offset, length, which part).
    slots: Vec<(usize, usize, usize)>,
    /// The text before, between and after the slots, each compressed on its own.
    deflated: Vec<Deflated>,
}

struct Deflated {
    bytes: Vec<u8>,
    crc: crc32fast::Hasher,
}

impl CachedPage {
    /// The page, split at its markers and each piece compressed (once, when it is cached).
    pub fn new(html: String) -> Self {
        let slots = slots_of(&html);
        let deflated = pieces(&html, &slots).map(|piece| deflate(piece.as_bytes())).collect();
        Self { html, slots, deflated }
    }

    /// The page's text, with the reader's parts in place.
    pub fn text(&self, parts: &[String; 3]) -> String {
        fill(&self.html, &self.slots, parts)
    }

    /// The page's text with the reader's parts in place, as one gzip member.
    pub fn gzip(&self, parts: &[String; 3]) -> Vec<u8> {
        let size: usize = self.deflated.iter().map(|d| d.bytes.len()).sum::<usize>()
            + parts.iter().map(|p| p.len() + 5 * (p.len() / 65_535 + 1)).sum::<usize>();
        let mut out = Vec::with_capacity(size + 20);
        // ID1 ID2, deflate, no flags, no time, no extra flags, an unknown system.
        out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
        let mut crc = crc32fast::Hasher::new();
        let mut length: u64 = 0;
        for (i, d) in self.deflated.iter().enumerate() {
            out.extend_from_slice(&d.bytes);
            crc.combine(&d.crc);
            if let Some(&(_, _, part)) = self.slots.get(i) {
                stored(&mut out, parts[part].as_bytes());
                crc.update(parts[part].as_bytes());
                length += parts[part].len() as u64;
            }
        }
        length += (self.html.len() - self.slots.iter().map(|s| s.1).sum::<usize>()) as u64;
        // The final block: fixed codes, holding only its end.
        out.extend_from_slice(&[0x03, 0x00]);
        out.extend_from_slice(&crc.finalize().to_le_bytes());
        out.extend_from_slice(&(length as u32).to_le_bytes());
        out
    }
}

/// Where the first of each marker is in `html`, in page order: (offset, length, which part). A
/// marker inside another's place is left as it is.
pub fn slots_of(html: &str) -> Vec<(usize, usize, usize)> {
    let mut slots: Vec<(usize, usize, usize)> = MARKERS
        .iter()
        .enumerate()
        .filter_map(|(part, marker)| html.find(marker).map(|at| (at, marker.len(), part)))
        .collect();
    slots.sort_unstable();
    let mut end = 0;
    slots.retain(|&(at, len, _)| {
        let keep = at >= end;
        if keep {
            end = at + len;
        }
        keep
    });
    slots
}

/// `html` with `parts` in place of its `slots`, in one copy.
pub fn fill(html: &str, slots: &[(usize, usize, usize)], parts: &[String; 3]) -> String {
    let extra: usize = parts.iter().map(String::len).sum();
    let mut out = String::with_capacity(html.len() + extra);
    for (i, piece) in pieces(html, slots).enumerate() {
        out.push_str(piece);
        if let Some(&(_, _, part)) = slots.get(i) {
            out.push_str(&parts[part]);
        }
    }
    out
}

/// The text before, between and after `slots`.
fn pieces<'a>(html: &'a str, slots: &'a [(usize, usize, usize)]) -> impl Iterator<Item = &'a str> + 'a {
    let starts = std::iter::once(0).chain(slots.iter().map(|(at, len, _)| at + len));
    let ends = slots.iter().map(|(at, _, _)| *at).chain(std::iter::once(html.len()));
    starts.zip(ends).map(move |(from, to)| &html[from..to])
}

/// `data` as raw deflate blocks ending on a byte boundary, without a final block.
fn deflate(data: &[u8]) -> Deflated {
    use flate2::{Compress, Compression, FlushCompress};
    let mut c = Compress::new(Compression::default(), false);
    let mut bytes = Vec::with_capacity(data.len() / 4 + 64);
    loop {
        let read = c.total_in() as usize;
        bytes.reserve((data.len() - read) / 2 + 1024);
        c.compress_vec(&data[read..], &mut bytes, FlushCompress::Full).expect("deflate into memory does not fail");
        // A flush is complete when it leaves room in the output.
        if c.total_in() as usize == data.len() && bytes.len() < bytes.capacity() {
            break;
        }
    }
    let mut crc = crc32fast::Hasher::new();
    crc.update(data);
    Deflated { bytes, crc }
}

/// `data` as stored (uncompressed) deflate blocks, none final.
fn stored(out: &mut Vec<u8>, data: &[u8]) {
    for chunk in data.chunks(65_535) {
        let len = chunk.len() as u16;
        out.push(0);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
}

/// A cached page for one reader: sent by `send`, which knows what the request accepts.
#[derive(Clone)]
pub struct Page {
    pub cached: Arc<CachedPage>,
    pub parts: Arc<[String; 3]>,
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let mut response = Response::new(Body::empty());
        response.extensions_mut().insert(self);
        response
    }
}

/// Whether `accept` (an Accept-Encoding header) takes gzip: named, or `*`, with a weight above 0.
fn accepts_gzip(accept: &str) -> bool {
    accept.split(',').any(|coding| {
        let mut parts = coding.split(';').map(str::trim);
        let name = parts.next().unwrap_or("");
        let weight = parts
            .find_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")))
            .map_or(1.0, |q| q.trim().parse::<f64>().unwrap_or(0.0));
        (name.eq_ignore_ascii_case("gzip") || name == "*") && weight > 0.0
    })
}

/// Gives a cached page its body: gzip when the request accepts it, the text otherwise.
pub async fn send(request: Request, next: Next) -> Response {
    let gzip = request.headers().get_all(header::ACCEPT_ENCODING).iter().any(|v| v.to_str().is_ok_and(accepts_gzip));
    let mut response = next.run(request).await;
    let Some(page) = response.extensions_mut().remove::<Page>() else { return response };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if gzip {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        *response.body_mut() = Body::from(page.cached.gzip(&page.parts));
    } else {
        *response.body_mut() = Body::from(page.cached.text(&page.parts));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gunzip(bytes: &[u8]) -> String {
        let mut out = String::new();
        flate2::read::GzDecoder::new(bytes).read_to_string(&mut out).expect("a valid gzip member");
        out
    }

    #[test]
    fn the_stitched_gzip_is_the_page_with_the_parts() {
        let body = "<p>é</p>".repeat(20_000);
        let html = format!("<header><!--account--></header><!--who-->{body}<!--banner--><main>{body}</main>");
        let page = CachedPage::new(html);
        let long = "x".repeat(70_000); // more than one stored block
        let parts = ["<a>me</a>".to_string(), long, String::new()];
        let text = page.text(&parts);
        assert_eq!(text, format!("<header><a>me</a></header>{}{body}<main>{body}</main>", parts[1]));
        let gz = page.gzip(&parts);
        assert_eq!(gunzip(&gz), text);
        assert!(gz.len() < text.len() / 2, "the page is compressed: {} of {}", gz.len(), text.len());
    }

    #[test]
    fn pages_without_markers_or_with_repeats_keep_them_as_text() {
        for html in ["no markers", "<!--who--><!--who-->", "<!--banner-->x<!--account-->", ""] {
            let page = CachedPage::new(html.to_string());
            let parts = ["A".to_string(), "W".to_string(), "B".to_string()];
            assert_eq!(gunzip(&page.gzip(&parts)), page.text(&parts), "{html}");
        }
        let page = CachedPage::new("<!--who--><!--who-->".into());
        assert_eq!(page.text(&[String::new(), "W".into(), String::new()]), "W<!--who-->");
    }

    #[test]
    fn gzip_is_taken_when_named_or_starred_with_a_weight() {
        assert!(accepts_gzip("gzip, deflate, br, zstd"));
        assert!(accepts_gzip("br;q=1.0, GZIP;q=0.5"));
        assert!(accepts_gzip("*"));
        assert!(!accepts_gzip("gzip;q=0"));
        assert!(!accepts_gzip("identity"));
        assert!(!accepts_gzip("br, deflate"));
    }
}
