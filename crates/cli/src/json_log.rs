//! JSON log lines, one flat object per event: `timestamp`, `level`, the event's fields
//! (`message` among them), `target`. Written straight into the line, with serde_json's string
//! escaping: tracing-subscriber's own JSON formatter builds a map of values per event first,
//! which cost the token endpoint a tenth of its throughput with an access line per request
//! (docs/BENCHMARKS.md). Spans are not written; the server's events carry what they need.

use std::fmt;
use std::io::Write as _;

use serde::Serializer as _;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

pub struct FlatJson;

impl<S, N> FormatEvent<S, N> for FlatJson
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
    N: for<'writer> FormatFields<'writer> + 'static,
{
    fn format_event(
        &self,
        _context: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut timestamp = String::with_capacity(32);
        SystemTime.format_time(&mut Writer::new(&mut timestamp))?;
        let mut line = Line(Vec::with_capacity(256));
        line.0.push(b'{');
        line.string("timestamp", &timestamp);
        line.string("level", event.metadata().level().as_str());
        event.record(&mut line);
        line.string("target", event.metadata().target());
        line.0.extend_from_slice(b"}\n");
        writer.write_str(std::str::from_utf8(&line.0).map_err(|_| fmt::Error)?)
    }
}

/// One JSON object being written, as UTF-8.
struct Line(Vec<u8>);

impl Line {
    fn key(&mut self, key: &str) {
        if self.0.last() != Some(&b'{') {
            self.0.push(b',');
        }
        self.quoted(key);
        self.0.push(b':');
    }

    /// `text` as a JSON string, escaped by serde_json straight into the line.
    fn quoted(&mut self, text: &str) {
        let _ = serde_json::Serializer::new(&mut self.0).serialize_str(text);
    }

    fn string(&mut self, key: &str, value: &str) {
        self.key(key);
        self.quoted(value);
    }

    fn raw(&mut self, key: &str, value: impl fmt::Display) {
        self.key(key);
        let _ = write!(self.0, "{value}");
    }
}

impl Visit for Line {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.string(field.name(), value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.key(field.name());
        let _ = serde_json::Serializer::new(&mut self.0).serialize_i64(value);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.key(field.name());
        let _ = serde_json::Serializer::new(&mut self.0).serialize_u64(value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.raw(field.name(), value);
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if value.is_finite() {
            self.key(field.name());
            let _ = serde_json::Serializer::new(&mut self.0).serialize_f64(value);
        } else {
            self.string(field.name(), &value.to_string());
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.string(field.name(), &value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.string(field.name(), &format!("{value:?}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn lines_are_one_json_object_with_escaped_fields() {
        let buffer = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
        let sink = std::sync::Arc::clone(&buffer);
        let subscriber = tracing_subscriber::fmt()
            .event_format(FlatJson)
            .with_writer(move || SinkWriter(std::sync::Arc::clone(&sink)))
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(
                target: "coupa::access",
                route = "/api/{object}",
                status = 200u16,
                latency_ms = 1.5,
                client_id = Some("a\"b\\c\n"),
                missing = None::<&str>,
                failed = false,
                delta = -3i64,
                "request"
            );
        });
        let text = String::from_utf8(buffer.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        let line: Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(line["message"], "request");
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["target"], "coupa::access");
        assert_eq!(line["route"], "/api/{object}");
        assert_eq!(line["status"], 200);
        assert_eq!(line["latency_ms"], 1.5);
        assert_eq!(line["client_id"], "a\"b\\c\n");
        assert_eq!(line["failed"], false);
        assert_eq!(line["delta"], -3);
        assert!(line.get("missing").is_none());
        assert!(line["timestamp"].as_str().unwrap().ends_with('Z'));
    }

    struct SinkWriter(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for SinkWriter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}
