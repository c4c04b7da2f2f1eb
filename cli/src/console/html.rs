//! HTML building blocks: escaping, the time of day, and the frame every page shares
//! (navigation, connection state, read-only or token field).

use std::fmt::Write;

use super::snapshot::Problem;
use super::state::Console;

/// Hours, minutes and seconds (UTC) of an instant in milliseconds since the
/// Unix epoch.
pub fn clock(ms: u64) -> String {
    let s = ms / 1000;
    format!("{:02}:{:02}:{:02}", s / 3600 % 24, s / 60 % 60, s % 60)
}

/// Escapes text for HTML and XML (content and quoted attributes).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The pages, for the navigation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    /// `/`.
    Cluster,
    /// `/live`.
    Live,
    /// `/timeline`.
    Timeline,
    /// `/docs`.
    Docs,
}

impl Nav {
    fn name(self) -> &'static str {
        match self {
            Nav::Cluster => "cluster",
            Nav::Live => "live",
            Nav::Timeline => "timeline",
            Nav::Docs => "docs",
        }
    }
}

/// The text of the disconnected banner.
pub fn problem_text(problem: &Problem, read_ms: Option<u64>) -> String {
    let shown = match read_ms {
        Some(ms) => format!("showing the state as of {} UTC", clock(ms)),
        None => "nothing read yet".to_owned(),
    };
    format!(
        "disconnected since {} UTC: {}; {shown}; reconnecting by itself",
        clock(problem.since_ms),
        problem.detail
    )
}

/// A whole page: the frame around `body`.
pub fn page(c: &Console, nav: Nav, title: &str, problem: Option<String>, body: &str) -> String {
    let mut links = String::new();
    for (n, href, label) in [
        (Nav::Cluster, "/", "Cluster"),
        (Nav::Live, "/live", "Live"),
        (Nav::Timeline, "/timeline", "Timeline"),
        (Nav::Docs, "/docs", "API"),
    ] {
        let class = if n == nav { r#" class="active""# } else { "" };
        let _ = write!(links, r#"<a href="{href}"{class}>{label}</a>"#);
    }
    let mode = if c.auth.writable() {
        r#"<span class="badge writes">writes enabled</span>
<label class="token">token <input id="token" type="password" autocomplete="off" placeholder="needed for operations"></label>"#
    } else {
        r#"<span class="badge readonly" title="start the console with --allow-writes and a token to allow operations">read-only</span>"#
    };
    let (conn_class, conn_text) = if problem.is_some() {
        ("bad", "disconnected")
    } else {
        ("ok", "connected")
    };
    let hidden = if problem.is_some() { "" } else { " hidden" };
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · tenure console · {cluster}</title>
<link rel="stylesheet" href="/assets/console.css">
</head>
<body data-page="{page}" data-writes="{writes}">
<header>
<span class="brand">tenure</span>
<span class="where">cluster <b>{cluster}</b> on {backend} {servers}</span>
<nav>{links}</nav>
<span id="conn" class="badge {conn_class}">{conn_text}</span>
{mode}
</header>
<div id="banner" class="banner" role="alert"{hidden}>{banner}</div>
<div id="message" role="status"></div>
<main>
{body}
</main>
<script src="/assets/console.js"></script>
</body>
</html>
"#,
        cluster = escape(&c.cluster),
        backend = escape(c.backend),
        servers = escape(&c.servers),
        page = nav.name(),
        writes = c.auth.writable(),
        banner = escape(problem.as_deref().unwrap_or("")),
    )
}

/// The connection state a refreshed fragment carries for the script.
pub fn state_marker(problem: Option<&str>, read_ms: Option<u64>) -> String {
    format!(
        r#"<div id="state" hidden data-connected="{}" data-problem="{}" data-read="{}"></div>"#,
        problem.is_none(),
        escape(problem.unwrap_or("")),
        read_ms.map(clock).unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn clock_is_utc_time_of_day() {
        assert_eq!(clock(3_723_000), "01:02:03");
        assert_eq!(clock(86_400_000 + 5_000), "00:00:05");
    }
}
