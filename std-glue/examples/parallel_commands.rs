//! Runs a few commands at once from plain synchronous `main` and prints each
//! one's output in the order the commands were given, whichever finishes
//! first (the slowest is listed first on purpose).
//!
//! The Python helpers' "run a few commands in parallel": `minirt::run`
//! drives all the futures on this thread; each child's exit and pipes are
//! reactor events, so no thread waits per command.

#[cfg(unix)]
fn main() {
    use std::future::Future;
    use std::pin::Pin;

    use minirt::process::Command;

    type Job = Pin<Box<dyn Future<Output = (String, std::io::Result<std::process::Output>)>>>;

    fn job(name: &str, script: &str) -> Job {
        let (name, script) = (name.to_string(), script.to_string());
        Box::pin(async move {
            let output = Command::new("sh").args(["-c", &script]).output().await;
            (name, output)
        })
    }

    let jobs = vec![
        job("slow", "sleep 0.2; echo slow done"),
        job("count", "printf '%s\\n' 1 2 3 | wc -l | tr -d ' '"),
        job("fails", "echo oops >&2; exit 3"),
    ];
    for (name, output) in minirt::run(jobs) {
        match output {
            Ok(out) => {
                if !out.stdout.is_empty() {
                    print!("{name}: {}", String::from_utf8_lossy(&out.stdout));
                }
                if !out.stderr.is_empty() {
                    print!("{name} (stderr): {}", String::from_utf8_lossy(&out.stderr));
                }
                println!("{name}: exit {:?}", out.status.code());
            }
            Err(err) => println!("{name}: {err}"),
        }
    }
}

#[cfg(not(unix))]
fn main() {
    println!("minirt::process is Unix-only for now");
}
