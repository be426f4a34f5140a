//! oslo.log-style log lines:
//! `2026-01-01 12:00:00.123 4321 INFO identity.api.tokens [req-… user project] message`.
//!
//! The request part comes from the enclosing `request` span (see [`crate::request_id`]):
//! its `request_id`, `user_id` and `project_id` fields, which the auth layer records once the
//! token is known. Outside a request the brackets read `[- - -]`.

use std::fmt::Write as _;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Record};
use tracing::{Event, Id, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// Request identity carried by a span, filled in as it becomes known.
#[derive(Debug, Default, Clone)]
struct RequestIdentity {
    request_id: Option<String>,
    user_id: Option<String>,
    project_id: Option<String>,
}

impl Visit for RequestIdentity {
    fn record_str(&mut self, field: &Field, value: &str) {
        let slot = match field.name() {
            "request_id" => &mut self.request_id,
            "user_id" => &mut self.user_id,
            "project_id" => &mut self.project_id,
            _ => return,
        };
        *slot = Some(value.to_string());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }
}

/// Keeps each span's [`RequestIdentity`] in its extensions.
struct RequestIdentityLayer;

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for RequestIdentityLayer {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut identity = RequestIdentity::default();
        attrs.record(&mut identity);
        if identity.request_id.is_some() {
            if let Some(span) = ctx.span(id) {
                span.extensions_mut().insert(identity);
            }
        }
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            if let Some(identity) = span.extensions_mut().get_mut::<RequestIdentity>() {
                values.record(identity);
            }
        }
    }
}

/// Formats events as oslo.log does.
struct OsloFormat {
    pid: u32,
}

impl<S, N> FormatEvent<S, N> for OsloFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let now = chrono::Local::now().format("%Y-%m-%d %H:%M:%S%.3f");
        let meta = event.metadata();
        let identity = ctx.event_scope().and_then(|scope| {
            scope.from_root().find_map(|span| span.extensions().get::<RequestIdentity>().cloned())
        });
        let (req, user, project) = match &identity {
            Some(i) => (
                i.request_id.as_deref().unwrap_or("-"),
                i.user_id.as_deref().unwrap_or("-"),
                i.project_id.as_deref().unwrap_or("-"),
            ),
            None => ("-", "-", "-"),
        };
        write!(
            writer,
            "{now} {} {} {} [{req} {user} {project}] ",
            self.pid,
            meta.level(),
            module_name(meta.target())
        )?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// `monostack_identity::api::tokens` → `identity.api.tokens`.
fn module_name(target: &str) -> String {
    let trimmed = target.strip_prefix("monostack_").unwrap_or(target);
    let mut out = String::with_capacity(trimmed.len());
    for (i, part) in trimmed.split("::").enumerate() {
        if i > 0 {
            out.push('.');
        }
        let _ = out.write_str(part);
    }
    out
}

/// Installs the global subscriber. `debug` lowers the level; `RUST_LOG` refines it.
pub fn init(debug: bool, log_file: Option<&std::path::Path>) -> anyhow::Result<()> {
    use tracing_subscriber::prelude::*;
    let default = if debug { "debug,sqlx=warn,hyper=info" } else { "info,sqlx=warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let format = OsloFormat { pid: std::process::id() };
    let registry = tracing_subscriber::registry().with(RequestIdentityLayer).with(filter);
    match log_file {
        Some(path) => {
            let file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
            let fmt = tracing_subscriber::fmt::layer()
                .event_format(format)
                .with_writer(std::sync::Mutex::new(file));
            registry.with(fmt).try_init()?;
        }
        None => {
            let fmt = tracing_subscriber::fmt::layer()
                .event_format(format)
                .with_writer(std::io::stderr);
            registry.with(fmt).try_init()?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn module_names_read_like_openstack() {
        assert_eq!(super::module_name("monostack_identity::api::tokens"), "identity.api.tokens");
        assert_eq!(super::module_name("hyper"), "hyper");
    }
}
