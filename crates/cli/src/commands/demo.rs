//! `coupa demo`: the demo data set written straight into a database, with as many invoices
//! besides as a load test needs, behind a progress bar.

use std::time::Instant;

use coupa_server::{Config, ConfigLayer};

use crate::Failure;
use crate::opt::{DemoArgs, Output};
use crate::output;

pub async fn exec(args: DemoArgs, format: Output) -> Result<(), Failure> {
    let settings = ConfigLayer {
        database_url: Some(args.database_url.clone()),
        ..ConfigLayer::default()
    };
    let config = Config::resolve(settings, None).map_err(Failure::new)?;
    let unusable = |error: coupa_server::store::StoreError| {
        Failure::new(format!("{}: {error}", args.database_url))
            .hint("pass --database-url sqlite://PATH or postgres://USER@HOST/DB of a database you can write")
    };
    let store = coupa_server::store::open(config.database_url.as_str())
        .await
        .map_err(unusable)?;
    store
        .ensure_record_tables(&coupa_server::api::sql::create_tables)
        .await
        .map_err(unusable)?;
    let started = Instant::now();
    let loaded = coupa_server::demo::load(store.as_ref(), &config)
        .await
        .map_err(unusable)?;
    let bar = if format.is_json() || args.size == 0 {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(args.size)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} invoices, {per_sec}, {eta} left",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    coupa_server::demo::bulk_invoices(store.as_ref(), args.size, &|written| {
        bar.set_position(written);
    })
    .await
    .map_err(unusable)?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    if format.is_json() {
        output::json(&serde_json::json!({
            "database_url": args.database_url,
            "demo_data_loaded": loaded,
            "invoices_added": args.size,
            "seconds": (seconds * 1000.0).round() / 1000.0,
        }))
    } else {
        if loaded {
            outln!("loaded the demo data set into {}", args.database_url);
        } else {
            outln!("the demo data set was already in {}", args.database_url);
        }
        if args.size > 0 {
            outln!(
                "added {} invoices in {seconds:.1} s ({:.0} a second)",
                args.size,
                args.size as f64 / seconds.max(0.001)
            );
        }
        outln!("serve it: coupa serve --database-url {}", args.database_url);
        Ok(())
    }
}
