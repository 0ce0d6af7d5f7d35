//! Nested fan-out into one scope, like aioutils' `Group`: every child may
//! spawn more children into the same scope, and `join` waits for all of
//! them, however deep the fan-out goes.
//!
//! ```text
//! cargo run -p minirt --example group_fanout
//! ```
//!
//! The "crawler" below visits a small made-up site: each page spawns a child
//! per link it has not seen yet.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use minirt::scope::{Scope, ScopeHandle};

/// The links on each page of the pretend site.
fn links(page: &str) -> &'static [&'static str] {
    match page {
        "/" => &["/docs", "/blog"],
        "/docs" => &["/docs/intro", "/docs/api"],
        "/blog" => &["/blog/1", "/blog/2", "/docs"],
        "/docs/api" => &["/docs/api/scope", "/"],
        _ => &[],
    }
}

/// What each visit reports: the page and how many links it has.
type Visited = (&'static str, usize);

/// Visits `page` and spawns a sibling for every unseen link. (Boxed because
/// an `async fn` cannot name itself in its own body.)
fn visit(
    page: &'static str,
    group: ScopeHandle<'static, Visited>,
    seen: Arc<Mutex<HashSet<&'static str>>>,
) -> Pin<Box<dyn Future<Output = Visited> + Send>> {
    Box::pin(async move {
        minirt::yield_now().await; // pretend to download it
        let found = links(page);
        for &link in found {
            if seen.lock().unwrap().insert(link) {
                group.spawn(visit(link, group.clone(), seen.clone()));
            }
        }
        (page, found.len())
    })
}

fn main() -> std::io::Result<()> {
    let rt = minirt::Runtime::new()?;
    let pages = rt.block_on(async {
        let scope = Scope::new();
        let seen = Arc::new(Mutex::new(HashSet::from(["/"])));
        scope.spawn(visit("/", scope.handle(), seen));
        scope.join().await.expect("nothing cancels this scope")
    });
    // Spawn order: "/" first, then its links as they were discovered.
    for (page, n) in &pages {
        println!("{page:18} {n} links");
    }
    println!("crawled {} pages", pages.len());
    Ok(())
}
